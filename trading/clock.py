"""The market clock: trading sessions on weekdays that are not holidays, in the market's time zone.

MARKET_HOURS=always opens the market around the clock (demos and tests).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def market_now() -> dt.datetime:
    return timezone.localtime(timezone.now())


def trading_day(now: dt.datetime | None = None) -> dt.date:
    return (now or market_now()).date()


def sessions() -> list[tuple[dt.time, dt.time]]:
    return settings.TRADING_SESSIONS


def is_trading_day(day: dt.date) -> bool:
    from trading.models import Holiday

    return day.weekday() < 5 and not Holiday.objects.filter(day=day).exists()


def is_trading_time(now: dt.datetime | None = None) -> bool:
    return _in_sessions(sessions(), now)


def is_block_time(now: dt.datetime | None = None) -> bool:
    """Block agreement trading's sessions (BLOCK_SESSIONS, 13:00-15:00 by default)."""
    return _in_sessions(settings.BLOCK_SESSIONS, now)


def _in_sessions(windows: list[tuple[dt.time, dt.time]], now: dt.datetime | None) -> bool:
    if settings.MARKET_HOURS == "always":
        return True
    now = now or market_now()
    if not is_trading_day(now.date()):
        return False
    return any(start <= now.time() < end for start, end in windows)
