"""Logging is configured once: every record is written once (issue 15, item 8: with DEBUG=true every
request line was printed twice, by the console handler Django's default configuration gives the
"django" logger and again by the root's handler)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Django's request log ("Not Found: ..."), a record of Django's own logger, one of the platform's, one
# at ERROR with a traceback: each must appear exactly once on the process's output.
PROBE = """
import logging
from django.test import Client

Client().get("/api/v1/no-such-endpoint/", HTTP_HOST="localhost")
logging.getLogger("django.security").warning("probe: django")
logging.getLogger("trading.matcher").warning("probe: platform")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("core.api").exception("probe: error")
"""


@pytest.mark.parametrize("debug", ["true", "false"])
def test_every_record_is_written_once(debug):
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DEBUG": debug, "SECRET_KEY": "x" * 50,
                   "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "INFO"}
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    for line in ("Not Found: /api/v1/no-such-endpoint/", "probe: django", "probe: platform", "probe: error",
                 "ZeroDivisionError: division by zero"):
        assert lines.count(line) == 1, f"{line!r} written {lines.count(line)} times:\n" + "\n".join(lines)


def test_the_root_logger_is_the_only_writer_of_the_platforms_and_djangos_records():
    """In this process too (configured by the same settings): no logger of Django or of the platform
    has a handler of its own that would write a record the root's handler writes as well."""
    writers = {
        name: logger.handlers
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and logger.handlers and logger.propagate
        and name.split(".")[0] in {"django", "accounts", "allocation", "compliance", "core", "registry", "reports",
                                   "trading", "web", "demo", "config"}
    }
    assert writers == {}
    assert len(logging.getLogger().handlers) >= 1
