"""Typed environment variables: a bad value stops start-up with the variable's name in the error."""

import datetime as dt
import os
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_decimal(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a decimal number, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be a finite number >= 0, not {raw!r}")
    return value


def env_sessions(name: str, default: str) -> list[tuple[dt.time, dt.time]]:
    """"09:30-11:30,13:00-15:00" -> [(09:30, 11:30), (13:00, 15:00)]."""
    raw = os.environ.get(name, default)
    sessions = []
    try:
        for part in raw.split(","):
            start, end = (dt.time.fromisoformat(t.strip()) for t in part.split("-"))
            if start >= end:
                raise ValueError
            sessions.append((start, end))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like 09:30-11:30,13:00-15:00, not {raw!r}") from None
    return sessions


_RATE_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def env_rate(name: str, default: str) -> tuple[int, int]:
    """"1200/min" -> (1200, 60): so many requests per period (s, min or hour)."""
    raw = os.environ.get(name, default)
    count, _, period = raw.strip().partition("/")
    try:
        value, seconds = int(count), _RATE_PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"{name} must look like 1200/min (per s, min or hour), not {raw!r}") from None
    if value < 1:
        raise ImproperlyConfigured(f"{name} must allow at least one request, not {raw!r}")
    return value, seconds


def env_date(name: str, default: str) -> dt.date:
    raw = os.environ.get(name, default)
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from None
