"""Celery tasks: thin, take ids, safe to run twice. None is the only record of its work: trades
without settled_at, and events past matched_sequence, are found again by the sweeps. (The task that
settles a batch's trades is trading.settlement's, below the matcher that queues it.)"""

import logging

from celery import shared_task

from trading import auctions, services
from trading.clock import is_trading_day, trading_day
from trading.errors import EndOfDayPending
from trading.matcher import matching_sweep
from trading.settlement import trades_settle_all

logger = logging.getLogger(__name__)


@shared_task
def settlement_sweep_task() -> int:
    matching_sweep()
    return trades_settle_all()


@shared_task(bind=True, max_retries=30, default_retry_delay=10)
def end_of_day_task(self, day: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Expires the day's orders, then (once the matcher has applied the expiry) closes the day."""
    import datetime as dt

    when = dt.date.fromisoformat(day) if day else trading_day()
    if not is_trading_day(when):
        return 0
    services.end_of_day_expire(day=when)
    try:
        return len(services.end_of_day_close(day=when))
    except EndOfDayPending as pending:
        logger.info("end of day %s waits: %s", when, pending.message)
        raise self.retry(kwargs={"day": when.isoformat()}) from None


@shared_task
def auctions_close_task() -> int:
    """Clears and settles every auction whose bidding window has ended (and lapses unapproved ones).
    Safe to run twice: an auction is closed once, under its row lock."""
    return len(auctions.auctions_close_due())
