"""The platform behind HTTP for benchmarks: gunicorn (sync workers), run_matcher and, when REDIS_URL
is set, a Celery worker for settlement (without it, tasks run in-process). Subprocesses of this
script, each in its own session, ended (by pid) on exit."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Platform:
    def __init__(self, *, workers: int = 3, env: dict[str, str] | None = None, port: int | None = None,
                 log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", "MATCHER_INLINE": "false",
                    "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"), **(env or {})}
        self.env.setdefault("CELERY_TASK_ALWAYS_EAGER", "false" if self.env.get("REDIS_URL") else "true")
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, argv: list[str]) -> None:
        output = open(self.log_dir / f"{name}.log", "wb") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def __enter__(self) -> Platform:
        self._start("web", [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
                            f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--log-level", "warning",
                            "--timeout", "60"])
        self._start("matcher", [sys.executable, "manage.py", "run_matcher", "--poll", "0.2"])
        if self.env.get("REDIS_URL"):
            self._start("worker", [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
                                   "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                probe.request("GET", "/api/v1/instruments/")
                if probe.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
