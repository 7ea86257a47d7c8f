"""The database under contention or out of reach: one retry policy, and clear answers instead of 500s.

- **Contention** (a deadlock, a serialization failure): the transaction that lost was rolled back
  whole, so doing it again is safe. `retry_on_contention` reruns a service's whole transaction up
  to CONTENTION_ATTEMPTS times with jittered, growing pauses, and only when the service runs its
  own transaction (inside a caller's transaction, the caller's retry decides). If it still loses, the
  request is answered 503 `contention` with Retry-After. (A lock wait cut short by lock_timeout is
  answered the same, without a retry.)
- **Unavailable** (PostgreSQL restarting, failing over, refusing connections): 503
  `service_unavailable` with Retry-After; Django opens a new connection on the next request.

`DatabaseTroubleMiddleware` answers for errors raised by views; `core.views.server_error` for those
raised in middleware (a session read, say), so no path turns them into a 500.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.errors import DomainError

logger = logging.getLogger(__name__)

CONTENTION_ATTEMPTS = 3
CONTENTION_PAUSE = 0.02  # seconds; the n-th retry waits a random time up to CONTENTION_PAUSE * 2**n

RETRIED = {"40P01", "40001"}  # deadlock_detected, serialization_failure
CONTENTION = RETRIED | {"55P03"}  # and lock_not_available (lock_timeout)
UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}  # shut down, crashed, starting up, too many connections


class Contention(DomainError):
    code = "contention"
    status = 503
    retry_after = 1


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503
    retry_after = 5


def _sqlstate(error: BaseException) -> str | None:
    return getattr(error.__cause__, "pgcode", None) or getattr(error, "pgcode", None)


def is_contention(error: BaseException) -> bool:
    return isinstance(error, DatabaseError) and _sqlstate(error) in CONTENTION


def is_unavailable(error: BaseException) -> bool:
    """The server could not be reached or dropped the connection (no SQLSTATE, or class 08), or is
    shutting down or starting up."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    state = _sqlstate(error)
    return state is None or state.startswith("08") or state in UNAVAILABLE


F = TypeVar("F", bound=Callable[..., Any])


def retry_on_contention(function: F) -> F:
    """Runs `function` (a service that opens its own transaction) again when its transaction loses
    to a deadlock or a serialization failure."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if connection.in_atomic_block:
            return function(*args, **kwargs)
        for attempt in range(1, CONTENTION_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except DatabaseError as error:
                if _sqlstate(error) not in RETRIED or attempt == CONTENTION_ATTEMPTS:
                    raise
                logger.info("%s lost to contention (%s), attempt %s: retrying", function.__qualname__,
                            _sqlstate(error), attempt)
                time.sleep(random.uniform(0, CONTENTION_PAUSE * 2**attempt))
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]


def trouble_response(request: HttpRequest, error: BaseException) -> HttpResponse | None:
    """The 503 for a database error that is contention or an outage; None for any other error."""
    from core.middleware import refusal_response

    if is_contention(error):
        refusal: DomainError = Contention(_("The registry is busy with concurrent changes to the same holdings; "
                                            "nothing was saved. Try again."))
        retry_after = Contention.retry_after
    elif is_unavailable(error):
        refusal = ServiceUnavailable(_("The registry's database is briefly unavailable; nothing was saved. "
                                       "Try again in a few seconds."))
        retry_after = ServiceUnavailable.retry_after
    else:
        return None
    logger.warning("%s %s answered 503 %s: %s", request.method, request.path, refusal.code, error)
    return refusal_response(request, refusal, headers={"Retry-After": str(retry_after)})


class DatabaseTroubleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return trouble_response(request, exception)
