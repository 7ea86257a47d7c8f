"""The matcher process: holds every instrument's matcher lock (a second copy waits as a hot
standby) and applies events as they commit, woken by NOTIFY on PostgreSQL, polling otherwise."""

from __future__ import annotations

import logging
import select
import signal
import time
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, InterfaceError, connection

from trading.matcher import StaleMatcher, matcher_for, matcher_lock
from trading.models import Instrument

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Runs the matcher for every instrument (or those named) until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--instrument", action="append", help="Symbol to match (repeatable); default all")
        parser.add_argument("--once", action="store_true", help="Drain what is pending and exit")
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between checks without a notification")

    def handle(self, *args: Any, instrument: list[str] | None, once: bool, poll: float, **options: Any) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        instruments = Instrument.objects.order_by("pk")
        if instrument:
            instruments = instruments.filter(symbol__in=instrument)
        ids = list(instruments.values_list("pk", flat=True))
        if not ids:
            raise CommandError("no instruments to match")
        while not self.stopping:
            try:
                self._serve(ids, once=once, poll=poll)
                if once:
                    return
            except (DatabaseError, InterfaceError):
                # Losing the connection loses the advisory locks too: start over with a new one.
                logger.exception("matcher lost the database; reconnecting")
                connection.close()
                time.sleep(1)

    def _stop(self, *args: Any) -> None:
        self.stopping = True

    def _serve(self, ids: list[int], *, once: bool, poll: float) -> None:
        with ExitStack() as locks:
            for instrument_id in ids:
                locks.enter_context(matcher_lock(instrument_id, wait=True))
            listening = connection.vendor == "postgresql"
            if listening:
                with connection.cursor() as cursor:
                    cursor.execute("LISTEN market_events")
            self.stdout.write(f"matching {len(ids)} instrument(s)")
            matchers = [matcher_for(instrument_id) for instrument_id in ids]
            for matcher in matchers:
                matcher.settlement_interval = settings.SETTLEMENT_QUEUE_SECONDS
            try:
                while not self.stopping:
                    if listening:
                        self._forget_notifications()
                    for instrument_id in ids:
                        self._drain(instrument_id)
                    if once:
                        return
                    # Trades left unqueued are queued once their interval has passed, even if idle.
                    left = [matcher.settlement_queue() for matcher in matchers]
                    if self._wait(listening, min(poll, settings.SETTLEMENT_QUEUE_SECONDS) if any(left) else poll):
                        # Woken by an event: let the events committing meanwhile share the batch (its
                        # queries, commit and book snapshot cost the same for one event or many).
                        time.sleep(settings.MATCHER_LINGER_MS / 1000)
            finally:
                for matcher in matchers:
                    matcher.settlement_queue(now=True)

    def _drain(self, instrument_id: int) -> int:
        """Applies what is pending. A batch smaller than a full one took everything committed when
        it looked; whatever commits later notifies, so the loop waits for that rather than looking
        again at once (one query a wake-up, not two)."""
        matcher, total = matcher_for(instrument_id), 0
        while True:
            try:
                applied = matcher.run_batch()
            except StaleMatcher:
                continue
            total += applied
            if applied < settings.MATCHER_BATCH_SIZE:
                return total

    def _forget_notifications(self) -> None:
        """Drops the notifications received so far: their events committed before the next drain
        looks, so it finds them (they would only wake the loop once more for nothing)."""
        raw = connection.connection
        if raw is not None:
            with connection.wrap_database_errors:
                raw.poll()
            raw.notifies.clear()

    def _wait(self, listening: bool, poll: float) -> bool:
        """Waits for a notification, at most `poll` seconds; True if one came."""
        if not listening:
            time.sleep(min(poll, 0.05))
            return False
        raw = connection.connection
        # A notification may already have been read during the last drain's queries: then it is in
        # raw.notifies and the socket stays quiet, so look there before sleeping on the socket.
        # (Driver errors, e.g. the connection terminated while waiting, come out as Django's.)
        with connection.wrap_database_errors:
            raw.poll()
            if not raw.notifies and select.select([raw], [], [], poll)[0]:
                raw.poll()
        notified = bool(raw.notifies)
        raw.notifies.clear()
        return notified
