"""Reads of the exchange: market data (book depth, tape, candles) and a participant's own orders,
trades and balances."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import user_organization_ids
from core.errors import NotFound
from registry.models import Account, Balance
from trading.clock import trading_day
from trading.errors import UnknownInstrument
from trading.models import DailyBar, Instrument, Order, Side, Trade


def instrument_get(symbol: str) -> Instrument:
    instrument = Instrument.objects.select_related("asset").filter(symbol=symbol).first()
    if instrument is None:
        raise instrument_unknown(symbol)
    return instrument


def instrument_unknown(symbol: str) -> UnknownInstrument:
    """The refusal of a symbol in a URL's path that names no instrument (the readers of an instrument
    raise it): no such resource, a 404 `unknown_instrument` (in a body or query it is a 400)."""
    error = UnknownInstrument(_("No instrument %(symbol)s.") % {"symbol": repr(symbol)}, field="symbol")
    error.status = 404
    return error


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
    """The listed market's trades (block trades are reported apart)."""
    return Trade.objects.filter(instrument=instrument, kind=Trade.Kind.LISTED).order_by("-id")


def daily_candles(instrument: Instrument, days: int = 365) -> list[DailyBar]:
    """The stored daily bars, and today's bar so far (not stored) once today has traded: it becomes
    final at the end of day."""
    today = trading_day()
    bars = list(DailyBar.objects.filter(instrument=instrument, day__gte=today - dt.timedelta(days=days)).order_by("day"))
    if not any(bar.day == today for bar in bars):
        provisional = daily_bar_compute(instrument, today)
        if provisional.volume:
            bars.append(provisional)
    return bars


def trade_totals(trades: QuerySet[Trade]) -> tuple[int, int, int]:
    """(volume in tonnes, turnover in fen, count) of some trades, in one query."""
    totals = trades.order_by().aggregate(volume=Sum("quantity"), turnover=Sum(F("price") * F("quantity")), count=Count("pk"))
    return totals["volume"] or 0, totals["turnover"] or 0, totals["count"]


def daily_bar_compute(instrument: Instrument, day: dt.date) -> DailyBar:
    """The day's bar from its listed trades, not stored: open, high, low, volume, turnover and the close,
    which is the volume-weighted average price rounded half up to the fen (else the reference price).
    Block trades stay out of all of these: their volume and turnover are reported apart."""
    day_trades = Trade.objects.filter(instrument=instrument, trading_day=day)
    trades = list(day_trades.filter(kind=Trade.Kind.LISTED).order_by("executed_at", "pk").values_list("price", "quantity"))
    block_volume, block_turnover, _count = trade_totals(day_trades.filter(kind=Trade.Kind.BLOCK))
    volume = sum(q for _, q in trades)
    turnover = sum(p * q for p, q in trades)
    if volume:
        close = (2 * turnover + volume) // (2 * volume) // instrument.tick * instrument.tick
    else:
        close = instrument.reference_price
    return DailyBar(
        instrument=instrument, day=day, open=trades[0][0] if trades else None,
        high=max((p for p, _ in trades), default=None), low=min((p for p, _ in trades), default=None),
        close=close, volume=volume, turnover=turnover, trade_count=len(trades), reference_price=instrument.reference_price,
        block_volume=block_volume, block_turnover=block_turnover,
    )


def intraday_candles(instrument: Instrument, *, day: dt.date, minutes: int = 1) -> list[dict[str, Any]]:
    """OHLC, volume and turnover (fen) per `minutes` bucket of the day's trades, in market time."""
    buckets: dict[dt.datetime, dict[str, Any]] = {}
    trades = Trade.objects.filter(instrument=instrument, trading_day=day, kind=Trade.Kind.LISTED).order_by("executed_at", "id")
    for price, quantity, executed_at in trades.values_list("price", "quantity", "executed_at"):
        local = timezone.localtime(executed_at)
        start = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
        bar = buckets.get(start)
        if bar is None:
            buckets[start] = {"time": start, "open": price, "high": price, "low": price, "close": price, "volume": quantity,
                              "turnover": price * quantity}
        else:
            bar["high"], bar["low"], bar["close"] = max(bar["high"], price), min(bar["low"], price), price
            bar["volume"] += quantity
            bar["turnover"] += price * quantity
    return list(buckets.values())


def orders_of(user: Any) -> QuerySet[Order]:
    return Order.objects.filter(organization_id__in=user_organization_ids(user)).select_related("instrument")


def order_get_for(user: Any, order_id: int) -> Order:
    order = orders_of(user).filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."), field="id")
    return order


def trades_of(user: Any) -> QuerySet[Trade]:
    """Trades in which the user's organization bought or sold."""
    organization_ids = user_organization_ids(user)
    return (
        Trade.objects.filter(Q(buyer_id__in=organization_ids) | Q(seller_id__in=organization_ids))
        .select_related("instrument")
        .order_by("-id")
    )


def fills_of(user: Any, instrument: Instrument, *, after: int, limit: int = 20) -> list[dict[str, Any]]:
    """The user's organization's fills in `instrument` after trade `after`, oldest first: each trade with
    the side the organization took and its order."""
    organization_ids = user_organization_ids(user)
    trades = trades_of(user).filter(instrument=instrument, pk__gt=after).order_by("id")[:limit]
    fills = []
    for trade in trades:
        if trade.buyer_id in organization_ids:
            fills.append({"trade": trade, "side": Side.BUY, "order_id": trade.buy_order_id})
        if trade.seller_id in organization_ids:
            fills.append({"trade": trade, "side": Side.SELL, "order_id": trade.sell_order_id})
    return fills


def last_fill_id(user: Any, instrument: Instrument) -> int:
    """The newest trade of the user's organization in `instrument` (0 if none): where fill notices start."""
    return trades_of(user).filter(instrument=instrument).values_list("id", flat=True).first() or 0


def balances_of(user: Any) -> QuerySet[Balance]:
    return (
        Balance.objects.filter(account__organization_id__in=user_organization_ids(user))
        .select_related("asset", "account")
        .order_by("asset__kind", "asset__code")
    )


_DAY_STATISTICS = {"volume": Sum("quantity"), "turnover": Sum(F("price") * F("quantity")), "trades": Count("id"),
                   "high": Max("price"), "low": Min("price")}
_statistics_remembered: dict[dt.date, tuple[float, dict[int, dict[str, Any]]]] = {}


def _day_statistics_by_instrument(day: dt.date) -> dict[int, dict[str, Any]]:
    """The day's trading so far per instrument id: volume (t), turnover (fen), trade count, high and
    low. An aggregate over the day's trades, so remembered for MARKET_STATISTICS_MS in this process:
    every open market and trading page asks again on each live update, and a busy day holds hundreds
    of thousands of trades."""
    remembered = _statistics_remembered.get(day)
    if remembered is not None and (time.monotonic() - remembered[0]) * 1000 < settings.MARKET_STATISTICS_MS:
        return remembered[1]
    statistics = {row.pop("instrument_id"): row for row in Trade.objects.filter(trading_day=day).values("instrument_id")
                  .annotate(**_DAY_STATISTICS).order_by()}
    _statistics_remembered.clear()  # (only the day asked for last is kept)
    if settings.MARKET_STATISTICS_MS:
        _statistics_remembered[day] = (time.monotonic(), statistics)
    return statistics


def day_statistics(instrument: Instrument, day: dt.date) -> dict[str, Any]:
    """The day's trading so far: volume (t), turnover (fen), trade count, high and low."""
    stats = _day_statistics_by_instrument(day).get(instrument.pk, {})
    return {"trades": 0, "high": None, "low": None, **stats, "volume": stats.get("volume") or 0, "turnover": stats.get("turnover") or 0}


def market_overview(day: dt.date) -> list[dict[str, Any]]:
    """Per instrument: last price, change against the reference price (the previous close), the day's
    volume and turnover. The last price is each instrument's latest trade, one step back along the
    (instrument, executed_at, id) index: never a scan of every trade."""
    latest = Trade.objects.filter(instrument=OuterRef("pk")).order_by("-executed_at", "-id").values("price")[:1]
    instruments = list(Instrument.objects.select_related("asset").annotate(last_price=Subquery(latest)).order_by("symbol"))
    today = _day_statistics_by_instrument(day)
    rows = []
    for instrument in instruments:
        stats = today.get(instrument.pk, {})
        last = instrument.last_price
        rows.append({
            "instrument": instrument,
            "last_price": last,
            "change": None if last is None else last - instrument.reference_price,
            "change_percent": None if last is None else (last - instrument.reference_price) * 100 / instrument.reference_price,
            "volume": stats.get("volume") or 0,
            "turnover": stats.get("turnover") or 0,
            "trades": stats.get("trades") or 0,
            "high": stats.get("high"),
            "low": stats.get("low"),
        })
    return rows


def open_orders_of(user: Any, instrument: Instrument) -> QuerySet[Order]:
    return orders_of(user).filter(instrument=instrument, status__in=Order.LIVE).order_by("-id")


def trading_balances_of(user: Any, instrument: Instrument) -> QuerySet[Balance]:
    """The user's organization's cash and its holding of the instrument's vintage."""
    return balances_of(user).filter(
        Q(account__kind=Account.Kind.CASH, asset__code="CNY") | Q(account__kind=Account.Kind.HOLDING, asset=instrument.asset_id)
    )
