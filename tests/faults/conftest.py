"""The real stack for fault tests, on loopback: a Redis server of the test's own, Celery workers,
gunicorn and run_matcher as subprocesses on the test database (so the tests commit: transaction=True).

Every process is started by a fixture and ended (by its own pid) when the test ends, before the
test database is flushed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)



def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.faults)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A redis-server of the test's own on a spare loopback port, nothing kept on disk: stopping it
    loses whatever was queued, as a crashed broker would."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.directory = tempfile.mkdtemp(prefix="faults-redis-")

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (scripts/system-deps.sh installs it)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.directory, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what="redis-server to answer")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


class Stack:
    """Starts processes of the platform against the test database and a given Redis."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.processes: list[subprocess.Popen] = []
        self.logs = Path(tempfile.mkdtemp(prefix="faults-logs-"))

    def env(self, **extra: str) -> dict[str, str]:
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
        env.update(
            DATABASE_URL=database_url, REDIS_URL=self.redis_url, SECRET_KEY="faults-test-only", DEBUG="false",
            MARKET_HOURS="always", MATCHER_INLINE="false", CELERY_TASK_ALWAYS_EAGER="false", LOG_LEVEL="INFO",
            ALLOWED_HOSTS="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}-{len(self.processes)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log_path = log.name  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def worker(self, **extra: str) -> subprocess.Popen:
        """A Celery worker (one process, solo pool) on the default queue of this stack's Redis."""
        return self.start("worker", [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            "-n", f"faults-{uuid.uuid4().hex[:8]}@localhost",
        ], **extra)

    def matcher(self, **extra: str) -> subprocess.Popen:
        return self.start("matcher", [sys.executable, "manage.py", "run_matcher", "--poll", "0.2"], **extra)

    def web(self, port: int, *, workers: int = 2, **extra: str) -> subprocess.Popen:
        process = self.start("web", [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--log-level", "warning", "--timeout", "60",
        ], **extra)
        import http.client

        def answers() -> bool:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/api/v1/instruments/")
                return probe.getresponse().status == 200
            except OSError:
                return False

        wait_for(answers, timeout=60, what="gunicorn to answer", every=0.2)
        return process

    def kill(self, process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)  # its own session: the process and its children, nothing else
            process.wait(30)

    def stop_all(self) -> None:
        """SIGTERM, and SIGKILL after 3 s: a warm shutdown (a worker finishing its task, gunicorn its
        graceful timeout) is not what these tests are about, and the database is flushed next."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log(self, process: subprocess.Popen) -> str:
        return Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def stack(transactional_db, redis_server) -> Iterator[Stack]:
    running = Stack(redis_server.url)
    yield running
    running.stop_all()
    # Subprocesses are gone: nothing of theirs holds a lock the database flush would wait on.


def sweep_until_drained(redis_url: str, *, timeout: float = 60) -> None:
    """Sends the settlement sweep as beat does, then waits until every accepted order of CEA21 is
    matched and every trade settled: the backlog left by whatever was lost from Redis."""
    from config.celery import app
    from trading.models import Instrument, Trade

    with app.connection_for_write(redis_url) as broker:
        app.send_task("trading.tasks.settlement_sweep_task", connection=broker)
    instrument = Instrument.objects.get(symbol="CEA21")

    def drained() -> bool:
        instrument.refresh_from_db()
        return (instrument.matching_position.matched_sequence == instrument.last_sequence
                and not Trade.objects.filter(settled_at__isnull=True).exists())

    wait_for(drained, timeout=timeout, what="matching and settlement to catch up")


def pg_backends(where: str, params: list[object] | None = None) -> list[int]:
    """Backend pids of other sessions on the test database matching `where` (over pg_stat_activity a)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
            f"AND ({where})", params or [],
        )
        return [row[0] for row in cursor.fetchall()]


def lock_balance_row(balance: Any) -> Any:
    """Another session (a plain psycopg2 connection) holds the balance row FOR UPDATE until its
    rollback(): whoever needs the row next waits there, in the middle of its transaction."""
    import psycopg2

    db = connection.settings_dict
    holder = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1",
                              port=db["PORT"] or 5432, password=db.get("PASSWORD") or None)
    holder.cursor().execute("SELECT 1 FROM registry_balance WHERE id = %s FOR UPDATE", [balance.pk])
    return holder
