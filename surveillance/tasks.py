from celery import shared_task

from surveillance.detection import alerts_compute
from trading.clock import is_trading_day, trading_day


@shared_task
def surveillance_alerts_task(day: str | None = None) -> int:
    """The nightly surveillance run over the day's orders, trades and holdings."""
    import datetime as dt

    when = dt.date.fromisoformat(day) if day else trading_day()
    if not is_trading_day(when):
        return 0
    return alerts_compute(when)
