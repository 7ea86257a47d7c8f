"""The exchange's REST API under /api/v1/: public market data (instruments, book, tape, candles) and
one's own orders, fills and balances."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from trading import services, settlement
from trading.clock import trading_day
from trading.models import DailyBar, Instrument, Order, Trade

from .conftest import api_client, cancel, place, run_on_commit


def results(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


# --- instruments ---


def test_anyone_lists_the_instruments_with_prices_as_strings(db):
    rows = results(api_client().get("/api/v1/instruments/"))
    assert [row["symbol"] for row in rows] == sorted(Instrument.objects.values_list("symbol", flat=True))
    cea21 = next(row for row in rows if row["symbol"] == "CEA21")
    assert cea21 == {
        "symbol": "CEA21", "vintage": "2021", "tick": "0.01",
        "limits": {"min_quantity": 1, "max_quantity": 99_999, "band_percent": 10},
        "reference_price": "54.22", "lower_limit": "48.80", "upper_limit": "59.64", "status": "open",
    }


def test_an_instrument_detail_shows_todays_limits(db, exchange_operator):
    response = api_client().get("/api/v1/instruments/CEA23/")
    assert response.status_code == 200
    assert (response.json()["reference_price"], response.json()["lower_limit"], response.json()["upper_limit"]) == (
        "79.42", "71.48", "87.36"
    )
    instrument = Instrument.objects.get(symbol="CEA23")
    services.instrument_set_status(instrument=instrument, status="halted", reason="abnormal trading", actor=exchange_operator)
    assert api_client().get("/api/v1/instruments/CEA23/").json()["status"] == "halted"


def test_an_unknown_instrument_is_a_json_error(db):
    response = api_client().get("/api/v1/instruments/CEA99/")
    assert response.status_code == 404  # named in the path: no such resource (in a body it is a 400)
    assert response.json() == {"code": "unknown_instrument", "message": "No instrument 'CEA99'.", "field": "symbol"}
    assert api_client().get("/api/v1/instruments/CEA99/book/").json()["code"] == "unknown_instrument"


# --- book, tape and candles ---


@pytest.fixture
def book(funded3, cea21, trader_a, trader_b, trader_c):
    place(trader_a, "buy", "54.00", 100)
    place(trader_c, "buy", "54.00", 50)
    place(trader_b, "buy", "53.90", 30)
    place(trader_b, "buy", "53.80", 10)
    place(trader_b, "sell", "54.50", 100)
    place(trader_c, "sell", "54.60", 20)
    place(trader_a, "sell", "54.70", 5)


def test_the_book_aggregates_levels_best_first_up_to_the_depth(book):
    body = api_client().get("/api/v1/instruments/CEA21/book/?depth=2").json()
    assert body["bids"] == [{"price": "54.00", "quantity": 150, "orders": 2}, {"price": "53.90", "quantity": 30, "orders": 1}]
    assert body["asks"] == [{"price": "54.50", "quantity": 100, "orders": 1}, {"price": "54.60", "quantity": 20, "orders": 1}]
    assert (body["symbol"], body["last_price"], body["reference_price"], body["lower_limit"], body["upper_limit"]) == (
        "CEA21", None, "54.22", "48.80", "59.64"
    )
    full = api_client().get("/api/v1/instruments/CEA21/book/").json()
    assert (len(full["bids"]), len(full["asks"])) == (3, 3)


def test_the_book_shows_the_last_price_and_what_is_left_after_a_trade(book, trader_c):
    place(trader_c, "buy", "54.50", 60)
    body = api_client().get("/api/v1/instruments/CEA21/book/?depth=1").json()
    assert body["last_price"] == "54.50"
    assert body["asks"] == [{"price": "54.50", "quantity": 40, "orders": 1}]
    assert body["bids"] == [{"price": "54.00", "quantity": 150, "orders": 2}]


@pytest.mark.parametrize("depth", ["0", "51", "ten"])
def test_the_book_refuses_a_bad_depth(db, depth):
    response = api_client().get(f"/api/v1/instruments/CEA21/book/?depth={depth}")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "depth")


def test_the_public_tape_lists_trades_newest_first_without_the_parties(book, trader_c, trader_a):
    place(trader_c, "buy", "54.50", 60)
    place(trader_a, "buy", "54.60", 50)  # 40 at 54.50, then 10 at 54.60
    rows = results(api_client().get("/api/v1/instruments/CEA21/trades/"))
    assert [(row["price"], row["quantity"], row["aggressor_side"]) for row in rows] == [
        ("54.60", 10, "buy"), ("54.50", 40, "buy"), ("54.50", 60, "buy")
    ]
    assert set(rows[0]) == {"id", "price", "quantity", "aggressor_side", "executed_at"}
    assert results(api_client().get("/api/v1/instruments/CEA22/trades/")) == []


def test_todays_daily_candle_grows_with_the_trades_and_is_final_after_the_end_of_day(funded, cea21, trader_a, trader_b):
    assert results(api_client().get("/api/v1/instruments/CEA21/candles/")) == []  # no trade yet: no candle
    place(trader_b, "sell", "54.01", 100)
    place(trader_a, "buy", "54.01", 100)
    day = trading_day()
    assert results(api_client().get("/api/v1/instruments/CEA21/candles/")) == [{
        "time": day.isoformat(), "open": "54.01", "high": "54.01", "low": "54.01", "close": "54.01",
        "volume": 100, "turnover": "5401.00",
    }]
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    provisional = results(api_client().get("/api/v1/instruments/CEA21/candles/"))
    assert not DailyBar.objects.exists()  # shown, not stored
    run_on_commit(services.end_of_day_expire, day=day)
    run_on_commit(services.end_of_day_close, day=day)
    candles = results(api_client().get("/api/v1/instruments/CEA21/candles/?interval=1d"))
    assert candles == [{
        "time": day.isoformat(), "open": "54.01", "high": "54.01", "low": "54.00", "close": "54.01",
        "volume": 200, "turnover": "10801.00",
    }]
    assert candles == provisional  # the stored bar is the one shown during the day
    assert api_client().get("/api/v1/instruments/CEA21/").json()["reference_price"] == "54.01"


def test_minute_candles_bucket_the_days_trades_in_market_time(funded, cea21, trader_a, trader_b):
    for price in ("54.00", "54.30", "54.10"):
        place(trader_b, "sell", price, 10)
        place(trader_a, "buy", price, 10)
    # The trades' times are pinned so that the buckets do not depend on when the test runs.
    today = timezone.localdate()
    at = [timezone.make_aware(dt.datetime.combine(today, dt.time(10, 0, s))) for s in (5, 40)]
    at.append(timezone.make_aware(dt.datetime.combine(today, dt.time(10, 1, 10))))
    for trade, executed_at in zip(Trade.objects.order_by("pk"), at, strict=True):
        Trade.objects.filter(pk=trade.pk).update(executed_at=executed_at)
    minute = results(api_client().get("/api/v1/instruments/CEA21/candles/?interval=1m"))
    assert [(c["time"][11:19], c["open"], c["high"], c["low"], c["close"], c["volume"]) for c in minute] == [
        ("10:00:00", "54.00", "54.30", "54.00", "54.30", 20),
        ("10:01:00", "54.10", "54.10", "54.10", "54.10", 10),
    ]
    assert minute[0]["time"].startswith(today.isoformat())
    assert [c["turnover"] for c in minute] == ["1083.00", "541.00"]  # 10 t at 54.00 and 10 t at 54.30; 10 t at 54.10
    five = results(api_client().get("/api/v1/instruments/CEA21/candles/?interval=5m"))
    assert [(c["open"], c["close"], c["volume"]) for c in five] == [("54.00", "54.10", 30)]


def test_candles_refuse_an_unknown_interval(db):
    response = api_client().get("/api/v1/instruments/CEA21/candles/?interval=2h")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "interval")


# --- one's own orders, fills and balances ---


def test_a_trader_lists_and_reads_only_its_own_companys_orders(funded, cea21, trader_a, trader_a2, trader_b):
    mine = place(trader_a, "buy", "50.00", 10)
    colleagues = place(trader_a2, "sell", "58.00", 20)
    theirs = place(trader_b, "buy", "51.00", 30)
    rows = results(api_client(trader_a).get("/api/v1/orders/"))
    assert [row["id"] for row in rows] == [colleagues.pk, mine.pk]
    assert rows[1] == {
        "id": mine.pk, "client_order_id": mine.client_order_id, "instrument": "CEA21", "side": "buy", "price": "50.00",
        "quantity": 10, "filled_quantity": 0, "status": "open", "cancel_requested": False, "created_at": rows[1]["created_at"],
    }
    assert [row["id"] for row in results(api_client(trader_a).get("/api/v1/orders/?side=sell"))] == [colleagues.pk]
    assert results(api_client(trader_a).get("/api/v1/orders/?instrument=CEA22")) == []
    assert api_client(trader_a).get(f"/api/v1/orders/{mine.pk}/").json()["id"] == mine.pk
    response = api_client(trader_a).get(f"/api/v1/orders/{theirs.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_trader_cancels_its_own_order_with_delete(funded, cea21, trader_a, django_capture_on_commit_callbacks):
    order = place(trader_a, "buy", "50.00", 10)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(trader_a).delete(f"/api/v1/orders/{order.pk}/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["cancel_requested"]) == (order.pk, True)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    again = api_client(trader_a).delete(f"/api/v1/orders/{order.pk}/")
    assert again.status_code == 409 and again.json()["code"] == "order_not_open"


def test_delete_of_another_companys_order_is_not_found(funded, cea21, trader_a, trader_b):
    theirs = place(trader_b, "buy", "51.00", 30)
    response = api_client(trader_a).delete(f"/api/v1/orders/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such order.", "field": "id"}
    theirs.refresh_from_db()
    assert (theirs.status, theirs.cancel_requested) == (Order.Status.OPEN, False)


def test_fills_show_each_companys_own_side_fee_and_settlement(funded3, cea21, trader_a, trader_b, trader_c, settings, settlement_held):
    from decimal import Decimal

    settings.TRADING_FEE_RATE = Decimal("0.0005")
    sell = place(trader_b, "sell", "54.00", 100)
    buy = place(trader_a, "buy", "54.10", 100)
    trade = Trade.objects.get()
    (bought,) = results(api_client(trader_a).get("/api/v1/trades/"))
    assert bought == {
        "id": trade.pk, "kind": "listed", "order_id": buy.pk, "block_offer_id": None, "instrument": "CEA21", "side": "buy",
        "price": "54.00", "quantity": 100, "fee": "2.70", "executed_at": bought["executed_at"], "settled": False,
    }
    settlement.trades_settle()
    (sold,) = results(api_client(trader_b).get("/api/v1/trades/"))
    assert (sold["order_id"], sold["side"], sold["fee"], sold["settled"]) == (sell.pk, "sell", "2.70", True)
    assert results(api_client(trader_c).get("/api/v1/trades/")) == []


def test_balances_show_cash_as_strings_and_allowances_as_whole_tonnes(funded, cea21, trader_a, trader_b, company_a):
    order = place(trader_a, "buy", "50.00", 10)  # reserves 500.25 CNY
    rows = {row["asset"]: row for row in results(api_client(trader_a).get("/api/v1/balances/"))}
    assert rows["CNY"] == {"asset": "CNY", "available": "9999499.75", "reserved": "500.25", "pending": "0.00", "frozen": "0.00", "not_carried": "0.00"}
    assert rows["CEA21"] == {"asset": "CEA21", "available": 100_000, "reserved": 0, "pending": 0, "frozen": 0, "not_carried": 0}
    assert rows["CEA22"]["available"] == 0
    cancel(trader_a, order)
    rows_b = results(api_client(trader_b).get("/api/v1/balances/"))
    assert len(rows_b) == len(rows)  # one row per asset: B sees its own accounts only


@pytest.mark.parametrize("url", ["/api/v1/orders/", "/api/v1/orders/1/", "/api/v1/trades/", "/api/v1/balances/"])
def test_anonymous_clients_may_not_read_private_data(db, url):
    response = api_client().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_anonymous_clients_may_not_place_orders(funded, cea21):
    response = api_client().post(
        "/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 1, "client_order_id": "x"},
        format="json",
    )
    assert response.status_code == 401
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/instruments/", "/api/v1/instruments/CEA21/", "/api/v1/instruments/CEA21/book/",
     "/api/v1/instruments/CEA21/trades/", "/api/v1/instruments/CEA21/candles/", "/api/v1/instruments/CEA21/candles/?interval=1m"],
)
def test_anonymous_clients_may_read_market_data(db, url):
    assert api_client().get(url).status_code == 200
