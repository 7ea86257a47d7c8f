"""Settlement of trades, delivery versus payment through the ledger, and the Celery task that runs it.

Below the matcher, which queues a task for the trades of each committed batch (the task is here, not
in trading.tasks, so that the matcher imports nothing above it: matching <- matcher <- services <- tasks).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import live
from core.audit import audit_record
from registry.models import Bucket, Transfer
from registry.services import Movement, ledger_post
from trading.models import Instrument, Trade
from trading.participants import cash_asset, fees_account, participant_accounts_cached

logger = logging.getLogger(__name__)


def trades_settle(*, trade_ids: list[int] | None = None, limit: int | None = None) -> int:
    """Settles unsettled trades, delivery versus payment, exactly once: the rows are claimed with
    FOR UPDATE SKIP LOCKED, so racing workers take disjoint sets, and a settled trade is skipped.

    Per trade: seller's reserved allowances -> buyer's pending (T+1); buyer's reserved cash -> the
    seller's available (value less the seller's fee) and both fees -> the exchange fee account.
    Returns how many trades it settled."""
    limit = limit or settings.SETTLEMENT_BATCH_SIZE
    with transaction.atomic():
        claim = Trade.objects.filter(settled_at__isnull=True)
        if trade_ids is not None:
            claim = claim.filter(pk__in=trade_ids)
        trades = list(claim.select_for_update(skip_locked=True, of=("self",)).order_by("pk")[:limit])
        if not trades:
            return 0
        # (Which accounts an organization has, and the assets, never change: remembered per process.)
        accounts = participant_accounts_cached({t.buyer_id for t in trades} | {t.seller_id for t in trades})
        assets = {i.pk: i.asset for i in Instrument.objects.select_related("asset").filter(pk__in={t.instrument_id for t in trades})}
        cny, fees = cash_asset(), fees_account()
        movements = []
        for trade in trades:
            buyer_holding, buyer_cash = accounts[trade.buyer_id]
            seller_holding, seller_cash = accounts[trade.seller_id]
            reference = f"trade:{trade.pk}"
            movements.append(Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=assets[trade.instrument_id], amount=trade.quantity,
                                      source=seller_holding, source_bucket=Bucket.RESERVED,
                                      destination=buyer_holding, destination_bucket=Bucket.PENDING, reference=reference))
            # The seller is paid net of its fee, so nothing leaves its available cash: a frozen
            # seller's trades settle like any other.
            movements.append(Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=cny, amount=trade.value - trade.seller_fee,
                                      source=buyer_cash, source_bucket=Bucket.RESERVED,
                                      destination=seller_cash, destination_bucket=Bucket.AVAILABLE, reference=reference))
            for fee, memo in ((trade.buyer_fee, "buyer's fee"), (trade.seller_fee, "seller's fee, withheld from the proceeds")):
                if fee:
                    movements.append(Movement(kind=Transfer.Kind.FEE, asset=cny, amount=fee, source=buyer_cash,
                                              source_bucket=Bucket.RESERVED, destination=fees,
                                              destination_bucket=Bucket.AVAILABLE, reference=reference, memo=memo))
        ledger_post(movements)
        Trade.objects.filter(pk__in=[t.pk for t in trades]).update(settled_at=timezone.now())
        audit_record(actor=None, action="trade.settle", object_type="trading.trade", object_id=f"{trades[0].pk}-{trades[-1].pk}",
                     after={"trades": [t.pk for t in trades]})
        live.changed(*sorted({f"org:{t.buyer_id}" for t in trades} | {f"org:{t.seller_id}" for t in trades}))
    return len(trades)


def trades_settle_all(*, deadline_seconds: float = 40.0) -> int:
    """Settles everything left, batch by batch, stopping before the task time limit."""
    started, total = time.monotonic(), 0
    while time.monotonic() - started < deadline_seconds:
        settled = trades_settle()
        if not settled:
            break
        total += settled
    return total


@shared_task
def settle_trades_task(trade_ids: list[int]) -> int:
    return trades_settle(trade_ids=trade_ids)


def settlement_queue(trade_ids: list[int]) -> None:
    """Queues the settlement of committed trades. If the broker is unreachable the trades stay
    unsettled until the settlement sweep finds them: the caller (the matcher, or the order that
    triggered inline matching) carries on; a broker outage must not stop matching."""
    try:
        settle_trades_task.delay(trade_ids)
    except Exception as error:  # noqa: BLE001 - whatever the broker client raises
        logger.warning("settlement of %d trade(s) (%s..%s) not queued, left for the sweep: %s",
                       len(trade_ids), trade_ids[0], trade_ids[-1], error)
