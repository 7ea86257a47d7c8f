"""The nightly surveillance job over a busy day: 100,000 orders (a third cancelled, some within a
second) and 30,000 trades of 500 members in CEA21, 50 related-party groups of four, then
`alerts_compute` is timed (and timed again: the idempotent second run). The rows are bulk-inserted
for the bench's own trading day (a Sunday long ago), not placed through order entry: the job reads
rows, and how they came is order entry's bench. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/surveillance_bench.py [--orders 100000] [--trades 30000]

Target (issue 18): under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time

from _setup import django_ready
from allocation_bench import units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--trades", type=int, default=30_000)
    parser.add_argument("--members", type=int, default=500)
    args = parser.parse_args()
    django_ready()
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Organization, User
    from surveillance.detection import alerts_compute
    from surveillance.models import Alert, GroupMember, PartyGroup
    from trading.models import Instrument, Order, Trade

    day = dt.date(2001, 1, 7)  # the bench's own day: a Sunday no real trading ever had
    rng = random.Random(18)
    codes = units(args.members)
    members = list(Organization.objects.filter(uscc__in=codes).values_list("pk", flat=True))
    user, _ = User.objects.get_or_create(username="bench-surveillance")
    instrument = Instrument.objects.get(symbol="CEA21")
    Alert.objects.filter(day=day).delete()
    Trade.objects.filter(trading_day=day).delete()
    Order.objects.filter(trading_day=day).delete()
    GroupMember.objects.filter(group__name__startswith="Bench group ").delete()
    PartyGroup.objects.filter(name__startswith="Bench group ").delete()
    for index in range(50):
        party = PartyGroup.objects.create(name=f"Bench group {index}", self_trade_prevention=False)
        GroupMember.objects.bulk_create([GroupMember(group=party, organization_id=pk) for pk in members[index * 4:index * 4 + 4]])

    opening = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 30)))
    reference = instrument.reference_price
    orders = []
    layering = members[-1]  # one member places and cancels at once and never trades: a layering alert
    traders = members[:-1]
    for index in range(args.orders):
        placed = opening + dt.timedelta(seconds=index * 0.2)
        spoof = index % 50 == 0
        cancelled = spoof or index % 3 == 0
        orders.append(Order(
            instrument=instrument, organization_id=layering if spoof else rng.choice(traders), placed_by=user, client_order_id=f"bench-sv-{index}",
            side=rng.choice(("buy", "sell")), price=reference + rng.randint(-50, 50), quantity=rng.randint(1, 500),
            status="cancelled" if cancelled else "filled", sequence=None, fee_rate=0, reserved=0, trading_day=day,
            created_at=placed, updated_at=placed + dt.timedelta(seconds=1 if spoof else rng.choice((1, 30)) if cancelled else 0)))
    started = time.monotonic()
    Order.objects.bulk_create(orders, batch_size=5000)
    filled = list(Order.objects.filter(trading_day=day, status="filled").exclude(organization_id=layering).values_list(
        "pk", "organization_id", "side"))
    buys = [row for row in filled if row[2] == "buy"]
    sells = [row for row in filled if row[2] == "sell"]
    trades = []
    for index in range(args.trades):
        buy, sell = rng.choice(buys), rng.choice(sells)
        if buy[1] == sell[1]:
            continue
        # Spread over the day to the close (some in the last ten minutes); one in a hundred at the upper limit.
        executed = opening + dt.timedelta(seconds=index * 19_800 / args.trades)
        trades.append(Trade(
            instrument=instrument, kind="listed", buy_order_id=buy[0], sell_order_id=sell[0], buyer_id=buy[1], seller_id=sell[1],
            price=instrument.upper_limit if index % 100 == 0 else reference + rng.randint(-50, 50), quantity=rng.randint(1, 300), aggressor_side=rng.choice(("buy", "sell")),
            sequence=index, trading_day=day, executed_at=executed, settled_at=executed))
    Trade.objects.bulk_create(trades, batch_size=5000)
    loaded = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE trading_order; ANALYZE trading_trade")

    started = time.monotonic()
    raised = alerts_compute(day)
    first = time.monotonic() - started
    started = time.monotonic()
    again = alerts_compute(day)
    second = time.monotonic() - started
    by_kind = {kind: Alert.objects.filter(day=day, kind=kind).count() for kind in Alert.Kind.values}
    print(json.dumps({
        "bench": "surveillance", "orders": len(orders), "trades": len(trades), "members": len(members),
        "load_seconds": round(loaded, 1), "alerts_seconds": round(first, 2), "alerts_raised": raised, "by_kind": by_kind,
        "second_run_seconds": round(second, 2), "second_run_raised": again, "target_seconds": 30, "target_met": first < 30,
    }))


if __name__ == "__main__":
    main()
