"""The book and the tape from the matcher's snapshot (trading.market_data): served only when it names
the batch the database last committed, the same as computing them from the orders and trades, and
never wrong when Redis is gone or holds something else."""

from __future__ import annotations

import json
import random

import pytest
import redis
from django.conf import settings

from trading import market_data, selectors
from trading.models import MatchingPosition

from .conftest import place

pytestmark = pytest.mark.django_db


def api_get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def from_database(client, path, symbol="CEA21"):
    """The same request answered without the snapshot (its key removed)."""
    redis.Redis.from_url(settings.REDIS_URL).delete(market_data._key(symbol))
    return api_get(client, path)


def test_the_book_and_the_tape_are_the_snapshots_and_equal_the_database(client, funded3, cea21, trader_a, trader_b, trader_c):
    rng = random.Random(7)
    traders = [trader_a, trader_b, trader_c]
    for _ in range(60):
        side = rng.choice(["buy", "sell"])
        price = 5422 + rng.randint(-30, 30)
        place(rng.choice(traders), side, f"{price / 100:.2f}", rng.randint(1, 80))
    market = market_data.market_get("CEA21")
    assert market.snapshot is not None  # the matcher published the last batch's
    assert market.book(50)["bids"] == selectors.book_depth(cea21, 50)["bids"]
    assert market.book(50)["asks"] == selectors.book_depth(cea21, 50)["asks"]
    for path in ("/api/v1/instruments/CEA21/book/?depth=50", "/api/v1/instruments/CEA21/trades/?limit=10&offset=5"):
        snapshot_answer = api_get(client, path)
        assert snapshot_answer == from_database(client, path)
    assert snapshot_answer["count"] > 15 and len(snapshot_answer["results"]) == 10


def test_a_book_read_from_the_snapshot_is_one_small_query(client, funded, cea21, trader_a, trader_b, django_assert_num_queries):
    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.50", 100)
    with django_assert_num_queries(1):  # the instrument with its batch token: no orders read
        body = api_get(client, "/api/v1/instruments/CEA21/book/")
    assert body["bids"] == [{"price": "54.00", "quantity": 100, "orders": 1}]


def test_a_snapshot_is_used_only_while_it_names_the_committed_batch(client, funded, cea21, trader_a):
    place(trader_a, "buy", "54.00", 100)
    token = MatchingPosition.objects.get(instrument=cea21).batch_token
    doctored = market_data.snapshot_body(token=token, bids=[(5401, 7, 1)], asks=[], tape=[], trade_count=0, last_price=None)
    redis.Redis.from_url(settings.REDIS_URL).set(market_data._key("CEA21"), doctored)
    assert api_get(client, "/api/v1/instruments/CEA21/book/")["bids"] == [{"price": "54.01", "quantity": 7, "orders": 1}]
    # A newer batch committed (its snapshot not stored yet, or lost): the database answers.
    MatchingPosition.objects.filter(instrument=cea21).update(batch_token=token + 1)
    assert api_get(client, "/api/v1/instruments/CEA21/book/")["bids"] == [{"price": "54.00", "quantity": 100, "orders": 1}]


def test_without_redis_the_database_answers(client, funded, cea21, trader_a, trader_b, settings):
    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 40)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    market_data._client.clear()
    market_data._redis_down_until[0] = 0.0
    try:
        body = api_get(client, "/api/v1/instruments/CEA21/book/")
        tape = api_get(client, "/api/v1/instruments/CEA21/trades/")
    finally:
        market_data._client.clear()
        market_data._redis_down_until[0] = 0.0
    assert body["bids"] == [{"price": "54.00", "quantity": 60, "orders": 1}] and body["last_price"] == "54.00"
    assert [row["quantity"] for row in tape["results"]] == [40]


def test_a_page_of_the_tape_past_the_snapshot_comes_from_the_database(client, funded, cea21, trader_a, trader_b, monkeypatch):
    monkeypatch.setattr(market_data, "TAPE_LENGTH", 5)  # the snapshot keeps the last 5 trades
    from trading import matcher

    matcher._matchers.clear()
    place(trader_a, "buy", "54.00", 900)
    for n in range(8):
        place(trader_b, "sell", "54.00", 10 + n)
    snapshot = json.loads(redis.Redis.from_url(settings.REDIS_URL).get(market_data._key("CEA21")))
    assert len(snapshot["tape"]) == 5 and snapshot["trade_count"] == 8
    assert market_data.market_get("CEA21").tape(limit=3, offset=4) is None  # reaches past what it keeps
    page = api_get(client, "/api/v1/instruments/CEA21/trades/?limit=3&offset=4")
    assert [row["quantity"] for row in page["results"]] == [13, 12, 11] and page["count"] == 8
    assert page == from_database(client, "/api/v1/instruments/CEA21/trades/?limit=3&offset=4")
