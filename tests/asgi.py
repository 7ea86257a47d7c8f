"""A real ASGI server (uvicorn, the one production runs) on the test database, for the tests of
live streams: Django's live_server is WSGI, which would buffer a stream to its end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def password_for_server(user, password: str = "correct-horse-battery") -> None:
    """Tests hash passwords with MD5 for speed, a hasher the server does not accept: store the
    password as PBKDF2 (with few iterations: the server verifies any count)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)
    user.save(update_fields=["password"])


@contextmanager
def asgi_server(**environment: str) -> Iterator[str]:
    """Runs `uvicorn config.asgi:application` against the test database (committed data only: use
    it from `transaction=True` tests) and yields its base URL."""
    from django.conf import settings

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "test-only-secret-key",
        "DEBUG": "true",  # static files straight from static/ (no collectstatic)
        "MARKET_HOURS": "always",
        "MATCHER_INLINE": "true",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LIVE_STREAM_SECONDS": "30",
        "LOG_LEVEL": "WARNING",
        **environment,
    }
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the server
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "1"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError("uvicorn stopped:\n" + log.read().decode(errors="replace"))
            try:
                with urllib.request.urlopen(f"{url}/market/table/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
