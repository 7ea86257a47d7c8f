"""The per-user rate limit on order entry (API_ORDER_RATE): 429 `rate_limited` with Retry-After,
counted in Redis, shared by new orders and cancels, and let through (logged) when Redis is down."""

from __future__ import annotations

import logging
import time

import pytest
import redis
from django.conf import settings as django_settings

from core import throttling
from trading.models import Order

from .conftest import api_client

URL = "/api/v1/orders/"


def order(n, **changes):
    return {"instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 1, "client_order_id": f"rl-{n}", **changes}


@pytest.fixture(autouse=True)
def _fresh_counts(trader_a, trader_b):
    """Counts outlive a test (they are in Redis); start each test from zero, clear of a window's end."""
    for user in (trader_a, trader_b):
        throttling.counter.reset(user.pk)
    throttling.counter._down_until = 0.0
    yield
    throttling.counter._down_until = 0.0


@pytest.fixture
def three_an_hour(settings):
    settings.API_ORDER_RATE = (3, 3600)
    if 3600 - time.time() % 3600 < 5:  # the hour turns within the test: wait for it
        time.sleep(5)


def test_order_entry_over_the_rate_is_refused_with_429_and_retry_after(funded, cea21, trader_a, three_an_hour):
    client = api_client(trader_a)
    assert [client.post(URL, order(n), format="json").status_code for n in range(3)] == [201, 201, 201]
    refused = client.post(URL, order(3), format="json")
    assert refused.status_code == 429
    assert refused.json() == {"code": "rate_limited", "message": refused.json()["message"], "field": None}
    # (Up to two periods: the next request fits once enough of this window has slid out.)
    assert 1 <= int(refused["Retry-After"]) <= 2 * 3600
    assert not Order.objects.filter(client_order_id="rl-3").exists()
    # The count lives in Redis, where every web process sees it.
    keys = redis.Redis.from_url(django_settings.REDIS_URL).keys(f"{throttling.KEY_PREFIX}:{trader_a.pk}:*")
    assert len(keys) == 1


def test_cancels_count_with_orders_and_reads_do_not(funded, cea21, trader_a, three_an_hour):
    client = api_client(trader_a)
    placed = client.post(URL, order(0), format="json").json()
    assert client.delete(f"{URL}{placed['id']}/").status_code == 200
    for _ in range(5):
        assert client.get(URL).status_code == 200
        assert client.get(f"{URL}{placed['id']}/").status_code == 200
    assert client.post(URL, order(1), format="json").status_code == 201
    assert client.post(URL, order(2), format="json").status_code == 429


def test_the_limit_is_per_user(funded, cea21, trader_a, trader_b, three_an_hour):
    client_a, client_b = api_client(trader_a), api_client(trader_b)
    for n in range(3):
        client_a.post(URL, order(n), format="json")
    assert client_a.post(URL, order(9), format="json").status_code == 429
    assert client_b.post(URL, order(9, side="sell", price="59.00"), format="json").status_code == 201


def test_with_redis_down_orders_go_through_and_the_outage_is_logged(funded, cea21, trader_a, three_an_hour, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client = api_client(trader_a)
    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        statuses = [client.post(URL, order(n), format="json").status_code for n in range(5)]
    assert statuses == [201] * 5
    assert Order.objects.filter(placed_by=trader_a).count() == 5
    assert "Redis unreachable" in caplog.text


def test_without_redis_the_count_is_kept_in_process(funded, cea21, trader_a, three_an_hour, settings):
    settings.REDIS_URL = ""
    client = api_client(trader_a)
    assert [client.post(URL, order(n), format="json").status_code for n in range(4)] == [201, 201, 201, 429]


def test_a_burst_at_a_windows_end_still_counts_just_after_it(funded, cea21, trader_a, settings, monkeypatch):
    """A sliding window: three orders in the last second of one window leave room for no more one
    second into the next (a fixed window would start again from zero), and Retry-After says when."""
    settings.API_ORDER_RATE = (3, 100)
    now = [1_796_000_000 + 99.0]  # 1 s before a window's end (a multiple of 100 plus 99)
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    client = api_client(trader_a)
    assert [client.post(URL, order(n), format="json").status_code for n in range(3)] == [201, 201, 201]
    now[0] += 2  # 1 s into the next window: the estimate is 3 x 0.99 + 1
    refused = client.post(URL, order(3), format="json")
    assert refused.status_code == 429
    # The next fits when 3 x (1 - g) + 1 <= 3: g = 1/3 of the window, 32.3 s from now.
    assert refused["Retry-After"] == "33"
    now[0] += 30
    assert client.post(URL, order(4), format="json").status_code == 429  # too early: refused, not counted
    now[0] += 3
    assert client.post(URL, order(5), format="json").status_code == 201
    assert client.post(URL, order(6), format="json").status_code == 429  # 3 x 0.66 + 2 > 3
    assert Order.objects.filter(placed_by=trader_a).count() == 4


def test_the_trading_page_counts_in_the_same_limit_as_the_api(funded, cea21, trader_a, three_an_hour):
    """One limit for a person, whatever the door: orders and cancels through the trading page's
    forms and through the API share the count."""
    from django.test import Client

    from tests.auth import login

    page = login(Client(), trader_a)
    ticket = {"side": "buy", "price": "50.00", "quantity": "1"}
    assert page.post("/trade/CEA21/order/", {**ticket, "client_order_id": "page-0"}).status_code == 302
    placed = Order.objects.get(client_order_id="page-0")
    assert page.post(f"/trade/orders/{placed.pk}/cancel/").status_code == 302  # the second of three
    assert api_client(trader_a).post(URL, order(0), format="json").status_code == 201  # the third
    refused = page.post("/trade/CEA21/order/", {**ticket, "client_order_id": "page-1"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many requests" in refused.content.decode()
    assert not Order.objects.filter(client_order_id="page-1").exists()
    assert api_client(trader_a).post(URL, order(1), format="json").status_code == 429
    other = Order.objects.get(client_order_id="rl-0")
    cancel = page.post(f"/trade/orders/{other.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert cancel.status_code == 429 and cancel["Retry-After"]
    other.refresh_from_db()
    assert not other.cancel_requested and other.status in Order.LIVE


def test_cancel_all_counts_one_per_order_and_stops_at_the_limit(funded, cea21, trader_a, settings):
    """The trading page's "Cancel all" is N cancels, each counted (as N cancels by the API would be):
    past the limit it stops, says how many it cancelled, and the rest stay open."""
    from django.test import Client

    from core.models import AuditEvent
    from tests.auth import login

    settings.API_ORDER_RATE = (4, 3600)
    if 3600 - time.time() % 3600 < 5:
        time.sleep(5)
    client = api_client(trader_a)
    assert [client.post(URL, order(n), format="json").status_code for n in range(3)] == [201] * 3  # 3 of 4
    page = login(Client(), trader_a)
    response = page.post("/trade/CEA21/cancel-all/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and int(response["Retry-After"]) >= 1
    assert response.content.decode().startswith("1 of 3 orders cancelled; the rest are still open: ")
    assert Order.objects.filter(cancel_requested=True).count() == 1
    assert AuditEvent.objects.filter(action="order.cancel").count() == 1
    assert Order.objects.filter(status__in=Order.LIVE, cancel_requested=False).count() == 2
