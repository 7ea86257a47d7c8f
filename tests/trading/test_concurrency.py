"""Order entry from many threads at once: every order is sequenced exactly once and without gaps,
everything is matched, and fills, trades and reservations agree."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import Sum

from registry.models import Balance
from trading import selectors, services
from trading.matcher import matching_sweep
from trading.models import Instrument, Order, Trade

THREADS = 6
ORDERS_PER_THREAD = 30


@pytest.mark.django_db(transaction=True)
def test_orders_placed_at_once_are_sequenced_matched_and_settled_consistently(
    funded3, cea21, trader_a, trader_a2, trader_b, trader_c, company_b, company_c, caplog
):
    from accounts.roles import Role
    from tests.factories import user_with_role

    traders = [trader_a, trader_a2, trader_b, user_with_role(Role.COMPANY_TRADER, company_b),
               trader_c, user_with_role(Role.COMPANY_TRADER, company_c)]
    start = threading.Barrier(THREADS)
    errors: list[tuple[int, BaseException]] = []
    accepted: list[int] = []

    def trade(number: int, user) -> None:
        rng = random.Random(number)  # deterministic per thread; the interleaving is not
        try:
            start.wait(10)
            for i in range(ORDERS_PER_THREAD):
                side = rng.choice(["buy", "sell"])
                # Buys around 54.00-54.06 and sells around 53.98-54.04: they cross most of the time.
                cents = rng.randint(0, 6) if side == "buy" else rng.randint(-2, 4)
                order, created = services.order_place(
                    user=user, instrument="CEA21", side=side, price=f"54.{cents:02d}" if cents >= 0 else f"53.{100 + cents}",
                    quantity=rng.randint(1, 50), client_order_id=f"t{number}-{i}",
                )
                assert created
                accepted.append(order.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append((number, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=trade, args=(n, user)) for n, user in enumerate(traders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    # Matching and settlement on commit log their failures instead of raising: there must be none.
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    matching_sweep()

    total = THREADS * ORDERS_PER_THREAD
    orders = list(Order.objects.filter(instrument=cea21))
    assert len(orders) == len(set(accepted)) == total
    assert sorted(o.sequence for o in orders) == list(range(1, total + 1))
    instrument = Instrument.objects.get(pk=cea21.pk)
    assert instrument.last_sequence == instrument.matching_position.matched_sequence == total
    assert not [o.pk for o in orders if o.status == Order.Status.ACCEPTED]

    trades = list(Trade.objects.filter(instrument=cea21))
    assert trades, "crossing prices must trade"
    traded = sum(t.quantity for t in trades)
    bought = sum(o.filled_quantity for o in orders if o.side == "buy")
    sold = sum(o.filled_quantity for o in orders if o.side == "sell")
    assert bought == sold == traded
    per_order: dict[int, int] = defaultdict(int)
    for t in trades:
        per_order[t.buy_order_id] += t.quantity
        per_order[t.sell_order_id] += t.quantity
        assert t.buyer_id != t.seller_id
    for o in orders:
        assert o.filled_quantity == per_order[o.pk], o
        if o.status == Order.Status.FILLED:
            assert o.filled_quantity == o.quantity
        if o.status in Order.RESTING:
            assert o.filled_quantity < o.quantity

    # Everything settled, and what stays reserved is exactly what the live orders hold.
    assert not Trade.objects.filter(settled_at__isnull=True).exists()
    for organization_id in {o.organization_id for o in orders}:
        live = [o for o in orders if o.organization_id == organization_id and o.status in Order.LIVE]
        reserved = dict(
            Balance.objects.filter(account__organization_id=organization_id, asset__code__in=["CNY", "CEA21"])
            .values_list("asset__code").annotate(total=Sum("reserved"))
        )
        assert reserved["CNY"] == sum(o.reserved for o in live if o.side == "buy")
        assert reserved["CEA21"] == sum(o.reserved for o in live if o.side == "sell")

    depth = selectors.book_depth(cea21, depth=1)
    if depth["bids"] and depth["asks"]:
        assert depth["bids"][0]["price"] < depth["asks"][0]["price"]
