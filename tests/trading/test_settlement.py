"""Settlement: delivery versus payment trade by trade, exactly once, also when settlers race, and
through a real Celery worker on Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.db import connection

from config.celery import app
from registry import services as registry
from registry.models import Account, Balance, Transfer
from trading import services, settlement
from trading.models import Trade
from trading.settlement import settle_trades_task
from trading.tasks import settlement_sweep_task

from .conftest import ALLOWANCES, CASH, balance, place


@pytest.fixture(autouse=True)
def _fee_rate(settings):
    settings.TRADING_FEE_RATE = Decimal("0.0005")


def fees_collected() -> int:
    return Balance.objects.get(account__kind=Account.Kind.EXCHANGE_FEES, asset__code="CNY").available


def settlement_transfers(trade: Trade) -> Counter:
    return Counter(Transfer.objects.filter(reference=f"trade:{trade.pk}").values_list("kind", flat=True))


def test_settlement_moves_allowances_to_pending_cash_to_the_seller_and_fees_to_the_exchange(
    funded, cea21, trader_a, trader_b, company_a, company_b, settlement_held
):
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    trade = Trade.objects.get()
    value, fee = 540_000, 270
    # Matched, not settled: both sides' reservations still hold the trade.
    assert balance(company_a, "CNY") == (CASH - value - fee, value + fee, 0, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES - 100, 100, 0, 0)
    assert balance(company_b, "CNY") == (CASH, 0, 0, 0)

    assert settlement.trades_settle() == 1
    trade.refresh_from_db()
    assert trade.settled_at is not None
    assert balance(company_a, "CNY") == (CASH - value - fee, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 100, 0)  # bought today: pending (T+1)
    assert balance(company_b, "CEA21") == (ALLOWANCES - 100, 0, 0, 0)
    assert balance(company_b, "CNY") == (CASH + value - fee, 0, 0, 0)  # proceeds available at once
    assert fees_collected() == 2 * fee

    moves = sorted(
        (t.kind, t.asset.code, t.source.number, t.source_bucket, t.destination.number, t.destination_bucket, t.amount)
        for t in Transfer.objects.filter(reference=f"trade:{trade.pk}").select_related("asset", "source", "destination")
    )
    holding = {c: Account.objects.get(organization=c, kind="holding").number for c in (company_a, company_b)}
    cash = {c: Account.objects.get(organization=c, kind="cash").number for c in (company_a, company_b)}
    # The seller is paid net of its fee: nothing leaves the seller's available cash, so a frozen
    # seller's trades settle too.
    assert moves == sorted([
        ("trade_settlement", "CEA21", holding[company_b], "reserved", holding[company_a], "pending", 100),
        ("trade_settlement", "CNY", cash[company_a], "reserved", cash[company_b], "available", value - fee),
        ("fee", "CNY", cash[company_a], "reserved", "SYS-FEES", "available", fee),
        ("fee", "CNY", cash[company_a], "reserved", "SYS-FEES", "available", fee),
    ])


def test_settling_twice_settles_once(funded, cea21, trader_a, trader_b, settlement_held):
    place(trader_b, "sell", "54.00", 100)
    place(trader_b, "sell", "54.10", 100)
    place(trader_a, "buy", "54.10", 150)
    trade_ids = sorted(Trade.objects.values_list("pk", flat=True))
    assert settlement_held.queued == [trade_ids]  # one batch, one task
    assert settlement.trades_settle() == 2
    transfers = Transfer.objects.count()
    assert settlement.trades_settle() == 0
    assert settlement.trades_settle(trade_ids=trade_ids) == 0
    assert settle_trades_task(trade_ids) == 0  # the task is safe to run twice
    assert Transfer.objects.count() == transfers
    for trade in Trade.objects.all():
        assert settlement_transfers(trade) == {"trade_settlement": 2, "fee": 2}


def test_the_matcher_process_queues_one_settlement_task_per_interval(funded, cea21, trader_a, trader_b, settlement_held):
    """run_matcher coalesces: the first batch's trades are queued at once, later ones when the
    interval has passed (or the process stops), all of them, each once."""
    from trading.matcher import matcher_for

    matcher = matcher_for(cea21.pk)
    matcher.settlement_interval = 60
    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 40)
    first = list(Trade.objects.values_list("pk", flat=True))
    place(trader_b, "sell", "54.00", 30)
    place(trader_b, "sell", "54.00", 30)
    later = sorted(set(Trade.objects.values_list("pk", flat=True)) - set(first))
    assert len(first) == 1 and len(later) == 2
    assert settlement_held.queued == [first]
    assert matcher.settlement_queue() is True  # not due yet: still held
    assert settlement_held.queued == [first]
    matcher.settlement_interval = 0
    assert matcher.settlement_queue() is False
    assert settlement_held.queued == [first, later]
    assert matcher.settlement_queue(now=True) is False  # nothing is queued twice
    assert settlement_held.queued == [first, later]


def test_settlement_of_given_trades_leaves_the_others(funded, cea21, trader_a, trader_b, settlement_held):
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    first, second = Trade.objects.order_by("pk")
    assert settlement.trades_settle(trade_ids=[second.pk]) == 1
    first.refresh_from_db()
    assert first.settled_at is None
    assert settlement.trades_settle(limit=1) == 1
    assert not Trade.objects.filter(settled_at__isnull=True).exists()


def test_the_settlement_sweep_settles_what_the_tasks_missed(funded, cea21, trader_a, trader_b, settlement_held):
    for _ in range(3):
        place(trader_b, "sell", "54.00", 10)
        place(trader_a, "buy", "54.00", 10)
    assert Trade.objects.filter(settled_at__isnull=True).count() == 3
    assert settlement_sweep_task() == 3
    assert settlement_sweep_task() == 0
    assert not Trade.objects.filter(settled_at__isnull=True).exists()


def test_a_frozen_sellers_account_does_not_hold_up_other_companies_trades(
    funded3, cea21, trader_a, trader_b, trader_c, company_b, national_regulator, settlement_held
):
    place(trader_c, "sell", "54.00", 10)
    place(trader_a, "buy", "54.00", 10)  # C -> A: nothing to do with B
    place(trader_b, "sell", "54.00", 10)
    registry.account_freeze(
        account=Account.objects.get(organization=company_b, kind="cash"), reason="court order", actor=national_regulator
    )
    place(trader_a, "buy", "54.00", 10)  # B -> A, traded after the freeze of B's cash
    unrelated = Trade.objects.get(seller__name__startswith="Guodian")
    try:
        settlement.trades_settle()
    except Exception:  # noqa: BLE001 - what matters is what got settled
        pass
    unrelated.refresh_from_db()
    assert unrelated.settled_at is not None


# --- races and the real worker ---


@pytest.mark.django_db(transaction=True)
def test_racing_settlers_settle_each_trade_exactly_once(funded, cea21, trader_a, trader_b, company_a, company_b, settlement_held):
    for _ in range(30):
        services.order_place(user=trader_b, instrument="CEA21", side="sell", price="54.00", quantity=10,
                             client_order_id=f"sell-{uuid.uuid4().hex[:8]}")
    services.order_place(user=trader_a, instrument="CEA21", side="buy", price="54.00", quantity=300, client_order_id="sweep")
    trade_ids = list(Trade.objects.values_list("pk", flat=True))
    assert len(trade_ids) == 30 and not Trade.objects.filter(settled_at__isnull=False).exists()

    start = threading.Barrier(2)
    settled: list[int] = []
    errors: list[BaseException] = []

    def settler():
        try:
            start.wait(10)
            total = 0
            while batch := settlement.trades_settle(trade_ids=trade_ids, limit=3):
                total += batch
            settled.append(total)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=settler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(settled) == 30
    assert not Trade.objects.filter(settled_at__isnull=True).exists()
    for trade in Trade.objects.all():
        assert settlement_transfers(trade) == {"trade_settlement": 2, "fee": 2}
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 300, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES - 300, 0, 0, 0)
    assert fees_collected() == 30 * 2 * 27
    assert balance(company_a, "CNY") == (CASH - 30 * (54_000 + 27), 0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_settles_the_trades_of_matching(funded, cea21, trader_a, trader_b, company_a, monkeypatch):
    assert app.conf.broker_url.startswith("redis://"), "the test suite runs against a real Redis"
    # A queue of this test's own, so that no other test run's worker on the same Redis takes the
    # task (and the worker here takes nobody else's).
    queue = f"trading-tests-{uuid.uuid4().hex}"
    task = app.tasks[settle_trades_task.name]
    monkeypatch.setattr(task, "queue", queue, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)
    monkeypatch.setattr(app.amqp.queues, "_consume_from", app.amqp.queues._consume_from)
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert not app.conf.task_always_eager
    ran_in: list[tuple[str, str]] = []

    def seen(sender=None, **kwargs):
        ran_in.append((sender.name, threading.current_thread().name))

    task_prerun.connect(seen, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]):
            services.order_place(user=trader_b, instrument="CEA21", side="sell", price="54.00", quantity=100,
                                 client_order_id="s")
            buy, _ = services.order_place(user=trader_a, instrument="CEA21", side="buy", price="54.00", quantity=100,
                                          client_order_id="b")
            assert buy.status == "filled"  # matched inline on commit; settlement was queued
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and Trade.objects.filter(settled_at__isnull=True).exists():
                time.sleep(0.05)
    finally:
        task_prerun.disconnect(seen)
    trade = Trade.objects.get()
    assert trade.settled_at is not None
    # ... by the worker's thread, not in-process at the commit.
    assert [name for name, thread in ran_in if thread != threading.main_thread().name] == [settle_trades_task.name]
    assert settlement_transfers(trade) == {"trade_settlement": 2, "fee": 2}
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 100, 0)
    assert balance(company_a, "CNY") == (CASH - 540_000 - 270, 0, 0, 0)
