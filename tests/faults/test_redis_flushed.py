"""Redis and the workers hold nothing that matters: under order load, Redis is emptied (FLUSHDB of the
stack's own Redis database: queued settlement tasks, book snapshots, rate-limit counters, live
announcements all gone) while the Celery worker and run_matcher are killed (kill -9) and started
again. Order entry keeps answering (no 5xx), and once the settlement sweep has run (as beat sends it)
every accepted order is matched, every trade is settled exactly once, and no fill is counted twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
from django.db.models import Sum

from registry.models import Transfer
from tests.factories import api_key_for
from tests.trading.conftest import fund
from trading.models import Order, Trade

from .conftest import free_port, sweep_until_drained, wait_for
from .test_redis_outage import Load

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]


def test_orders_trades_and_settlements_complete_once_after_redis_is_flushed_and_workers_restarted(
    stack, redis_server, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator
):
    for company in (company_a, company_b):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    port = free_port()
    matcher, worker = stack.matcher(), stack.worker()
    stack.web(port)

    with Load(port, [api_key_for(trader_a), api_key_for(trader_b)]) as load:
        wait_for(lambda: Trade.objects.filter(settled_at__isnull=False).exists(), timeout=30,
                 what="the worker to settle trades before the flush")
        stack.kill(worker)
        stack.kill(matcher)
        redis.Redis.from_url(redis_server.url).flushdb()  # this stack's own Redis and database number only
        trades_before = Trade.objects.count()
        time.sleep(1)  # orders keep coming in with nobody matching them
        matcher, worker = stack.matcher(), stack.worker()
        wait_for(lambda: Trade.objects.count() > trades_before, timeout=30, what="the new matcher to match again")
        time.sleep(1)
    assert load.errors == []
    statuses = Counter(status for _, status, _ in load.answers)
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[201] > 0

    # Beat's settlement sweep finds what the flushed queue held.
    sweep_until_drained(redis_server.url)
    # Every order answered 201 is there and was matched (none left waiting).
    assert Order.objects.filter(pk__in=load.accepted).count() == len(load.accepted)
    assert not Order.objects.filter(status=Order.Status.ACCEPTED).exists()
    # No fill counted twice: each order's filled quantity is the sum of its trades.
    bought = dict(Trade.objects.values_list("buy_order").annotate(total=Sum("quantity")))
    sold = dict(Trade.objects.values_list("sell_order").annotate(total=Sum("quantity")))
    for order_id, side, filled in Order.objects.values_list("pk", "side", "filled_quantity"):
        assert filled == (bought if side == "buy" else sold).get(order_id, 0), order_id
    # Every trade settled exactly once: two deliveries and its fees, no more.
    per_trade = Counter(Transfer.objects.filter(reference__startswith="trade:").values_list("reference", "kind"))
    for trade in Trade.objects.all():
        assert per_trade[(f"trade:{trade.pk}", "trade_settlement")] == 2, trade.pk
        assert per_trade[(f"trade:{trade.pk}", "fee")] == bool(trade.buyer_fee) + bool(trade.seller_fee), trade.pk
    assert matcher.poll() is None and worker.poll() is None
