"""Matching through the services and the matcher, with the ledger: fills, reservations and their
release, self-trade prevention between traders of one company, cancel and the end of the day."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DomainError
from registry.models import Account, Balance, Transfer
from trading import services, settlement
from trading.clock import trading_day
from trading.models import DailyBar, Instrument, MarketEvent, Order, Trade

from .conftest import ALLOWANCES, CASH, api_client, balance, cancel, fund, place, run_on_commit


@pytest.fixture(autouse=True)
def _fee_rate(settings):
    settings.TRADING_FEE_RATE = Decimal("0.0005")


def fee(value: int) -> int:
    return value * 5 // 10_000  # 0.05 %, rounded down


def fees_collected() -> int:
    return Balance.objects.get(account__kind=Account.Kind.EXCHANGE_FEES, asset__code="CNY").available


def trades():
    return list(Trade.objects.order_by("pk").values_list("buy_order_id", "sell_order_id", "price", "quantity"))


def test_a_crossing_pair_fills_both_orders_and_settles_delivery_versus_payment(funded, cea21, trader_a, trader_b, company_a, company_b):
    sell = place(trader_b, "sell", "54.00", 100)
    buy = place(trader_a, "buy", "54.00", 100)
    sell.refresh_from_db()
    assert (buy.status, sell.status) == (Order.Status.FILLED, Order.Status.FILLED)
    assert (buy.filled_quantity, sell.filled_quantity, buy.reserved, sell.reserved) == (100, 100, 0, 0)
    trade = Trade.objects.get()
    assert (trade.buy_order_id, trade.sell_order_id, trade.buyer_id, trade.seller_id) == (buy.pk, sell.pk, company_a.pk, company_b.pk)
    assert (trade.price, trade.quantity, trade.aggressor_side, trade.sequence) == (5400, 100, "buy", buy.sequence)
    assert (trade.buyer_fee, trade.seller_fee) == (270, 270)
    assert trade.settled_at is not None
    assert balance(company_a, "CNY") == (CASH - 540_000 - 270, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 100, 0)
    assert balance(company_b, "CNY") == (CASH + 540_000 - 270, 0, 0, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES - 100, 0, 0, 0)
    assert fees_collected() == 540
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 2


def test_a_partial_fill_rests_the_remainder_with_exactly_its_reservation(funded, cea21, trader_a, trader_b, company_a):
    place(trader_b, "sell", "54.00", 100)
    buy = place(trader_a, "buy", "54.50", 300)
    assert (buy.status, buy.filled_quantity, buy.remaining) == (Order.Status.PARTIALLY_FILLED, 100, 200)
    keep = 200 * 5450 + fee(200 * 5450)
    assert buy.reserved == keep
    assert balance(company_a, "CNY") == (CASH - 540_000 - fee(540_000) - keep, keep, 0, 0)
    assert trades() == [(buy.pk, Order.objects.get(side="sell").pk, 5400, 100)]


def test_an_incoming_order_sweeps_several_levels_at_each_makers_price(funded3, cea21, trader_a, trader_b, trader_c, company_a, company_c):
    first = place(trader_b, "sell", "54.00", 100)
    second = place(trader_c, "sell", "54.10", 100)
    third = place(trader_b, "sell", "54.20", 100)
    beyond = place(trader_c, "sell", "54.30", 100)
    buy = place(trader_a, "buy", "54.20", 250)
    assert trades() == [(buy.pk, first.pk, 5400, 100), (buy.pk, second.pk, 5410, 100), (buy.pk, third.pk, 5420, 50)]
    assert buy.status == Order.Status.FILLED and buy.reserved == 0
    third.refresh_from_db()
    beyond.refresh_from_db()
    assert (third.status, third.remaining, beyond.status) == (Order.Status.PARTIALLY_FILLED, 50, Order.Status.OPEN)
    paid = 540_000 + 541_000 + 271_000 + fee(540_000) + fee(541_000) + fee(271_000)
    assert balance(company_a, "CNY") == (CASH - paid, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 250, 0)
    assert balance(company_c, "CEA21") == (ALLOWANCES - 200, 100, 0, 0)


def test_a_better_price_releases_the_unused_reservation_on_the_fill(funded, cea21, trader_a, trader_b, company_a, settlement_held):
    sell = place(trader_b, "sell", "54.50", 100)
    reserved_at_entry = 550_000 + fee(550_000)
    buy = place(trader_a, "buy", "55.00", 100)
    consumed = 545_000 + fee(545_000)
    # Matched but not settled: the fill's value and fee stay reserved, the rest is back at once.
    assert buy.status == Order.Status.FILLED and buy.reserved == 0
    assert balance(company_a, "CNY") == (CASH - consumed, consumed, 0, 0)
    release = Transfer.objects.get(kind=Transfer.Kind.RELEASE, reference=f"order:{buy.pk}")
    assert release.amount == reserved_at_entry - consumed == 5_003
    trade = Trade.objects.get()
    assert settlement_held.queued == [[trade.pk]] and trade.settled_at is None
    assert settlement.trades_settle() == 1
    assert balance(company_a, "CNY") == (CASH - consumed, 0, 0, 0)
    assert trade.price == 5450 and sell.pk == trade.sell_order_id


def test_an_incoming_sell_trades_at_the_resting_buys_higher_price(funded, cea21, trader_a, trader_b, company_b):
    buy = place(trader_a, "buy", "55.00", 100)
    sell = place(trader_b, "sell", "54.00", 100)
    assert trades() == [(buy.pk, sell.pk, 5500, 100)]
    assert Trade.objects.get().aggressor_side == "sell"
    assert balance(company_b, "CNY") == (CASH + 550_000 - fee(550_000), 0, 0, 0)


def test_at_one_price_the_earlier_order_fills_first(funded3, cea21, trader_a, trader_b, trader_c):
    earlier = place(trader_b, "sell", "54.00", 100)
    later = place(trader_c, "sell", "54.00", 100)
    buy = place(trader_a, "buy", "54.00", 150)
    assert trades() == [(buy.pk, earlier.pk, 5400, 100), (buy.pk, later.pk, 5400, 50)]
    later.refresh_from_db()
    assert (later.status, later.remaining, later.reserved) == (Order.Status.PARTIALLY_FILLED, 50, 50)


def test_a_trader_cannot_trade_with_a_colleague_the_buy_is_cancelled(funded, cea21, trader_a, trader_a2, company_a):
    sell = place(trader_a, "sell", "54.00", 100)
    buy = place(trader_a2, "buy", "54.00", 100)
    assert Trade.objects.count() == 0
    assert (buy.status, buy.filled_quantity, buy.reserved) == (Order.Status.CANCELLED, 0, 0)
    sell.refresh_from_db()
    assert sell.status == Order.Status.OPEN
    assert balance(company_a, "CNY") == (CASH, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 100, 100, 0, 0)


def test_self_trade_prevention_stops_before_a_later_level_of_another_company(funded, cea21, trader_a, trader_a2, trader_b, company_a):
    own = place(trader_a, "sell", "54.00", 100)
    other = place(trader_b, "sell", "54.10", 100)
    buy = place(trader_a2, "buy", "54.10", 200)
    assert Trade.objects.count() == 0
    assert buy.status == Order.Status.CANCELLED
    for resting in (own, other):
        resting.refresh_from_db()
        assert resting.status == Order.Status.OPEN
    assert balance(company_a, "CNY") == (CASH, 0, 0, 0)


def test_self_trade_prevention_keeps_earlier_fills_and_cancels_only_the_rest(funded, cea21, trader_a, trader_a2, trader_b, company_a):
    other = place(trader_b, "sell", "54.00", 50)
    place(trader_a, "sell", "54.05", 100)
    buy = place(trader_a2, "buy", "54.10", 200)
    assert trades() == [(buy.pk, other.pk, 5400, 50)]
    assert (buy.status, buy.filled_quantity, buy.reserved) == (Order.Status.CANCELLED, 50, 0)
    assert balance(company_a, "CNY") == (CASH - 270_000 - fee(270_000), 0, 0, 0)


def test_cancel_releases_a_resting_buys_whole_reservation(funded, cea21, trader_b, company_b):
    buy = place(trader_b, "buy", "50.00", 200)
    assert balance(company_b, "CNY") == (CASH - 1_000_000 - 500, 1_000_500, 0, 0)
    assert cancel(trader_b, buy).status == Order.Status.CANCELLED
    assert (buy.reserved, buy.cancel_requested) == (0, True)
    assert balance(company_b, "CNY") == (CASH, 0, 0, 0)
    assert MarketEvent.objects.filter(kind="cancel", order=buy).count() == 1


def test_cancel_after_a_partial_fill_releases_exactly_the_remainder(funded, cea21, trader_a, trader_b, company_a, company_b):
    sell = place(trader_a, "sell", "53.00", 300)
    place(trader_b, "buy", "53.00", 100)
    assert cancel(trader_a, sell).status == Order.Status.CANCELLED
    assert (sell.filled_quantity, sell.reserved) == (100, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 100, 0, 0, 0)

    resting_sell = place(trader_a, "sell", "53.50", 100)
    buy = place(trader_b, "buy", "54.00", 300)  # 100 at 53.50, 200 rest at 54.00
    assert buy.reserved == 200 * 5400 + fee(200 * 5400)
    assert cancel(trader_b, buy).status == Order.Status.CANCELLED
    spent = 530_000 + fee(530_000) + 535_000 + fee(535_000)
    assert balance(company_b, "CNY") == (CASH - spent, 0, 0, 0)
    assert resting_sell.pk in {t[1] for t in trades()}


def test_cancel_of_a_filled_or_cancelled_order_is_refused(funded, cea21, trader_a, trader_b):
    sell = place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    resting = place(trader_a, "buy", "50.00", 10)
    cancel(trader_a, resting)
    events = MarketEvent.objects.count()
    for user, order in ((trader_b, sell), (trader_a, resting)):
        with pytest.raises(DomainError) as caught:
            services.order_cancel(user=user, order_id=order.pk)
        assert (caught.value.code, caught.value.status) == ("order_not_open", 409)
    assert MarketEvent.objects.count() == events


def test_a_second_cancel_request_is_not_sequenced_again(funded, cea21, trader_b, settings):
    settings.MATCHER_INLINE = False  # the first request waits for the matcher
    buy, _ = services.order_place(user=trader_b, instrument="CEA21", side="buy", price="50.00", quantity=10, client_order_id="c1")
    services.order_cancel(user=trader_b, order_id=buy.pk)
    again = services.order_cancel(user=trader_b, order_id=buy.pk)
    assert again.cancel_requested
    assert MarketEvent.objects.filter(kind="cancel", order=buy).count() == 1


def test_a_company_cannot_cancel_another_companys_order(funded, cea21, trader_a, trader_b, company_b):
    sell = place(trader_b, "sell", "56.00", 100)
    response = api_client(trader_a).delete(f"/api/v1/orders/{sell.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    with pytest.raises(DomainError) as caught:
        services.order_cancel(user=trader_a, order_id=sell.pk)
    assert caught.value.code == "not_found"
    sell.refresh_from_db()
    assert (sell.status, sell.cancel_requested) == (Order.Status.OPEN, False)
    assert not MarketEvent.objects.filter(kind="cancel").exists()
    assert balance(company_b, "CEA21") == (ALLOWANCES - 100, 100, 0, 0)


def test_allowances_bought_today_cannot_be_sold_before_the_close(funded, cea21, trader_b, trader_c, company_c, national_regulator, exchange_operator):
    fund(company_c, regulator=national_regulator, operator=exchange_operator, allowances=0)
    place(trader_b, "sell", "54.00", 100)
    place(trader_c, "buy", "54.00", 100)
    assert balance(company_c, "CEA21") == (0, 0, 100, 0)
    with pytest.raises(DomainError) as caught:
        place(trader_c, "sell", "54.00", 1)
    assert caught.value.code == "insufficient_allowances"
    end_of_day()
    assert balance(company_c, "CEA21") == (100, 0, 0, 0)
    assert place(trader_c, "sell", "54.00", 100).status == Order.Status.OPEN


def test_sale_proceeds_can_be_spent_at_once(funded, cea21, trader_a, trader_c, company_c, national_regulator, exchange_operator):
    fund(company_c, regulator=national_regulator, operator=exchange_operator, cash=0, allowances=100)
    place(trader_c, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    proceeds = 540_000 - fee(540_000)
    assert balance(company_c, "CNY") == (proceeds, 0, 0, 0)
    buy = place(trader_c, "buy", "54.00", 99)  # 534,600 + 267 fee
    assert buy.status == Order.Status.OPEN
    assert balance(company_c, "CNY") == (proceeds - 534_867, 534_867, 0, 0)


# --- the end of the day ---


def end_of_day(day=None):
    day = day or trading_day()
    sequences = run_on_commit(services.end_of_day_expire, day=day)
    return sequences, run_on_commit(services.end_of_day_close, day=day)


def test_end_of_day_expires_orders_closes_at_the_vwap_and_releases_pending(
    funded, cea21, trader_a, trader_b, company_a, company_b
):
    day = trading_day()
    b_sell = place(trader_b, "sell", "54.01", 300)
    place(trader_a, "buy", "54.01", 100)  # 100 at 54.01; 200 of B's sell left
    a_buy = place(trader_a, "buy", "53.00", 200)
    place(trader_a, "sell", "54.00", 100)
    place(trader_b, "buy", "54.00", 100)  # 100 at 54.00
    assert [(t[2], t[3]) for t in trades()] == [(5401, 100), (5400, 100)]

    expiries = run_on_commit(services.end_of_day_expire, day=day)
    assert len(expiries) == Instrument.objects.count()
    for order in (b_sell, a_buy):
        order.refresh_from_db()
        assert (order.status, order.reserved) == (Order.Status.EXPIRED, 0)
    assert not Order.objects.filter(status__in=Order.LIVE).exists()
    assert balance(company_a, "CNY")[1] == 0 and balance(company_b, "CEA21")[1] == 0
    assert balance(company_a, "CEA21") == (ALLOWANCES - 100, 0, 100, 0)  # bought today: pending (T+1)

    bars = run_on_commit(services.end_of_day_close, day=day)
    assert len(bars) == Instrument.objects.count()
    bar = DailyBar.objects.get(instrument=cea21, day=day)
    # VWAP = 1,080,100 / 200 = 5400.5 fen: rounded half up to 54.01
    assert (bar.open, bar.high, bar.low, bar.close) == (5401, 5401, 5400, 5401)
    assert (bar.volume, bar.turnover, bar.trade_count, bar.reference_price) == (200, 1_080_100, 2, 5422)
    instrument = Instrument.objects.get(pk=cea21.pk)
    assert (instrument.reference_price, instrument.lower_limit, instrument.upper_limit) == (5401, 4861, 5941)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 0, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES, 0, 0, 0)
    assert Transfer.objects.filter(kind=Transfer.Kind.PENDING_RELEASE, reference=f"eod:{day}").count() == 2

    # Once per day: running it again changes nothing.
    snapshot = (Transfer.objects.count(), DailyBar.objects.count(), MarketEvent.objects.count(),
                list(Instrument.objects.values_list("reference_price", flat=True)))
    assert end_of_day(day) == ([], [])
    assert snapshot == (Transfer.objects.count(), DailyBar.objects.count(), MarketEvent.objects.count(),
                        list(Instrument.objects.values_list("reference_price", flat=True)))


def test_the_close_carries_the_reference_over_when_nothing_traded(funded, cea21, trader_a, trader_b, company_a):
    resting = place(trader_a, "buy", "50.00", 100)
    place(trader_b, "sell", "58.00", 100)
    cea22_reference = Instrument.objects.get(symbol="CEA22").reference_price
    end_of_day()
    bar = DailyBar.objects.get(instrument=cea21)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trade_count) == (None, None, None, 5422, 0, 0)
    assert Instrument.objects.get(pk=cea21.pk).reference_price == 5422
    assert Instrument.objects.get(symbol="CEA22").reference_price == cea22_reference
    resting.refresh_from_db()
    assert resting.status == Order.Status.EXPIRED
    assert balance(company_a, "CNY") == (CASH, 0, 0, 0)
    with pytest.raises(DomainError) as caught:
        services.order_cancel(user=trader_a, order_id=resting.pk)
    assert caught.value.code == "order_not_open"


def test_the_close_waits_until_the_matcher_applied_the_expiry(funded, cea21, trader_a):
    place(trader_a, "buy", "50.00", 100)
    services.end_of_day_expire(day=trading_day())  # queued, not yet matched (nothing commits here)
    with pytest.raises(DomainError) as caught:
        services.end_of_day_close(day=trading_day())
    assert caught.value.code == "end_of_day_pending"
    assert not DailyBar.objects.exists()


def test_an_order_of_the_next_day_is_not_expired_by_todays_expiry(funded, cea21, trader_a, company_a):
    import datetime as dt

    yesterday = trading_day() - dt.timedelta(days=1)
    order = place(trader_a, "buy", "50.00", 100)
    end_of_day(yesterday)
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert balance(company_a, "CNY")[1] == order.reserved > 0
