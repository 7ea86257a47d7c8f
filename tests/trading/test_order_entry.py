"""Order entry: every refusal code, through the service and through POST /api/v1/orders/, leaves no
order and no reservation behind; accepted orders reserve exactly value + fee (buy) or the tonnes (sell);
a repeated client_order_id is a replay or a conflict."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.roles import Role
from core.errors import DomainError
from registry import services as registry
from registry.models import Account, Balance, Transfer
from tests.factories import user_with_role
from trading import services
from trading.models import Holiday, Instrument, MarketEvent, Order

from .conftest import ALLOWANCES, CASH, api_client, balance, fund

URL = "/api/v1/orders/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_client_ids = itertools.count(1)


@pytest.fixture(params=["service", "api"])
def path(request):
    return request.param


def _ledger_and_orders():
    """What a refused order must not change: orders, events, reservations."""
    reserved = Balance.objects.aggregate(total=Sum("reserved"))["total"]
    return (
        Order.objects.count(),
        MarketEvent.objects.count(),
        Transfer.objects.filter(kind=Transfer.Kind.RESERVE).count(),
        reserved,
        Instrument.objects.get(symbol="CEA21").last_sequence,
    )


def _body(**overrides):
    return {"instrument": "CEA21", "side": "buy", "price": "54.22", "quantity": 100,
            "client_order_id": f"entry-{next(_client_ids)}", **overrides}


def assert_refused(path, user, code, status, field, **overrides):
    before = _ledger_and_orders()
    body = _body(**overrides)
    if path == "service":
        with pytest.raises(DomainError) as caught:
            services.order_place(user=user, **body)
        assert (caught.value.code, caught.value.status, caught.value.field) == (code, status, field)
    else:
        response = api_client(user).post(URL, body, format="json")
        assert response.status_code == status, response.content
        payload = response.json()
        # (The input serializer's refusals add the full "errors" structure to the three keys.)
        assert set(payload) - {"errors"} == {"code", "message", "field"}
        assert (payload["code"], payload["field"]) == (code, field)
        assert isinstance(payload["message"], str) and payload["message"]
    assert _ledger_and_orders() == before


def accept(path, user, **overrides) -> Order:
    body = _body(**overrides)
    if path == "service":
        order, created = services.order_place(user=user, **body)
        assert created
    else:
        response = api_client(user).post(URL, body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["client_order_id"] == body["client_order_id"]
        order = Order.objects.get(pk=response.json()["id"])
    assert order.status == Order.Status.ACCEPTED and order.sequence is not None
    return order


# --- price ---


@pytest.mark.parametrize("price", ["48.79", "59.65", "30.00", "80.00"])
def test_it_refuses_a_price_outside_the_band(path, funded, cea21, trader_a, price):
    assert_refused(path, trader_a, "price_out_of_band", 400, "price", price=price)


def test_it_accepts_the_band_limits_themselves(path, funded, cea21, trader_a):
    assert (cea21.reference_price, cea21.lower_limit, cea21.upper_limit) == (5422, 4880, 5964)
    assert accept(path, trader_a, side="buy", price="48.80").price == 4880
    assert accept(path, trader_a, side="sell", price="59.64").price == 5964


def test_it_refuses_a_price_off_the_tick(path, funded, cea21, trader_a):
    assert_refused(path, trader_a, "invalid_tick", 400, "price", price="54.221")


@pytest.mark.parametrize("price", ["abc", "0", "-1", "0.00", "NaN", "-54.22"])
def test_it_refuses_what_is_not_a_positive_price(path, funded, cea21, trader_a, price):
    assert_refused(path, trader_a, "invalid_price", 400, "price", price=price)


def test_the_api_refuses_an_empty_price_before_the_service(funded, cea21, trader_a):
    assert_refused("api", trader_a, "blank", 400, "price", price="")


# --- quantity and side ---


@pytest.mark.parametrize("quantity", [0, 100_000, -5])
def test_it_refuses_a_quantity_outside_the_range(path, funded, cea21, trader_a, quantity):
    assert_refused(path, trader_a, "quantity_out_of_range", 400, "quantity", quantity=quantity)


def test_it_accepts_the_quantity_limits_themselves(path, funded, cea21, trader_a):
    assert accept(path, trader_a, quantity=1).quantity == 1
    assert accept(path, trader_a, side="sell", price="59.64", quantity=99_999).quantity == 99_999


def test_the_service_refuses_a_quantity_that_is_not_a_whole_number(funded, cea21, trader_a):
    for quantity in ("100", 1.5, True):
        assert_refused("service", trader_a, "quantity_out_of_range", 400, "quantity", quantity=quantity)


def test_it_refuses_an_unknown_side(path, funded, cea21, trader_a):
    if path == "service":
        assert_refused(path, trader_a, "invalid_side", 400, "side", side="short")
    else:
        assert_refused(path, trader_a, "invalid_choice", 400, "side", side="short")


def test_it_refuses_a_missing_client_order_id(funded, cea21, trader_a):
    assert_refused("service", trader_a, "invalid", 400, "client_order_id", client_order_id="  ")
    assert_refused("service", trader_a, "invalid", 400, "client_order_id", client_order_id="x" * 65)


# --- instrument and market status ---


def test_it_refuses_an_unknown_instrument(path, funded, trader_a):
    assert_refused(path, trader_a, "unknown_instrument", 400, "instrument", instrument="CEA99")


def _market_at(monkeypatch, settings, when: dt.datetime) -> None:
    settings.MARKET_HOURS = "sessions"
    monkeypatch.setattr("trading.clock.market_now", lambda: when)


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2025, 3, 8, 10, 0, tzinfo=SHANGHAI),  # a Saturday, in session hours
        dt.datetime(2025, 3, 10, 20, 0, tzinfo=SHANGHAI),  # a Monday evening
        dt.datetime(2025, 3, 10, 12, 0, tzinfo=SHANGHAI),  # the lunch break
        dt.datetime(2025, 3, 10, 15, 0, tzinfo=SHANGHAI),  # the close itself
    ],
    ids=["saturday", "evening", "lunch", "at-the-close"],
)
def test_it_refuses_orders_outside_the_sessions(path, funded, cea21, trader_a, monkeypatch, settings, when):
    _market_at(monkeypatch, settings, when)
    assert_refused(path, trader_a, "market_closed", 409, None)


def test_it_refuses_orders_on_a_weekday_holiday(path, funded, cea21, trader_a, monkeypatch, settings):
    _market_at(monkeypatch, settings, dt.datetime(2025, 10, 1, 10, 0, tzinfo=SHANGHAI))  # a Wednesday
    accept(path, trader_a)  # (the clock alone lets it through)
    Holiday.objects.create(day=dt.date(2025, 10, 1), name="National Day")
    assert_refused(path, trader_a, "market_closed", 409, None)


def test_it_accepts_orders_in_a_session(path, funded, cea21, trader_a, monkeypatch, settings):
    _market_at(monkeypatch, settings, dt.datetime(2025, 3, 10, 9, 30, tzinfo=SHANGHAI))
    assert accept(path, trader_a).trading_day == dt.date(2025, 3, 10)
    _market_at(monkeypatch, settings, dt.datetime(2025, 3, 10, 14, 59, tzinfo=SHANGHAI))
    accept(path, trader_a)


def test_it_refuses_orders_on_a_closed_instrument(path, funded, cea21, trader_a, exchange_operator):
    services.instrument_set_status(instrument=cea21, status="closed", reason="end of session", actor=exchange_operator)
    assert_refused(path, trader_a, "market_closed", 409, None)


def test_it_refuses_orders_on_a_halted_instrument_until_it_reopens(path, funded, cea21, trader_a, exchange_operator):
    services.instrument_set_status(instrument=cea21, status="halted", reason="abnormal trading", actor=exchange_operator)
    assert Instrument.objects.get(pk=cea21.pk).status == "halted"
    assert_refused(path, trader_a, "instrument_halted", 409, None)
    services.instrument_set_status(instrument=cea21, status="open", reason="resumed", actor=exchange_operator)
    accept(path, trader_a)


def test_a_halt_committed_after_validation_is_seen_when_the_order_is_sequenced(funded, cea21, trader_a, exchange_operator):
    # Order entry validates on a cached copy of the instrument; the sequencing statement checks the
    # row again under its lock, so an order validated before a halt cannot slip in after it.
    stale = Instrument.objects.select_related("asset").get(pk=cea21.pk)
    services.instrument_set_status(instrument=cea21, status="halted", reason="abnormal trading", actor=exchange_operator)
    before = _ledger_and_orders()
    with pytest.raises(DomainError) as caught:
        services.order_place(user=trader_a, **_body(instrument=stale))
    assert caught.value.code == "instrument_halted"
    assert _ledger_and_orders() == before


def test_a_new_reference_price_after_validation_revalidates_the_order(funded, cea21, trader_a):
    stale = Instrument.objects.select_related("asset").get(pk=cea21.pk)  # 54.22: limits 48.80 to 59.64
    Instrument.objects.filter(pk=cea21.pk).update(reference_price=50_00)  # limits 45.00 to 55.00
    before = _ledger_and_orders()
    with pytest.raises(DomainError) as caught:
        services.order_place(user=trader_a, **_body(instrument=stale, price="59.00"))
    assert (caught.value.code, caught.value.field) == ("price_out_of_band", "price")
    assert _ledger_and_orders() == before
    # Still inside the new band: accepted and sequenced once.
    order, created = services.order_place(user=trader_a, **_body(instrument=stale, price="54.00"))
    assert created and order.sequence == Instrument.objects.get(pk=cea21.pk).last_sequence == before[-1] + 1
    assert MarketEvent.objects.filter(order=order).count() == 1


def test_a_trader_cannot_halt_an_instrument(funded, cea21, trader_a):
    with pytest.raises(DomainError) as caught:
        services.instrument_set_status(instrument=cea21, status="halted", reason="mine", actor=trader_a)
    assert (caught.value.code, caught.value.status) == ("permission_denied", 403)
    assert Instrument.objects.get(pk=cea21.pk).status == "open"


def test_the_national_regulator_may_halt_trading(cea21, national_regulator):
    # RULEBOOK, Actors and roles: the national regulator may "halt trading".
    services.instrument_set_status(instrument=cea21, status="halted", reason="market abuse inquiry", actor=national_regulator)
    assert Instrument.objects.get(pk=cea21.pk).status == "halted"


def test_a_status_change_needs_a_known_status_and_a_reason(cea21, exchange_operator):
    for status, reason in (("paused", "why"), ("halted", "  ")):
        with pytest.raises(DomainError) as caught:
            services.instrument_set_status(instrument=cea21, status=status, reason=reason, actor=exchange_operator)
        assert caught.value.code == "invalid"
    assert Instrument.objects.get(pk=cea21.pk).status == "open"


# --- the participant's means and eligibility ---


def test_it_refuses_a_buy_without_the_cash_for_value_and_fee(path, company_a, trader_a, cea21, national_regulator, exchange_operator, settings):
    settings.TRADING_FEE_RATE = Decimal("0.0005")
    # Exactly the value of 100 t at 54.22 but not its fee (2.71 CNY).
    fund(company_a, regulator=national_regulator, operator=exchange_operator, cash=542_200 + 270, allowances=0)
    assert_refused(path, trader_a, "insufficient_funds", 409, "quantity")
    assert balance(company_a, "CNY") == (542_470, 0, 0, 0)
    accept(path, trader_a, quantity=99)


def test_it_refuses_a_sell_beyond_the_available_allowances(path, company_a, trader_a, cea21, national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, cash=0, allowances=100)
    assert_refused(path, trader_a, "insufficient_allowances", 409, "quantity", side="sell", quantity=101)
    assert balance(company_a, "CEA21") == (100, 0, 0, 0)
    accept(path, trader_a, side="sell", quantity=100)
    assert_refused(path, trader_a, "insufficient_allowances", 409, "quantity", side="sell", quantity=1)


def test_it_refuses_orders_from_a_frozen_account(path, funded, cea21, trader_a, company_a, national_regulator):
    for kind, side in (("holding", "sell"), ("cash", "buy")):
        account = Account.objects.get(organization=company_a, kind=kind)
        registry.account_freeze(account=account, reason="court order", actor=national_regulator)
        assert_refused(path, trader_a, "account_frozen", 409, "account", side=side)
        registry.account_unfreeze(account=account, reason="lifted", actor=national_regulator)
        accept(path, trader_a, side=side, price="54.22" if side == "buy" else "59.64")


@pytest.mark.parametrize("who", ["national_regulator", "exchange_operator", "auditor", "trader_without_organization"])
def test_staff_and_unattached_users_are_not_eligible_to_trade(path, funded, cea21, request, who):
    user = (
        user_with_role(Role.COMPANY_TRADER, None) if who == "trader_without_organization" else request.getfixturevalue(who)
    )
    assert_refused(path, user, "not_eligible", 403, None)


def test_a_trader_of_a_suspended_company_is_not_eligible(path, funded, cea21, company_a):
    company_a.status = company_a.Status.SUSPENDED
    company_a.save(update_fields=["status"])
    assert_refused(path, user_with_role(Role.COMPANY_TRADER, company_a), "not_eligible", 403, None)


def test_it_refuses_a_buy_over_the_position_limit(path, funded, cea21, trader_a, settings):
    # Held 100,000 t; open buys count towards the limit too.
    settings.TRADING_POSITION_LIMIT = ALLOWANCES + 150
    accept(path, trader_a, quantity=100)
    assert_refused(path, trader_a, "position_limit", 409, "quantity", quantity=51)
    accept(path, trader_a, quantity=50)
    assert_refused(path, trader_a, "position_limit", 409, "quantity", quantity=1)
    accept(path, trader_a, side="sell", price="59.64", quantity=1)  # sells are not limited


# --- reservations ---


def test_a_buy_reserves_its_value_plus_the_fee_rounded_down(path, funded, cea21, trader_a, company_a, settings):
    settings.TRADING_FEE_RATE = Decimal("0.0005")
    order = accept(path, trader_a, price="54.23", quantity=333)
    value = 5423 * 333  # 1,805,859 fen; fee 902.9295 -> 902
    assert order.reserved == value + 902
    assert order.fee_rate == Decimal("0.0005")
    assert balance(company_a, "CNY") == (CASH - value - 902, value + 902, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 0, 0)
    reserve = Transfer.objects.get(kind=Transfer.Kind.RESERVE, reference=f"order:{order.pk}")
    assert (reserve.amount, reserve.source_bucket, reserve.destination_bucket) == (value + 902, "available", "reserved")


def test_a_sell_reserves_its_tonnes(path, funded, cea21, trader_a, company_a):
    order = accept(path, trader_a, side="sell", price="55.00", quantity=250)
    assert order.reserved == 250
    assert balance(company_a, "CEA21") == (ALLOWANCES - 250, 250, 0, 0)
    assert balance(company_a, "CNY") == (CASH, 0, 0, 0)


def test_an_accepted_order_is_sequenced_with_its_event(path, funded, cea21, trader_a):
    first, second = accept(path, trader_a), accept(path, trader_a)
    assert (first.sequence, second.sequence) == (1, 2)
    assert list(MarketEvent.objects.filter(instrument=cea21).values_list("sequence", "kind", "order_id")) == [
        (1, "order", first.pk), (2, "order", second.pk)
    ]
    assert Instrument.objects.get(pk=cea21.pk).last_sequence == 2


# --- idempotency ---


def test_the_same_client_order_id_and_body_returns_the_first_order(funded, cea21, trader_a, company_a):
    body = _body(client_order_id="replay-1")
    first, created = services.order_place(user=trader_a, **body)
    before = _ledger_and_orders()
    again, created_again = services.order_place(user=trader_a, **body)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert _ledger_and_orders() == before
    assert balance(company_a, "CNY")[1] == first.reserved


def test_the_api_replays_the_same_client_order_id_with_200(funded, cea21, trader_a):
    body = _body(client_order_id="replay-api")
    client = api_client(trader_a)
    first = client.post(URL, body, format="json")
    assert first.status_code == 201
    before = _ledger_and_orders()
    again = client.post(URL, body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert _ledger_and_orders() == before


@pytest.mark.parametrize("change", [{"price": "54.23"}, {"quantity": 101}, {"side": "sell"}, {"instrument": "CEA22", "price": "55.00"}])
def test_the_same_client_order_id_with_another_body_is_a_conflict(path, funded, cea21, trader_a, change):
    body = _body(client_order_id="conflict-1")
    services.order_place(user=trader_a, **body)
    assert_refused(path, trader_a, "idempotency_conflict", 409, "client_order_id", **{**body, **change})


def test_another_company_may_use_the_same_client_order_id(funded, cea21, trader_a, trader_b):
    first, _ = services.order_place(user=trader_a, **_body(client_order_id="shared"))
    second, created = services.order_place(user=trader_b, **_body(client_order_id="shared"))
    assert created and second.pk != first.pk


def test_a_replay_is_answered_even_when_the_first_order_used_up_the_position_limit(funded, cea21, trader_a, settings):
    settings.TRADING_POSITION_LIMIT = ALLOWANCES + 100
    body = _body(client_order_id="replay-limit", quantity=100)
    first, _ = services.order_place(user=trader_a, **body)
    again, created = services.order_place(user=trader_a, **body)  # raises PositionLimit
    assert (again.pk, created) == (first.pk, False)


def test_a_replay_is_answered_after_the_instrument_was_halted(funded, cea21, trader_a, exchange_operator):
    body = _body(client_order_id="replay-halt")
    first, _ = services.order_place(user=trader_a, **body)
    services.instrument_set_status(instrument=cea21, status="halted", reason="abnormal trading", actor=exchange_operator)
    again, created = services.order_place(user=trader_a, **body)  # raises InstrumentHalted
    assert (again.pk, created) == (first.pk, False)


def test_order_entry_runs_its_statements_prepared(funded, cea21, trader_a):
    """Parsed and planned once per connection (core.db.Prepared): most of the database's work per order."""
    services.order_place(user=trader_a, instrument="CEA21", side="buy", price="54.00", quantity=10, client_order_id="prepared-1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        texts = [row[0] for row in cursor.fetchall()]
    for fragment in (
        'INSERT INTO "trading_order"',  # the order
        "FROM registry_balance b JOIN registry_account a",  # the balance locks
        "FROM trading_order WHERE organization_id = $1",  # the position check
        "UPDATE registry_balance SET",  # the reservation
        "INSERT INTO registry_transfer",
        'INSERT INTO "core_auditevent"',
        "UPDATE trading_instrument SET last_sequence",  # the sequence number
    ):
        assert any(fragment in text for text in texts), fragment
