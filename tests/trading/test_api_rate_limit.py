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
    assert 1 <= int(refused["Retry-After"]) <= 3600
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
