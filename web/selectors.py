"""Reads for the company pages: my balances per asset, today's P&L, obligations, and my orders and
fills with the pages' filters. Everything is scoped to the user's own organizations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum

from accounts.selectors import user_organization_ids
from allocation.models import CompliancePeriod
from compliance.selectors import Obligation, obligations
from registry.models import Asset
from trading.models import Order, Side, Trade
from trading.selectors import balances_of, orders_of, trades_of


@dataclass
class AssetHolding:
    asset: Asset
    available: int = 0
    reserved: int = 0
    pending: int = 0
    frozen: int = 0
    not_carried: int = 0

    @property
    def total(self) -> int:
        return self.available + self.reserved + self.pending + self.frozen + self.not_carried


def holdings_by_asset(user: Any) -> list[AssetHolding]:
    """The user's organizations' balances summed per asset (all its accounts), held assets only."""
    rows = (
        balances_of(user).order_by().values("asset_id")
        .annotate(available=Sum("available"), reserved=Sum("reserved"), pending=Sum("pending"), frozen=Sum("frozen"),
                  not_carried=Sum("not_carried"))
    )
    assets = {asset.pk: asset for asset in Asset.objects.all()}
    holdings = [
        AssetHolding(asset=assets[row["asset_id"]], available=row["available"], reserved=row["reserved"],
                     pending=row["pending"], frozen=row["frozen"], not_carried=row["not_carried"])
        for row in rows
    ]
    return sorted((h for h in holdings if h.total), key=lambda h: (h.asset.kind != Asset.Kind.CASH, h.asset.code))


@dataclass
class InstrumentCashFlow:
    symbol: str
    bought: int = 0  # tonnes
    bought_value: int = 0  # fen
    sold: int = 0
    sold_value: int = 0
    fees: int = 0

    @property
    def net(self) -> int:
        """Net cash flow: what the sales brought in, less what the purchases cost, less fees. Not a
        realised profit (the cost of the allowances sold, often a free allocation, is not known here)."""
        return self.sold_value - self.bought_value - self.fees

    @property
    def net_quantity(self) -> int:
        return self.bought - self.sold


@dataclass
class DayCashFlow:
    day: dt.date
    instruments: list[InstrumentCashFlow] = field(default_factory=list)

    @property
    def fees(self) -> int:
        return sum(row.fees for row in self.instruments)

    @property
    def net(self) -> int:
        return sum(row.net for row in self.instruments)

    @property
    def trades(self) -> bool:
        return bool(self.instruments)


def cash_flow_of_day(user: Any, day: dt.date) -> DayCashFlow:
    """Today's trading of the user's organizations, per instrument: tonnes bought and sold, fees and the
    net cash flow, from the trades at their prices."""
    organization_ids = user_organization_ids(user)
    rows: dict[str, InstrumentCashFlow] = {}
    for trade in trades_of(user).filter(trading_day=day).order_by().values(
        "instrument__symbol", "buyer_id", "seller_id", "price", "quantity", "buyer_fee", "seller_fee"
    ):
        row = rows.setdefault(trade["instrument__symbol"], InstrumentCashFlow(symbol=trade["instrument__symbol"]))
        value = trade["price"] * trade["quantity"]
        if trade["buyer_id"] in organization_ids:
            row.bought += trade["quantity"]
            row.bought_value += value
            row.fees += trade["buyer_fee"]
        if trade["seller_id"] in organization_ids:
            row.sold += trade["quantity"]
            row.sold_value += value
            row.fees += trade["seller_fee"]
    return DayCashFlow(day=day, instruments=[rows[symbol] for symbol in sorted(rows)])


def my_obligations(user: Any, *, periods: int = 3) -> list[Obligation]:
    """The user's organizations' obligations in the latest compliance periods."""
    organization_ids = user_organization_ids(user)
    if not organization_ids:
        return []
    found: list[Obligation] = []
    for period in CompliancePeriod.objects.order_by("-last_year", "-first_year")[:periods]:
        found.extend(obligations(period, organization_ids))
    return found


def orders_filtered(
    user: Any, *, status: str = "", instrument: str = "", side: str = "",
    date_from: dt.date | None = None, date_to: dt.date | None = None,
) -> QuerySet[Order]:
    orders = orders_of(user).order_by("-id")
    if status == "live":
        orders = orders.filter(status__in=Order.LIVE)
    elif status:
        orders = orders.filter(status=status)
    if instrument:
        orders = orders.filter(instrument__symbol=instrument)
    if side:
        orders = orders.filter(side=side)
    if date_from:
        orders = orders.filter(trading_day__gte=date_from)
    if date_to:
        orders = orders.filter(trading_day__lte=date_to)
    return orders


def trades_filtered(
    user: Any, *, instrument: str = "", side: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
) -> QuerySet[Trade]:
    trades = trades_of(user)
    organization_ids = user_organization_ids(user)
    if instrument:
        trades = trades.filter(instrument__symbol=instrument)
    if side == Side.BUY:
        trades = trades.filter(buyer_id__in=organization_ids)
    elif side == Side.SELL:
        trades = trades.filter(seller_id__in=organization_ids)
    if date_from:
        trades = trades.filter(trading_day__gte=date_from)
    if date_to:
        trades = trades.filter(trading_day__lte=date_to)
    return trades


def order_fills(order: Order) -> QuerySet[Trade]:
    return Trade.objects.filter(Q(buy_order=order) | Q(sell_order=order)).select_related("instrument").order_by("id")


@dataclass
class Fill:
    """A trade seen from one side: mine."""

    trade: Trade
    side: str
    order_id: int
    fee: int

    @property
    def value(self) -> int:
        return self.trade.price * self.trade.quantity


def as_fills(user: Any, trades: Iterable[Trade]) -> list[Fill]:
    organization_ids = user_organization_ids(user)
    fills = []
    for trade in trades:
        buying = trade.buyer_id in organization_ids
        fills.append(Fill(
            trade=trade, side=Side.BUY if buying else Side.SELL,
            order_id=trade.buy_order_id if buying else trade.sell_order_id,
            fee=trade.buyer_fee if buying else trade.seller_fee,
        ))
    return fills
