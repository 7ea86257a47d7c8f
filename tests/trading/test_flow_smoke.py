from decimal import Decimal

from trading.models import Order, Trade

from .conftest import ALLOWANCES, CASH, balance, cancel, place


def test_a_crossing_pair_trades_settles_and_refunds_the_price_improvement(funded, cea21, trader_a, trader_b, company_a, company_b, settings):
    rate = Decimal("0.0005")
    settings.TRADING_FEE_RATE = rate
    sell = place(trader_b, "sell", "54.50", 100)
    assert sell.status == Order.Status.OPEN
    buy = place(trader_a, "buy", "55.00", 100)
    assert buy.status == Order.Status.FILLED
    trade = Trade.objects.get()
    assert (trade.price, trade.quantity, trade.aggressor_side) == (5450, 100, "buy")
    assert trade.settled_at is not None  # settled by the task queued on commit
    value = 5450 * 100
    fee = int(value * rate)
    assert balance(company_a, "CNY") == (CASH - value - fee, 0, 0, 0)
    assert balance(company_b, "CNY") == (CASH + value - fee, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 100, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES - 100, 0, 0, 0)


def test_cancel_releases_the_reservation(funded, cea21, trader_a, company_a):
    order = place(trader_a, "sell", "56.00", 500)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 500, 500, 0, 0)
    assert cancel(trader_a, order).status == Order.Status.CANCELLED
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 0, 0)
