"""PostgreSQL restarts while clients trade and read (a failover, an upgrade): while it is away every
request is answered 503 `service_unavailable` with Retry-After (never a 500), and as soon as it is
back the same server processes answer normally again, without a restart of their own. The server
here is pytest-django's live server (a threaded WSGI server) against the test database; the clients
are plain HTTP."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection

from tests.auth import api_token
from tests.trading.conftest import fund

pytestmark = pytest.mark.django_db(transaction=True)


def _cluster() -> list[str]:
    versions = sorted(os.path.basename(path) for path in glob.glob("/etc/postgresql/*"))
    if not versions or not shutil.which("pg_ctlcluster") or os.geteuid() != 0:
        pytest.skip("needs a local Debian PostgreSQL cluster this user may restart (pg_ctlcluster as root)")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _request(url: str, token: str, body: dict | None) -> tuple[int, dict, str | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Token {token}",
                                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}"), None
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = {"raw": payload[:200].decode(errors="replace")}
        return error.code, parsed, error.headers.get("Retry-After")


def test_requests_during_a_database_restart_are_503_and_service_resumes(live_server, company_a, trader_a,
                                                                         national_regulator, exchange_operator):
    cluster = _cluster()
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    token = api_token(trader_a)
    stop, seen, problems, lock = threading.Event(), Counter(), [], threading.Lock()

    def client(number: int) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            if sequence % 2:
                status, body, retry_after = _request(f"{live_server.url}/api/v1/orders/", token, {
                    "instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 1,
                    "client_order_id": f"restart-{number}-{sequence}"})
            else:
                status, body, retry_after = _request(f"{live_server.url}/api/v1/balances/", token, None)
            with lock:
                seen[status] += 1
                if status >= 500 and not (status == 503 and body.get("code") == "service_unavailable" and retry_after):
                    problems.append((status, body))
            time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        subprocess.run([*cluster, "stop", "-m", "fast"], check=True, capture_output=True)
        time.sleep(2)  # clients keep calling while the database is away
        subprocess.run([*cluster, "start"], check=True, capture_output=True)
        time.sleep(3)  # and after it is back
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        connection.close()  # this session died with the server; the next query reconnects
    assert not problems, problems[:5]
    assert seen[503] > 0, seen  # the outage was met
    assert seen[200] + seen[201] > 0, seen
    # Service resumed: after the restart the same live server answers normally again.
    status, body, _ = _request(f"{live_server.url}/api/v1/orders/", token, {
        "instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 1, "client_order_id": "after-restart"})
    assert status == 201, body
