"""Random order flow through the real services (order entry, the matcher, settlement, cancel, the end
of the day), step by step against a small reference model of the exchange kept in the test: the same
trades, order states, balances and book after every step, a book that is never crossed, and a ledger
that proves itself."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from registry.models import Account, Balance
from registry.selectors import ledger_verify
from trading import matcher, selectors, services
from trading.clock import trading_day
from trading.models import Instrument, Order, Trade

from .conftest import ALLOWANCES, CASH, balance, cancel, place, run_on_commit

PRICES = [5410, 5415, 5420, 5425, 5430]  # inside the band before and after any close of these prices
RATE = Decimal("0.0005")
_labels = itertools.count(1)


def fee(value: int) -> int:
    return value * 5 // 10_000


def buy_reservation(price: int, quantity: int) -> int:
    return price * quantity + fee(price * quantity)


@dataclass
class ModelOrder:
    label: str
    owner: str
    side: str
    price: int
    quantity: int
    sequence: int
    filled: int = 0
    reserved: int = 0
    status: str = "open"

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled


@dataclass
class Holdings:
    cash_available: int = CASH
    cash_reserved: int = 0
    available: int = ALLOWANCES
    reserved: int = 0
    pending: int = 0


@dataclass
class Exchange:
    """The reference: resting orders in one list, matched by sorting the crossing ones by (price
    priority, sequence); settlement at once (as the in-process task does); no self-trade."""

    holdings: dict[str, Holdings] = field(default_factory=lambda: {"a": Holdings(), "b": Holdings()})
    orders: dict[str, ModelOrder] = field(default_factory=dict)
    trades: list[tuple] = field(default_factory=list)
    fees: int = 0
    sequence: int = 0
    closed: bool = False
    reference_price: int = 5422

    def resting(self) -> list[ModelOrder]:
        return [o for o in self.orders.values() if o.status in ("open", "partially_filled")]

    def submit(self, label: str, owner: str, side: str, price: int, quantity: int) -> list[tuple]:
        self.sequence += 1
        order = ModelOrder(label, owner, side, price, quantity, self.sequence)
        mine = self.holdings[owner]
        if side == "buy":
            order.reserved = buy_reservation(price, quantity)
            mine.cash_available -= order.reserved
            mine.cash_reserved += order.reserved
            crossing = sorted((o for o in self.resting() if o.side == "sell" and o.price <= price), key=lambda o: (o.price, o.sequence))
        else:
            order.reserved = quantity
            mine.available -= quantity
            mine.reserved += quantity
            crossing = sorted((o for o in self.resting() if o.side == "buy" and o.price >= price), key=lambda o: (-o.price, o.sequence))
        self.orders[label] = order
        fills, self_trade = [], False
        for maker in crossing:
            if not order.remaining:
                break
            if maker.owner == owner:
                self_trade = True
                break
            quantity_now = min(order.remaining, maker.remaining)
            buy, sell = (order, maker) if side == "buy" else (maker, order)
            self._fill(buy, sell, maker.price, quantity_now)
            maker.status = "filled" if not maker.remaining else "partially_filled"
            fills.append((buy.label, sell.label, maker.price, quantity_now))
        if self_trade:
            self._release(order, "cancelled")
        else:
            order.status = "filled" if not order.remaining else ("partially_filled" if order.filled else "open")
        self.trades.extend(fills)
        return fills

    def _fill(self, buy: ModelOrder, sell: ModelOrder, price: int, quantity: int) -> None:
        value = price * quantity
        buyer, seller = self.holdings[buy.owner], self.holdings[sell.owner]
        buy.filled += quantity
        sell.filled += quantity
        keep = buy_reservation(buy.price, buy.remaining)
        refund = buy.reserved - value - fee(value) - keep
        assert refund >= 0
        buy.reserved = keep
        buyer.cash_reserved -= value + fee(value) + refund
        buyer.cash_available += refund
        buyer.pending += quantity
        sell.reserved -= quantity
        seller.reserved -= quantity
        seller.cash_available += value - fee(value)
        self.fees += 2 * fee(value)

    def _release(self, order: ModelOrder, status: str) -> None:
        mine = self.holdings[order.owner]
        if order.side == "buy":
            mine.cash_reserved -= order.reserved
            mine.cash_available += order.reserved
        else:
            mine.reserved -= order.reserved
            mine.available += order.reserved
        order.reserved = 0
        order.status = status

    def cancel(self, label: str) -> bool:
        order = self.orders[label]
        if order.status not in ("open", "partially_filled"):
            return False
        self.sequence += 1
        self._release(order, "cancelled")
        return True

    def end_of_day(self) -> None:
        if self.closed:
            return  # once per day: a second run changes nothing
        self.closed = True
        for order in self.resting():
            self._release(order, "expired")
        for holding in self.holdings.values():
            holding.available += holding.pending
            holding.pending = 0
        volume = sum(q for *_, q in self.trades)
        if volume:
            turnover = sum(p * q for *_, p, q in self.trades)
            self.reference_price = (2 * turnover + volume) // (2 * volume)

    def depth(self, side: str) -> list[dict[str, int]]:
        levels: dict[int, list[int]] = {}
        for order in self.resting():
            if order.side == side:
                level = levels.setdefault(order.price, [0, 0])
                level[0] += order.remaining
                level[1] += 1
        return [{"price": p, "quantity": levels[p][0], "orders": levels[p][1]} for p in sorted(levels, reverse=side == "buy")]


orders = st.tuples(
    st.just("order"), st.sampled_from(["a", "b"]), st.sampled_from(["buy", "sell"]),
    st.sampled_from(PRICES), st.integers(1, 500),
)
cancels = st.tuples(st.just("cancel"), st.integers(0, 1_000))
end_of_days = st.tuples(st.just("end_of_day"))
actions = st.lists(st.one_of(orders, orders, orders, cancels, end_of_days), min_size=1, max_size=14)


@pytest.fixture(autouse=True)
def _fee_rate(settings):
    settings.TRADING_FEE_RATE = RATE


class _Rollback(Exception):
    """Ends an example: everything it wrote is rolled back, so examples do not see each other."""


def _check(model: Exchange, cea21, companies, placed: dict[str, Order]) -> None:
    for owner, company in companies.items():
        mine = model.holdings[owner]
        assert balance(company, "CNY") == (mine.cash_available, mine.cash_reserved, 0, 0), owner
        assert balance(company, "CEA21") == (mine.available, mine.reserved, mine.pending, 0), owner
    fees = Balance.objects.get(account__kind=Account.Kind.EXCHANGE_FEES, asset__code="CNY").available
    assert fees == model.fees
    stored = {o.client_order_id: (o.status, o.filled_quantity, o.reserved) for o in Order.objects.filter(pk__in=[o.pk for o in placed.values()])}
    assert stored == {label: (o.status, o.filled, o.reserved) for label, o in model.orders.items()}
    depth = selectors.book_depth(cea21, depth=50)
    assert depth == {"bids": model.depth("buy"), "asks": model.depth("sell")}
    if depth["bids"] and depth["asks"]:
        assert depth["bids"][0]["price"] < depth["asks"][0]["price"], "the committed book is crossed"
    assert not Trade.objects.filter(settled_at__isnull=True).exists()
    instrument = Instrument.objects.get(pk=cea21.pk)
    assert instrument.matching_position.matched_sequence == instrument.last_sequence
    assert instrument.reference_price == model.reference_price
    report = ledger_verify()
    assert report.ok, report.problems


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=actions)
def test_the_exchange_behaves_like_the_reference_model(funded, cea21, trader_a, trader_b, company_a, company_b, steps):
    traders = {"a": trader_a, "b": trader_b}
    companies = {"a": company_a, "b": company_b}
    try:
        with transaction.atomic():
            matcher._matchers.clear()  # its book may be ahead of this example's rolled-back start
            model, placed = Exchange(), {}
            for step in steps:
                if step[0] == "order":
                    _, owner, side, price, quantity = step
                    label = f"ref-{next(_labels)}"
                    first_trade = Trade.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                    placed[label] = place(traders[owner], side, f"{price / 100:.2f}", quantity, client_order_id=label)
                    expected = model.submit(label, owner, side, price, quantity)
                    made = [
                        (t.buy_order.client_order_id, t.sell_order.client_order_id, t.price, t.quantity)
                        for t in Trade.objects.filter(pk__gt=first_trade).select_related("buy_order", "sell_order").order_by("pk")
                    ]
                    assert made == expected
                elif step[0] == "cancel":
                    if not placed:
                        continue
                    label = sorted(placed)[step[1] % len(placed)]
                    owner = model.orders[label].owner
                    if model.cancel(label):
                        cancel(traders[owner], placed[label])
                    else:
                        with pytest.raises(DomainError) as caught:
                            cancel(traders[owner], placed[label])
                        assert caught.value.code == "order_not_open"
                else:
                    run_on_commit(services.end_of_day_expire, day=trading_day())
                    run_on_commit(services.end_of_day_close, day=trading_day())
                    model.end_of_day()
                _check(model, cea21, companies, placed)
            raise _Rollback
    except _Rollback:
        pass
