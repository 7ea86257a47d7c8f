"""nginx keeps public market data one second for anonymous readers (deploy/nginx.conf.template), on
the shipped topology: every open market page re-reads it on live updates, so one answer a second
serves them all. A signed-in reader (a session cookie, an API token) always gets a fresh answer, and
each language and format its own."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

sys.path.insert(0, str(ROOT / "bench"))


def test_public_market_data_is_kept_a_second_for_anonymous_readers_and_never_for_signed_in_ones(stack, monkeypatch):
    from _http import Platform
    from django.db import connection

    from trading.models import Instrument

    for name, value in stack.env().items():  # the stack's Redis and the test database, for the topology
        monkeypatch.setenv(name, value)
    connection.close()
    with Platform(workers=2) as platform:
        base = f"http://127.0.0.1:{platform.port}"

        def get(path: str, **headers: str) -> tuple[str | None, str]:
            try:
                with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as response:
                    return response.headers.get("X-Cache-Status"), response.read().decode()
            except urllib.error.HTTPError as refused:  # (a refusal is an answer too)
                return refused.headers.get("X-Cache-Status"), refused.read().decode()

        get("/market/table/")  # (whatever an earlier request left)
        time.sleep(2.1)  # (nginx counts whole seconds: an answer kept "1 s" is served for 1 to 2 s)
        assert get("/market/table/")[0] in {"MISS", "EXPIRED"}
        status, english = get("/market/table/")
        assert status == "HIT" and "Open" in english
        status, chinese = get("/market/table/", **{"Accept-Language": "zh-hans"})  # each language its own answer
        assert status in {"MISS", "EXPIRED"} and "正常交易" in chinese
        assert get("/market/table/", Cookie="csrftoken=abc")[0] == "HIT"  # an anonymous browser's cookies share it
        assert get("/market/table/", Cookie="sessionid=abc")[0] == "BYPASS"  # signed in (or claiming to be): fresh
        assert get("/api/v1/instruments/CEA21/book/?depth=3")[0] in {"MISS", "EXPIRED"}
        assert get("/api/v1/instruments/CEA21/book/?depth=3")[0] == "HIT"
        assert get("/api/v1/instruments/CEA21/book/?depth=3", Accept="text/html")[0] in {"MISS", "EXPIRED"}  # each format its own
        assert get("/api/v1/instruments/CEA21/book/?depth=3", Authorization="Token nope")[0] == "BYPASS"
        assert get("/market/")[0] is None  # the page itself (its signed stream URL, its forms) is never kept

        Instrument.objects.filter(symbol="CEA21").update(status=Instrument.Status.HALTED)
        connection.close()
        cached = get("/market/table/")[1]
        assert 'id="row-CEA21"' in cached and "Halted" not in cached.split('id="row-CEA21"')[1].split("</tr>")[0]
        assert "Halted" in get("/market/table/", Cookie="sessionid=abc")[1]  # the signed-in reader sees it at once
        time.sleep(2.1)  # (nginx counts whole seconds: an answer kept "1 s" is served for 1 to 2 s)
        assert "Halted" in get("/market/table/")[1].split('id="row-CEA21"')[1].split("</tr>")[0]  # anonymous: moments later
        assert all(platform.alive().values())
