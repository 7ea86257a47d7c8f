"""Block agreement trading (issue 18, item 1): the minimum, the band, the session, directed offers,
withdrawal and expiry, the acceptance race (two accepts of one offer give one trade), idempotency,
DvP settlement with T+1, and block trades kept out of the listed close. Every refusal leaves no offer
and no reservation behind; the ledger is conserved after each test (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from registry.models import Balance, Transfer
from trading import blocks, services
from trading.clock import trading_day
from trading.fees import fee_for
from trading.models import BlockOffer, DailyBar, Trade

from .conftest import CASH, api_client, balance, fund, place, run_on_commit

URL = "/api/v1/block-offers/"
HELD = 500_000  # tonnes of CEA21 each company holds here
_ids = itertools.count(1)


@pytest.fixture
def block_funded(company_a, company_b, company_c, national_regulator, exchange_operator):
    for company in (company_a, company_b, company_c):
        fund(company, regulator=national_regulator, operator=exchange_operator, allowances=HELD)


def post(user, **overrides):
    body = {"instrument": "CEA21", "side": "sell", "price": "52.00", "quantity": 150_000,
            "client_order_id": f"block-{next(_ids)}", **overrides}
    return run_on_commit(blocks.block_offer_post, user=user, **body)[0]


def accept(user, offer, client_order_id=None):
    return run_on_commit(blocks.block_offer_accept, user=user, offer_id=offer.pk,
                         client_order_id=client_order_id or f"accept-{next(_ids)}")[0]


def _state():
    return (BlockOffer.objects.count(), Trade.objects.count(), Transfer.objects.filter(kind=Transfer.Kind.RESERVE).count(),
            Balance.objects.aggregate(r=Sum("reserved"))["r"])


@pytest.mark.parametrize(("overrides", "code", "status", "field"), [
    ({"quantity": 99_999}, "below_block_minimum", 400, "quantity"),
    ({"price": "70.49"}, "price_out_of_band", 400, "price"),  # reference 54.22 + 30 % = 70.486: 70.48 is the top
    ({"price": "37.95"}, "price_out_of_band", 400, "price"),  # - 30 % = 37.954: 37.96 is the bottom
    ({"price": "52.001"}, "invalid_tick", 400, "price"),
    ({"quantity": 600_000}, "insufficient_allowances", 409, "quantity"),
    ({"side": "buy", "quantity": 200_000}, "insufficient_funds", 409, "quantity"),  # 10.8 M CNY > 10 M
    ({"counterparty": "91110000000000000X"}, "invalid", 400, "counterparty"),
])
def test_a_refused_offer_leaves_nothing_behind(block_funded, trader_a, overrides, code, status, field):
    before = _state()
    with pytest.raises(DomainError) as caught:
        post(trader_a, **overrides)
    assert (caught.value.code, caught.value.status, caught.value.field) == (code, status, field)
    assert _state() == before
    # The API answers the same code, field and status.
    body = {"instrument": "CEA21", "side": "sell", "price": "52.00", "quantity": 150_000, "client_order_id": "api-refused", **overrides}
    response = api_client(trader_a).post(URL, body, format="json")
    assert response.status_code == status
    assert (response.json()["code"], response.json().get("field")) == (code, field)
    assert _state() == before


def test_the_band_edges_are_accepted(block_funded, trader_a):
    low, high = blocks.block_limits(services.Instrument.objects.get(symbol="CEA21"))
    assert (low, high) == (3796, 7048)
    assert post(trader_a, price="37.96").status == post(trader_a, price="70.48").status == BlockOffer.Status.OPEN


def test_an_offer_cannot_be_directed_to_its_own_poster(block_funded, trader_a, company_a):
    with pytest.raises(DomainError) as caught:
        post(trader_a, counterparty=company_a.uscc)
    assert (caught.value.code, caught.value.field) == ("invalid", "counterparty")


def test_outside_the_block_session_offers_and_acceptances_are_refused(block_funded, trader_a, trader_b, settings):
    offer = post(trader_a)
    # A one-minute block session two hours from now: closed now, whatever the day.
    start = (timezone.localtime() + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    if start >= dt.time(23, 58):
        start = dt.time(0, 0)
    settings.MARKET_HOURS = "sessions"
    settings.BLOCK_SESSIONS = [(start, (dt.datetime.combine(dt.date.today(), start) + dt.timedelta(minutes=1)).time())]
    before = _state()
    for attempt in (lambda: post(trader_a), lambda: accept(trader_b, offer)):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert (caught.value.code, caught.value.status) == ("block_session_closed", 409)
    assert _state() == before


def test_accepting_a_public_sell_settles_delivery_versus_payment_with_t_plus_1(
    block_funded, trader_a, trader_b, company_a, company_b
):
    offer = post(trader_a, price="52.00", quantity=150_000)
    assert balance(company_a, "CEA21") == (HELD - 150_000, 150_000, 0, 0)
    trade = accept(trader_b, offer)

    value = 5200 * 150_000
    fee = fee_for(value, offer.fee_rate)
    trade.refresh_from_db()
    assert (trade.kind, trade.buyer_id, trade.seller_id, trade.price, trade.quantity) == ("block", company_b.pk, company_a.pk, 5200, 150_000)
    assert (trade.buy_order_id, trade.sell_order_id, trade.block_offer_id) == (None, None, offer.pk)
    assert trade.settled_at is not None and trade.aggressor_side == "buy"
    offer.refresh_from_db()
    assert (offer.status, offer.reserved, offer.accepted_by_id) == ("accepted", 0, company_b.pk)
    assert balance(company_a, "CEA21") == (HELD - 150_000, 0, 0, 0)
    assert balance(company_b, "CEA21") == (HELD, 0, 150_000, 0)  # pending until the end of day (T+1)
    assert balance(company_a, "CNY") == (CASH + value - fee, 0, 0, 0)
    assert balance(company_b, "CNY") == (CASH - value - fee, 0, 0, 0)


def test_a_buy_offer_reserves_value_and_fee_and_its_acceptor_sells(block_funded, trader_a, trader_b, company_a, company_b):
    offer = post(trader_a, side="buy", price="50.00", quantity=100_000)
    value = 5000 * 100_000
    assert offer.reserved == value + fee_for(value, offer.fee_rate)
    assert balance(company_a, "CNY")[1] == offer.reserved
    trade = accept(trader_b, offer)
    assert (trade.buyer_id, trade.seller_id, trade.aggressor_side) == (company_a.pk, company_b.pk, "sell")
    assert balance(company_a, "CNY")[1] == 0 and balance(company_b, "CEA21")[:2] == (HELD - 100_000, 0)


def test_a_directed_offer_is_seen_and_accepted_only_by_its_counterparty(
    block_funded, trader_a, trader_b, trader_c, company_b
):
    offer = post(trader_a, counterparty=company_b.uscc)
    assert offer.pk not in [row["id"] for row in api_client(trader_c).get(URL).json()["results"]]
    assert offer.pk in [row["id"] for row in api_client(trader_b).get(URL).json()["results"]]
    assert api_client(trader_c).get(f"{URL}{offer.pk}/").status_code == 404
    before = _state()
    with pytest.raises(DomainError) as caught:
        accept(trader_c, offer)
    assert (caught.value.code, caught.value.status) == ("not_counterparty", 403)
    response = api_client(trader_c).post(f"{URL}{offer.pk}/accept/", {"client_order_id": "c-1"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_counterparty")
    assert _state() == before
    assert accept(trader_b, offer).buyer_id == company_b.pk


def test_the_poster_cannot_accept_its_own_offer(block_funded, trader_a, trader_a2):
    offer = post(trader_a)
    with pytest.raises(DomainError) as caught:
        accept(trader_a2, offer)  # another trader of the same company
    assert caught.value.code == "not_counterparty"
    assert not Trade.objects.exists()


def test_a_withdrawn_offer_releases_its_reservation_and_cannot_be_accepted(block_funded, trader_a, trader_b, company_a):
    offer = post(trader_a)
    response = api_client(trader_a).delete(f"{URL}{offer.pk}/")
    assert (response.status_code, response.json()["status"]) == (200, "withdrawn")
    assert balance(company_a, "CEA21") == (HELD, 0, 0, 0)
    for attempt in (lambda: accept(trader_b, offer), lambda: blocks.block_offer_withdraw(user=trader_a, offer_id=offer.pk)):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert caught.value.code == "offer_not_open"
    # Another member cannot withdraw it: it is not theirs to see.
    assert api_client(trader_b).delete(f"{URL}{post(trader_a).pk}/").status_code == 404


def test_replays_return_the_first_offer_and_trade_and_other_bodies_conflict(block_funded, trader_a, trader_b):
    client = api_client(trader_a)
    body = {"instrument": "CEA21", "side": "sell", "price": "52.00", "quantity": 150_000, "client_order_id": "same"}
    first = client.post(URL, body, format="json")
    again = client.post(URL, body, format="json")
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 200, first.json()["id"])
    conflict = client.post(URL, {**body, "price": "53.00"}, format="json")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")
    assert BlockOffer.objects.count() == 1

    b = api_client(trader_b)
    accepted = b.post(f"{URL}{first.json()['id']}/accept/", {"client_order_id": "take-1"}, format="json")
    replay = b.post(f"{URL}{first.json()['id']}/accept/", {"client_order_id": "take-1"}, format="json")
    assert (accepted.status_code, replay.status_code) == (201, 200)
    assert replay.json()["trade_id"] == accepted.json()["trade_id"] and Trade.objects.count() == 1
    other = b.post(f"{URL}{first.json()['id']}/accept/", {"client_order_id": "take-2"}, format="json")
    assert (other.status_code, other.json()["code"]) == (409, "offer_not_open")


def test_the_end_of_day_expires_open_offers_and_keeps_block_trades_out_of_the_close(
    block_funded, cea21, trader_a, trader_b, trader_c, company_a, company_c
):
    day = trading_day()
    accept(trader_b, post(trader_a, price="55.00", quantity=150_000))  # a block above the market
    left_open = post(trader_c, side="buy", price="50.00", quantity=100_000)
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)  # the day's only listed trade

    tape = api_client().get("/api/v1/instruments/CEA21/trades/").json()["results"]
    assert [(row["price"], row["quantity"]) for row in tape] == [("54.00", 100)]
    run_on_commit(services.end_of_day_expire, day=day)
    run_on_commit(services.end_of_day_close, day=day)

    left_open.refresh_from_db()
    assert (left_open.status, left_open.reserved) == ("expired", 0)
    assert balance(company_c, "CNY") == (CASH, 0, 0, 0)
    bar = DailyBar.objects.get(instrument=cea21, day=day)
    assert (bar.close, bar.volume, bar.trade_count) == (5400, 100, 1)  # the listed trade alone
    assert (bar.block_volume, bar.block_turnover) == (150_000, 5500 * 150_000)
    cea21.refresh_from_db()
    assert cea21.reference_price == 5400
    assert balance(company_a, "CEA21")[2] == 0  # pending released at the end of day


def test_my_fills_show_the_block_trade_with_its_offer_and_no_order(block_funded, trader_a, trader_b):
    offer = post(trader_a)
    trade = accept(trader_b, offer)
    [fill] = api_client(trader_b).get("/api/v1/trades/").json()["results"]
    assert (fill["id"], fill["kind"], fill["order_id"], fill["block_offer_id"], fill["side"]) == (trade.pk, "block", None, offer.pk, "buy")


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_of_one_offer_at_once_make_one_trade(company_a, company_b, company_c, national_regulator,
                                                              exchange_operator, trader_a, trader_b, trader_c):
    for company in (company_a, company_b, company_c):
        fund(company, regulator=national_regulator, operator=exchange_operator, allowances=HELD, cash=3 * CASH)
    offers = [blocks.block_offer_post(user=trader_a, instrument="CEA21", side="sell", price="52.00", quantity=100_000,
                                      client_order_id=f"race-{n}")[0] for n in range(4)]
    results: dict[tuple[int, str], str] = {}
    for offer in offers:
        start = threading.Barrier(2)

        def take(user, offer=offer, start=start):
            try:
                start.wait(10)
                blocks.block_offer_accept(user=user, offer_id=offer.pk, client_order_id=f"take-{offer.pk}")
                results[(offer.pk, user.username)] = "trade"
            except DomainError as error:
                results[(offer.pk, user.username)] = error.code
            finally:
                connection.close()

        threads = [threading.Thread(target=take, args=(user,)) for user in (trader_b, trader_c)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        outcomes = sorted(results[(offer.pk, user.username)] for user in (trader_b, trader_c))
        assert outcomes == ["offer_not_open", "trade"]
        assert Trade.objects.filter(block_offer=offer).count() == 1
    # The losers reserved nothing that stayed reserved; every trade settled.
    assert Balance.objects.aggregate(r=Sum("reserved"))["r"] == 0
    assert not Trade.objects.filter(settled_at__isnull=True).exists()


def test_an_idempotency_key_that_differs_from_the_body_is_refused_on_both_posts(block_funded, trader_a, trader_b):
    body = {"instrument": "CEA21", "side": "sell", "price": "52.00", "quantity": 150_000, "client_order_id": "body-id"}
    refused = api_client(trader_a).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="other-id")
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_mismatch")
    offer = api_client(trader_a).post(URL, {**body, "client_order_id": ""}, format="json", HTTP_IDEMPOTENCY_KEY="key-1").json()
    assert offer["client_order_id"] == "key-1"
    refused = api_client(trader_b).post(f"{URL}{offer['id']}/accept/", {"client_order_id": "a"}, format="json",
                                        HTTP_IDEMPOTENCY_KEY="b")
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_mismatch")
    assert not Trade.objects.exists()
