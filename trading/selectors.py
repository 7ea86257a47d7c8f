"""Reads of the exchange: market data (book depth, tape, candles) and a participant's own orders,
trades and balances."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from accounts.selectors import user_organization_ids
from core.errors import NotFound
from registry.models import Balance
from trading.errors import UnknownInstrument
from trading.models import DailyBar, Instrument, Order, Side, Trade


def instrument_get(symbol: str) -> Instrument:
    instrument = Instrument.objects.select_related("asset").filter(symbol=symbol).first()
    if instrument is None:
        raise UnknownInstrument(f"No instrument {symbol!r}.", field="symbol")
    return instrument


def book_depth(instrument: Instrument, depth: int = 10) -> dict[str, list[dict[str, int]]]:
    """Resting orders aggregated by price level, best first, from the committed book."""
    rows = (
        Order.objects.filter(instrument=instrument, status__in=Order.RESTING)
        .values("side", "price")
        .annotate(quantity=Sum(F("quantity") - F("filled_quantity")), orders=Count("id"))
        .order_by()
    )
    bids = sorted((r for r in rows if r["side"] == Side.BUY), key=lambda r: -r["price"])[:depth]
    asks = sorted((r for r in rows if r["side"] == Side.SELL), key=lambda r: r["price"])[:depth]
    strip = lambda level: {"price": level["price"], "quantity": level["quantity"], "orders": level["orders"]}  # noqa: E731
    return {"bids": [strip(level) for level in bids], "asks": [strip(level) for level in asks]}


def last_trade(instrument: Instrument) -> Trade | None:
    return Trade.objects.filter(instrument=instrument).order_by("-id").first()


def trade_tape(instrument: Instrument) -> QuerySet[Trade]:
    return Trade.objects.filter(instrument=instrument).order_by("-id")


def daily_candles(instrument: Instrument, days: int = 365) -> QuerySet[DailyBar]:
    since = timezone.localdate() - dt.timedelta(days=days)
    return DailyBar.objects.filter(instrument=instrument, day__gte=since).order_by("day")


def intraday_candles(instrument: Instrument, *, day: dt.date, minutes: int = 1) -> list[dict[str, Any]]:
    """OHLC and volume per `minutes` bucket of the day's trades, in market time."""
    buckets: dict[dt.datetime, dict[str, Any]] = {}
    trades = Trade.objects.filter(instrument=instrument, trading_day=day).order_by("executed_at", "id")
    for price, quantity, executed_at in trades.values_list("price", "quantity", "executed_at"):
        local = timezone.localtime(executed_at)
        start = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
        bar = buckets.get(start)
        if bar is None:
            buckets[start] = {"time": start, "open": price, "high": price, "low": price, "close": price, "volume": quantity}
        else:
            bar["high"], bar["low"], bar["close"] = max(bar["high"], price), min(bar["low"], price), price
            bar["volume"] += quantity
    return list(buckets.values())


def orders_of(user: Any) -> QuerySet[Order]:
    return Order.objects.filter(organization_id__in=user_organization_ids(user)).select_related("instrument")


def order_get_for(user: Any, order_id: int) -> Order:
    order = orders_of(user).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.", field="id")
    return order


def trades_of(user: Any) -> QuerySet[Trade]:
    """Trades in which the user's organization bought or sold."""
    organization_ids = user_organization_ids(user)
    return (
        Trade.objects.filter(Q(buyer_id__in=organization_ids) | Q(seller_id__in=organization_ids))
        .select_related("instrument")
        .order_by("-id")
    )


def balances_of(user: Any) -> QuerySet[Balance]:
    return (
        Balance.objects.filter(account__organization_id__in=user_organization_ids(user))
        .select_related("asset", "account")
        .order_by("asset__kind", "asset__code")
    )
