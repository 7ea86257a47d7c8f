"""Redis goes away under order load and comes back: order entry keeps answering (no 5xx; the rate
limit fails open), run_matcher keeps matching (settlement it cannot queue is left for the sweep),
nothing accepted is lost, and once Redis is back the backlog of unsettled trades drains."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter

import pytest

from tests.factories import api_key_for
from tests.trading.conftest import fund
from trading.models import Order, Trade

from .conftest import free_port, sweep_until_drained, wait_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]


class Load:
    """Clients placing crossing orders (and reading the book) through the HTTP API until stopped."""

    def __init__(self, port: int, keys: list[str]) -> None:
        self.port, self.keys = port, keys
        self.stopping = threading.Event()
        self.answers: list[tuple[str, int, float]] = []  # (kind, status, time)
        self.accepted: list[int] = []
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._client, args=(n, key)) for n, key in enumerate(keys)]

    def _client(self, n: int, key: str) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
            side = "buy" if n % 2 == 0 else "sell"
            index = 0
            while not self.stopping.is_set():
                index += 1
                if index % 5 == 0:
                    kind, method, path, body = "book", "GET", "/api/v1/instruments/CEA21/book/", None
                else:
                    kind, method, path = "order", "POST", "/api/v1/orders/"
                    body = json.dumps({"instrument": "CEA21", "side": side, "price": "54.00", "quantity": 1 + index % 7,
                                       "client_order_id": f"load-{n}-{index}"})
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                self.answers.append((kind, response.status, time.monotonic()))
                if kind == "order" and response.status == 201:
                    self.accepted.append(json.loads(payload)["id"])
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)


def test_order_entry_and_matching_survive_a_redis_outage_and_the_backlog_drains(
    stack, redis_server, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator
):
    for company in (company_a, company_b):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    keys = [api_key_for(trader_a), api_key_for(trader_b)]
    port = free_port()
    matcher = stack.matcher()
    worker = stack.worker()
    web = stack.web(port)

    with Load(port, keys) as load:
        time.sleep(2)
        wait_for(lambda: Trade.objects.filter(settled_at__isnull=False).exists(), timeout=30,
                 what="the worker to settle trades before the outage")
        redis_server.stop()
        down = time.monotonic()
        time.sleep(3)
        trades_during = Trade.objects.count()
        time.sleep(1)
        assert Trade.objects.count() > trades_during, "matching stopped while Redis was down"
        redis_server.start()  # empty: whatever was queued in it is gone
        up = time.monotonic()
        time.sleep(2)
    assert load.errors == []
    statuses = Counter(status for _, status, _ in load.answers)
    assert not [s for s in statuses if s >= 500], statuses
    during = Counter(status for kind, status, at in load.answers if kind == "order" and down <= at <= up)
    assert during and set(during) == {201}, during  # accepted while Redis was down

    # Beat's sweep, once Redis is back: the trades whose settlement could not be queued settle now.
    sweep_until_drained(redis_server.url)
    # Nothing accepted was lost: every order answered 201 is in the book's history, matched.
    assert Order.objects.filter(pk__in=load.accepted).count() == len(load.accepted)
    assert not Order.objects.filter(pk__in=load.accepted, status=Order.Status.ACCEPTED).exists()
    assert matcher.poll() is None and worker.poll() is None and web.poll() is None
    assert "not queued, left for the sweep" in stack.log(matcher)
    assert "Redis unreachable" in stack.log(web)
