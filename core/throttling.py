"""Per-user rate limit on order entry (API_ORDER_RATE), counted in Redis so that every web process
shares one count.

A sliding window, estimated from two fixed windows (one counter per user and period): the requests
of the last period are this window's count plus the previous window's, weighted by the share of the
previous window still inside the last period. So a burst at a window's end is still counted just
after it (a plain fixed window would let twice the rate through across the boundary). One round trip
per request (`INCR`, `EXPIRE` and `GET` of the previous count, pipelined). A refused request is
taken back (it did not happen); Retry-After is the time until the next request fits the rate.

If Redis cannot be reached the request is let through (fail open) and the outage logged: the broker
being down must not stop trading, and order entry has its own limits (funds, position). After a
failure Redis is left alone for a second, so an outage costs no more than one connection attempt a
second per process. Without REDIS_URL (the embedded default) the count is kept in-process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core.errors import RateLimited

logger = logging.getLogger(__name__)

KEY_PREFIX = "throttle:orders"
RETRY_REDIS_AFTER = 1.0  # seconds without trying Redis after a failure


class _Counter:
    def __init__(self) -> None:
        self._client: redis.Redis | None = None
        self._client_url = ""
        self._down_until = 0.0
        self._local: dict[str, int] = {}
        self._lock = threading.Lock()

    def client(self) -> redis.Redis:
        url = settings.REDIS_URL
        if self._client is None or self._client_url != url:
            # Short timeouts: a hung Redis must not hold order entry up.
            self._client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
            self._client_url = url
        return self._client

    def hit(self, key: str, previous_key: str, ttl: int) -> tuple[int, int] | None:
        """Counts one request under `key`; returns (the count of `previous_key`, the count of `key`
        so far), or None if it cannot count."""
        if not settings.REDIS_URL:
            with self._lock:
                if len(self._local) > 100_000:  # old windows
                    self._local.clear()
                self._local[key] = self._local.get(key, 0) + 1
                return self._local.get(previous_key, 0), self._local[key]
        now = time.monotonic()
        if now < self._down_until:
            return None
        try:
            pipe = self.client().pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, ttl)
            pipe.get(previous_key)
            count, _, previous = pipe.execute()
            return int(previous or 0), int(count)
        except redis.RedisError as error:
            self._down_until = now + RETRY_REDIS_AFTER
            logger.warning("order rate limit not applied: Redis unreachable (%s)", error)
            return None

    def undo(self, key: str) -> None:
        """Takes back a request counted under `key` (a refused one: it did not happen)."""
        if not settings.REDIS_URL:
            with self._lock:
                self._local[key] = self._local.get(key, 1) - 1
            return
        try:
            self.client().decr(key)
        except redis.RedisError as error:
            logger.warning("order rate limit: a refused request stays counted, Redis unreachable (%s)", error)

    def reset(self, user_id: int) -> None:
        """Forgets a user's counts (tests, and an operator lifting a limit)."""
        prefix = f"{KEY_PREFIX}:{user_id}:"
        with self._lock:
            for key in [key for key in self._local if key.startswith(prefix)]:
                del self._local[key]
        if settings.REDIS_URL:
            client = self.client()
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


counter = _Counter()


def order_entry_wait(user: Any) -> float | None:
    """Counts one order or cancel of `user` against API_ORDER_RATE, whatever the door (the API or
    the trading page): None if it may go on, else the seconds until one would fit (and the
    request is not counted)."""
    limit, period = settings.API_ORDER_RATE
    now = clock()
    window = int(now // period)
    key = f"{KEY_PREFIX}:{user.pk}:{window}"
    counts = counter.hit(key, f"{KEY_PREFIX}:{user.pk}:{window - 1}", 2 * period + 1)
    if counts is None:
        return None
    previous, current = counts
    gone = (now % period) / period  # the share of this window that has passed
    if previous * (1 - gone) + current <= limit:
        return None
    counter.undo(key)  # a refused request is not counted: retrying early costs nothing
    accepted = current - 1
    # When the next request fits: once enough of the previous window has slid out, or, if this
    # window is full already, once enough of it has (in the next window).
    if accepted < limit:
        return ((1 - (limit - 1 - accepted) / previous) - gone) * period
    return (window + 1) * period - now + (1 - (limit - 1) / accepted) * period


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def order_entry_check(user: Any) -> None:
    """order_entry_wait for the pages: raises RateLimited (429, with its Retry-After) past the rate."""
    wait = order_entry_wait(user)
    if wait is not None:
        raise RateLimited(retry_after_seconds(wait))


class OrderEntryThrottle(BaseThrottle):
    """New orders (POST) and cancels (DELETE) share one count per user; reads are not limited here."""

    methods = ("POST", "DELETE")

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method not in self.methods or not getattr(request.user, "is_authenticated", False):
            return True
        self._wait = order_entry_wait(request.user)
        return self._wait is None

    def wait(self) -> float:
        return retry_after_seconds(self._wait or 0)


clock = time.time  # (tests move it)
