"""kill -9 of a Celery worker in the middle of a settlement batch, then a new worker: the batch that
was in flight never commits, its task is redelivered once the broker's visibility timeout has
passed, and every trade settles exactly once with the ledger conserved."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from config.celery import app
from registry.models import Account, Balance, Transfer
from tests.trading.conftest import ALLOWANCES, CASH, fund
from trading import services
from trading.models import Trade

from .conftest import lock_balance_row, pg_backends, wait_for

BATCH = 20
VISIBILITY = 4  # seconds: the worker's BROKER_VISIBILITY_TIMEOUT (production: 60)
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]

WORKER_ENV = {"SETTLEMENT_BATCH_SIZE": str(BATCH), "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY),
              "CELERY_TASK_TIME_LIMIT": str(VISIBILITY - 1)}


class _Held:
    """Trades stay unsettled when they are made: settling them is the worker's job here."""

    def delay(self, trade_ids):
        pass


def make_trades(buyer, sellers_and_counts):
    """Each seller rests one sell; the buyer takes it in lots of 10 t: one trade per lot, in order."""
    for seller, count in sellers_and_counts:
        services.order_place(user=seller, instrument="CEA21", side="sell", price="54.00", quantity=10 * count,
                             client_order_id=f"sell-{seller.pk}")
        for n in range(count):
            services.order_place(user=buyer, instrument="CEA21", side="buy", price="54.00", quantity=10,
                                 client_order_id=f"buy-{seller.pk}-{n}")


def settled() -> int:
    return Trade.objects.filter(settled_at__isnull=False).count()


def test_a_worker_killed_mid_batch_leaves_nothing_and_the_redelivered_task_settles_every_trade_once(
    stack, redis_server, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator, monkeypatch
):
    from accounts.roles import Role
    from tests.factories import OrganizationFactory, make_uscc, user_with_role

    company_c = OrganizationFactory(name="Guodian Zhejiang Power Co., Ltd.", province="33", uscc=make_uscc("33"))
    trader_c = user_with_role(Role.COMPANY_TRADER, company_c)
    for company in (company_a, company_b, company_c):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    monkeypatch.setattr("trading.settlement.settle_trades_task", _Held())
    # Trades in id order: 2 batches between A and B, then one batch between A and C.
    make_trades(trader_a, [(trader_b, 2 * BATCH), (trader_c, BATCH)])
    assert Trade.objects.count() == 3 * BATCH and settled() == 0

    # C's cash row is held elsewhere: the third batch (A-C trades) will wait on it, mid-transaction.
    holder = lock_balance_row(Balance.objects.get(account__organization=company_c, account__kind="cash", asset__code="CNY"))
    worker = stack.worker(**WORKER_ENV)
    with app.connection_for_write(redis_server.url) as broker:
        task_id = app.send_task("trading.tasks.settlement_sweep_task", connection=broker).id  # what beat sends
    wait_for(lambda: settled() == 2 * BATCH and pg_backends("a.wait_event_type = 'Lock'"), timeout=60,
             what="two batches settled and the third waiting on its lock")
    delivered = time.monotonic()

    stack.kill(worker)  # kill -9, mid-batch
    killed = time.monotonic()
    holder.rollback()
    holder.close()
    # The killed worker's transaction is rolled back by PostgreSQL, once its backend sees the client gone.
    wait_for(lambda: not pg_backends("a.wait_event_type = 'Lock' OR a.state = 'idle in transaction'"),
             timeout=30, what="the dead worker's transaction to end")
    assert settled() == 2 * BATCH
    unsettled = list(Trade.objects.filter(settled_at__isnull=True).values_list("pk", flat=True))
    assert len(unsettled) == BATCH
    assert not Transfer.objects.filter(reference__in=[f"trade:{pk}" for pk in unsettled]).exists()

    # A new worker, once the visibility timeout has passed: it takes the unacknowledged task back.
    time.sleep(max(0.0, delivered + VISIBILITY + 0.5 - time.monotonic()))
    restarted = stack.worker(**WORKER_ENV)
    wait_for(lambda: settled() == 3 * BATCH, timeout=60, what="the redelivered task to settle the rest")
    rerun_after = time.monotonic() - killed
    log = stack.log(restarted)
    assert re.search(rf"settlement_sweep_task\[{task_id}\] received", log), log[-2000:]  # the same task, again
    assert rerun_after < 60

    # Exactly once: every trade has its two deliveries and two fees, no more.
    per_trade = Counter(Transfer.objects.filter(reference__startswith="trade:").values_list("reference", "kind"))
    for trade in Trade.objects.all():
        assert per_trade[(f"trade:{trade.pk}", "trade_settlement")] == 2
        assert per_trade[(f"trade:{trade.pk}", "fee")] == 2
    holding_a = Balance.objects.get(account__organization=company_a, account__kind=Account.Kind.HOLDING, asset__code="CEA21")
    assert (holding_a.available, holding_a.pending) == (ALLOWANCES, 3 * BATCH * 10)
    cash_c = Balance.objects.get(account__organization=company_c, account__kind=Account.Kind.CASH, asset__code="CNY")
    value, fee = BATCH * 10 * 54_00, 27  # 20 lots of 10 t at 54.00; fee 0.05 % of 540.00 CNY per lot
    assert cash_c.available == CASH + value - BATCH * fee
    print(f"redelivered and settled {rerun_after:.1f} s after the kill (visibility timeout {VISIBILITY} s)")


@pytest.fixture(autouse=True)
def _fee_rate(settings):
    from decimal import Decimal

    settings.TRADING_FEE_RATE = Decimal("0.0005")
