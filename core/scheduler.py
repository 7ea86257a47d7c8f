"""The embedded default's beat: with no Redis there is no Celery worker or beat process, so the web
process runs the beat schedule (settings.CELERY_BEAT_SCHEDULE: end of day, the settlement sweep,
sealing, the compliance deadline, ...) itself, in one background thread, each due task in-process.

Production runs `celery beat` and workers instead (EMBEDDED_SCHEDULER is off there by default).
The jobs are the same tasks, and each is safe to run twice (STYLE.md 7), so a restart that runs one
again, or a job running while a person runs the same command by hand, does no harm."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from celery import current_app
from celery.schedules import schedule as every
from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10.0  # a failed job is tried again after this long


class InProcessBeat:
    """The beat schedule's entries with when each last ran; `tick` runs those that are due."""

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None) -> None:
        now = current_app.now()
        self.entries = {}
        for name, entry in (settings.CELERY_BEAT_SCHEDULE if entries is None else entries).items():
            when = entry["schedule"]
            if isinstance(when, (int, float)):
                when = every(dt.timedelta(seconds=when))
            self.entries[name] = {"task": entry["task"], "schedule": when, "last_run": now}

    def tick(self) -> tuple[list[str], float]:
        """Runs every due task; returns their names and the seconds until one may be due again."""
        ran = []
        wait = 60.0
        for name, entry in self.entries.items():
            due, next_check = entry["schedule"].is_due(entry["last_run"])
            if due:
                ran.append(name)
                try:
                    # By its dotted path (imports its module): the web process never autodiscovers tasks.
                    symbol_by_name(entry["task"]).apply(throw=True)
                except Exception:
                    # Not marked as run: tried again soon (an end of day waiting for the matcher, say).
                    logger.exception("scheduled job %s failed; tried again in %s s", name, RETRY_SECONDS)
                    next_check = min(next_check, RETRY_SECONDS)
                else:
                    entry["last_run"] = current_app.now()
            wait = min(wait, max(next_check, 0.5))
        return ran, wait


_started = threading.Lock()
_thread: threading.Thread | None = None


def start() -> threading.Thread | None:
    """Starts the beat thread once per process, if EMBEDDED_SCHEDULER is on."""
    global _thread
    if not settings.EMBEDDED_SCHEDULER:
        return None
    with _started:
        if _thread is None:
            beat = InProcessBeat()

            def run() -> None:
                while True:
                    _ran, wait = beat.tick()
                    close_old_connections()  # as after a request: none held across the wait
                    time.sleep(wait)

            _thread = threading.Thread(target=run, name="embedded-beat", daemon=True)
            _thread.start()
            logger.info("embedded scheduler: %s", ", ".join(beat.entries))
    return _thread
