"""The nightly surveillance job: the day's alerts, each with the evidence an analyst needs, computed from
orders, trades and balances (thresholds are settings, RULEBOOK defaults, all assumed):

- related_party: trades (listed or block) between two members of one related-party group;
- large_holder: a holding account with more than SURVEILLANCE_LARGE_HOLDER_PERCENT of a vintage held in
  holding accounts;
- layering: a member's orders in an instrument outnumber its trades more than SURVEILLANCE_ORDER_TRADE_RATIO
  times, with orders cancelled within SURVEILLANCE_FAST_CANCEL_SECONDS of being placed;
- marking_close: the trades of the last SURVEILLANCE_CLOSE_WINDOW_MINUTES before the last session's end
  move the day's VWAP close more than SURVEILLANCE_CLOSE_MOVE_PERCENT from the VWAP before them;
- limit_price: listed trades at the day's lower or upper price limit, per aggressor.

Running it twice for a day adds nothing (one alert per day, kind, instrument and subject)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from registry.models import Account, Balance
from surveillance.models import Alert, GroupMember
from trading.models import DailyBar, Instrument, Order, Trade


def alerts_compute(day: dt.date) -> int:
    """Raises the day's alerts; returns how many were new."""
    found = [*_related_party(day), *_large_holders(day), *_layering(day), *_marking_close(day), *_limit_prices(day)]
    before = Alert.objects.filter(day=day).count()
    Alert.objects.bulk_create(found, ignore_conflicts=True, batch_size=1000)
    return Alert.objects.filter(day=day).count() - before


def _alert(day: dt.date, kind: str, subject: str, evidence: dict[str, Any], *, instrument_id: int | None = None,
           organization_id: int | None = None) -> Alert:
    return Alert(day=day, kind=kind, subject=subject, evidence=evidence, instrument_id=instrument_id,
                 organization_id=organization_id)


def _related_party(day: dt.date) -> list[Alert]:
    group_of = dict(GroupMember.objects.values_list("organization_id", "group_id"))
    if not group_of:
        return []
    names = dict(GroupMember.objects.values_list("group_id", "group__name"))
    pairs: dict[tuple[int, int, int], dict[str, Any]] = {}
    for pk, instrument_id, buyer, seller, price, quantity, kind in Trade.objects.filter(trading_day=day).values_list(
            "pk", "instrument_id", "buyer_id", "seller_id", "price", "quantity", "kind").iterator(chunk_size=5000):
        group = group_of.get(buyer)
        if group is None or group != group_of.get(seller):
            continue
        entry = pairs.setdefault((instrument_id, min(buyer, seller), max(buyer, seller)), {
            "group": names[group], "buyers": set(), "sellers": set(), "trades": 0, "quantity": 0, "value": 0, "trade_ids": []})
        entry["buyers"].add(buyer)
        entry["sellers"].add(seller)
        entry["trades"] += 1
        entry["quantity"] += quantity
        entry["value"] += price * quantity
        if len(entry["trade_ids"]) < 50:
            entry["trade_ids"].append(pk)
        entry.setdefault("kinds", set()).add(kind)
    return [_alert(day, Alert.Kind.RELATED_PARTY, f"pair:{low}-{high}", {
        **{key: value for key, value in entry.items() if key not in ("buyers", "sellers", "kinds")},
        "buyers": sorted(entry["buyers"]), "sellers": sorted(entry["sellers"]), "kinds": sorted(entry["kinds"]),
    }, instrument_id=instrument_id, organization_id=low) for (instrument_id, low, high), entry in pairs.items()]


def _large_holders(day: dt.date) -> list[Alert]:
    share = settings.SURVEILLANCE_LARGE_HOLDER_PERCENT
    alerts = []
    for instrument in Instrument.objects.select_related("asset"):
        held = Balance.objects.filter(asset=instrument.asset, account__kind=Account.Kind.HOLDING).annotate(
            # Every bucket, as the registry counts a holding (Balance.total, the position limit):
            # allowances not carried over are still held, though they can never trade.
            total_held=Balance.total_expression())
        total = held.aggregate(total=Sum("total_held"))["total"] or 0
        if not total:
            continue
        for organization_id, amount in held.filter(total_held__gt=total * share // 100).values_list(
                "account__organization_id", "total_held"):
            if amount * 100 <= total * share:
                continue
            alerts.append(_alert(day, Alert.Kind.LARGE_HOLDER, f"org:{organization_id}", {
                "held": amount, "vintage_held": total, "share_percent": round(amount * 100 / total, 2), "threshold_percent": share,
            }, instrument_id=instrument.pk, organization_id=organization_id))
    return alerts


def _layering(day: dt.date) -> list[Alert]:
    fast = dt.timedelta(seconds=settings.SURVEILLANCE_FAST_CANCEL_SECONDS)
    placed = Order.objects.filter(trading_day=day).values("organization_id", "instrument_id").annotate(
        orders=Count("pk"), cancels=Count("pk", filter=Q(status=Order.Status.CANCELLED)),
        fast_cancels=Count("pk", filter=Q(status=Order.Status.CANCELLED, updated_at__lte=F("created_at") + fast)))
    trades: dict[tuple[int, int], int] = defaultdict(int)
    listed = Trade.objects.filter(trading_day=day, kind=Trade.Kind.LISTED)
    for side in ("buyer_id", "seller_id"):
        for organization_id, instrument_id, count in listed.values_list(side, "instrument_id").annotate(n=Count("pk")).values_list(
                side, "instrument_id", "n"):
            trades[(organization_id, instrument_id)] += count
    ratio_max = settings.SURVEILLANCE_ORDER_TRADE_RATIO
    alerts = []
    for row in placed:
        traded = trades.get((row["organization_id"], row["instrument_id"]), 0)
        ratio = row["orders"] / max(traded, 1)
        if ratio > ratio_max and row["fast_cancels"]:
            alerts.append(_alert(day, Alert.Kind.LAYERING, f"org:{row['organization_id']}", {
                "orders": row["orders"], "trades": traded, "ratio": round(ratio, 1), "threshold_ratio": ratio_max,
                "cancels": row["cancels"], "fast_cancels": row["fast_cancels"],
                "fast_cancel_seconds": settings.SURVEILLANCE_FAST_CANCEL_SECONDS,
            }, instrument_id=row["instrument_id"], organization_id=row["organization_id"]))
    return alerts


def _vwap(trades: list[tuple[int, int, int]]) -> Decimal | None:
    volume = sum(q for _, q, _ in trades)
    return Decimal(sum(p * q for p, q, _ in trades)) / volume if volume else None


def _marking_close(day: dt.date) -> list[Alert]:
    end = timezone.make_aware(dt.datetime.combine(day, settings.TRADING_SESSIONS[-1][1]))
    start = end - dt.timedelta(minutes=settings.SURVEILLANCE_CLOSE_WINDOW_MINUTES)
    limit = settings.SURVEILLANCE_CLOSE_MOVE_PERCENT
    alerts = []
    for instrument_id in Trade.objects.filter(trading_day=day, kind=Trade.Kind.LISTED).order_by().values_list(
            "instrument_id", flat=True).distinct():  # (order_by(): else the default ordering makes every row distinct)
        rows = Trade.objects.filter(trading_day=day, kind=Trade.Kind.LISTED, instrument_id=instrument_id, executed_at__lt=end)
        before = [(p, q, 0) for p, q in rows.filter(executed_at__lt=start).values_list("price", "quantity")]
        window = list(rows.filter(executed_at__gte=start).values_list("price", "quantity", "buyer_id", "seller_id", "aggressor_side"))
        vwap_before = _vwap(before)
        if vwap_before is None or not window:
            continue
        vwap_all = _vwap(before + [(p, q, 0) for p, q, *_ in window])
        assert vwap_all is not None
        move = abs(vwap_all - vwap_before) * 100 / vwap_before
        if move <= limit:
            continue
        aggressors: dict[int, int] = defaultdict(int)
        for _price, quantity, buyer, seller, side in window:
            aggressors[buyer if side == "buy" else seller] += quantity
        top = max(aggressors, key=lambda org: aggressors[org])
        alerts.append(_alert(day, Alert.Kind.MARKING_CLOSE, f"instrument:{instrument_id}", {
            "vwap_before_window": f"{vwap_before / 100:.4f}", "vwap_close": f"{vwap_all / 100:.4f}", "move_percent": f"{move:.2f}",
            "threshold_percent": str(limit), "window": [f"{timezone.localtime(start):%H:%M}", f"{timezone.localtime(end):%H:%M}"],
            "window_trades": len(window), "window_quantity": sum(q for _, q, *_ in window),
            "aggressors": {str(org): quantity for org, quantity in sorted(aggressors.items(), key=lambda item: -item[1])[:10]},
        }, instrument_id=instrument_id, organization_id=top))
    return alerts


def _limit_prices(day: dt.date) -> list[Alert]:
    alerts = []
    for instrument in Instrument.objects.all():
        bar = DailyBar.objects.filter(instrument=instrument, day=day).first()
        reference = bar.reference_price if bar is not None else instrument.reference_price
        that_day = Instrument(reference_price=reference, band_percent=instrument.band_percent, tick=instrument.tick)
        lower, upper = that_day.lower_limit, that_day.upper_limit
        at_limits: dict[tuple[int, str], dict[str, int]] = {}
        for price, quantity, buyer, seller, side in Trade.objects.filter(
                trading_day=day, kind=Trade.Kind.LISTED, instrument=instrument, price__in=[lower, upper]).values_list(
                "price", "quantity", "buyer_id", "seller_id", "aggressor_side"):
            entry = at_limits.setdefault((buyer if side == "buy" else seller, "upper" if price == upper else "lower"),
                                         {"trades": 0, "quantity": 0, "price": price})
            entry["trades"] += 1
            entry["quantity"] += quantity
        for (organization_id, which), entry in at_limits.items():
            alerts.append(_alert(day, Alert.Kind.LIMIT_PRICE, f"org:{organization_id}:{which}", {
                **entry, "limit": which, "reference_price": reference}, instrument_id=instrument.pk, organization_id=organization_id))
    return alerts
