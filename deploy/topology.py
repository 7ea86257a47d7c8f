"""The shipped topology on one machine, without Docker (README: Topology).

nginx in front; gunicorn for the pages and the API; uvicorn for the live streams; run_matcher; a
Celery worker (and beat, if asked). The same servers, the same configuration files (deploy/) and the
same commands as docker-compose.yml: only the addresses differ (127.0.0.1 and free ports here, service
names there). The benchmarks in bench/ and the burst test run the platform through it, and so can
anyone:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon REDIS_URL=redis://127.0.0.1:6379/0 \\
    SECRET_KEY=... python -m deploy.topology --port 8000

Every process that uses the database connects to PostgreSQL (DATABASE_URL) directly and names its
connection (PGAPPNAME: carbon-platform-web, -matcher, -worker, -beat), one connection per process: a
gunicorn sync worker serves one request at a time, and the streams' server opens none.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render(template: Path, values: dict[str, str]) -> str:
    """Fills a deploy/*.template the way envsubst does in the containers: ${NAME} from `values`,
    every other $ left alone (nginx's own variables). A name left unfilled is an error."""
    text = string.Template(template.read_text()).safe_substitute(values)
    missing = [name for name in string.Template(text).get_identifiers() if name in _TEMPLATE_NAMES]
    if missing:
        raise ValueError(f"{template.name}: no value for {', '.join(missing)}")
    return text


_TEMPLATE_NAMES = {
    "NGINX_WORKERS", "NGINX_USER", "NGINX_PID", "NGINX_ERROR_LOG", "NGINX_ACCESS_LOG", "NGINX_MIME_TYPES", "NGINX_TEMP",
    "NGINX_LISTEN", "WEB_UPSTREAM", "STREAM_UPSTREAM", "STATIC_ROOT",
}


def _wait_for_port(port: int, *, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


@dataclass
class Topology:
    """Starts the platform's processes as docker-compose.yml does; a context manager that ends them.

    The platform's `ceiling` of PostgreSQL connections is one per gunicorn worker, for the matcher,
    for each of the Celery worker's `worker_concurrency` processes and for beat (README: Topology)."""

    database_url: str
    redis_url: str = ""
    port: int = 0
    web_workers: int = 6
    worker_concurrency: int = 2
    matcher: bool = True
    worker: bool = True
    beat: bool = False
    static: bool = True  # collectstatic first (the pages' files; an API-only run may go without)
    env: dict[str, str] = field(default_factory=dict)  # more settings, for every process
    run_dir: Path | None = None  # configurations and logs; a new temporary folder by default
    processes: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)
    _counting: Any = field(default=None, init=False, repr=False)  # the connection connections() asks through

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ceiling(self) -> int:
        """The most PostgreSQL connections the platform may hold: one for each gunicorn worker, the
        matcher, each Celery worker process and beat (the streams' server opens none)."""
        return self.web_workers + int(self.matcher) + (self.worker_concurrency if self.worker else 0) + int(self.beat)

    def _prepare(self) -> None:
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="carbon-topology-"))
        self.run_dir.chmod(0o755)  # nginx's workers run as another user when started as root
        self.port = self.port or free_port()
        self.web_port, self.stream_port = free_port(), free_port()
        self.db_name = urlsplit(self.database_url).path.lstrip("/")

    def _env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))}
        env.update(DATABASE_URL=self.database_url, ALLOWED_HOSTS="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
                   TRUSTED_PROXY_COUNT="1")
        if self.redis_url:
            env.update(REDIS_URL=self.redis_url, CELERY_TASK_ALWAYS_EAGER="false")
        env.update(self.env)
        env.update(extra)
        return env

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        assert self.run_dir is not None
        log = open(self.run_dir / f"{name}.log", "wb")  # noqa: SIM115 - kept by the process
        process = subprocess.Popen(argv, cwd=ROOT, env=env or self._env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = process
        return process

    def _proxy(self) -> None:
        assert self.run_dir is not None
        directory = self.run_dir / "nginx"
        (directory / "temp").mkdir(parents=True)
        (directory / "temp").chmod(0o777)  # nginx's workers (www-data when started as root) write there
        static_root = ROOT / "var" / "static"
        config = directory / "nginx.conf"
        config.write_text(render(DEPLOY / "nginx.conf.template", {
            "NGINX_WORKERS": "1", "NGINX_USER": "www-data" if _user_exists("www-data") else "nobody",
            "NGINX_PID": str(directory / "nginx.pid"), "NGINX_ERROR_LOG": str(directory / "error.log"),
            "NGINX_ACCESS_LOG": "off", "NGINX_MIME_TYPES": "/etc/nginx/mime.types", "NGINX_TEMP": str(directory / "temp"),
            "NGINX_LISTEN": f"127.0.0.1:{self.port}", "WEB_UPSTREAM": f"127.0.0.1:{self.web_port}",
            "STREAM_UPSTREAM": f"127.0.0.1:{self.stream_port}", "STATIC_ROOT": str(static_root),
        }))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        process = self._start("nginx", [nginx, "-c", str(config), "-p", str(directory), "-g", "daemon off;"])
        _wait_for_port(self.port, timeout=20, what="nginx", process=process)

    def __enter__(self) -> Topology:
        self._prepare()
        try:
            if self.static:
                subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                               env=self._env(), check=True)
            self._start("web", [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "config.wsgi:application"],
                        env=self._env(WEB_BIND=f"127.0.0.1:{self.web_port}", WEB_WORKERS=str(self.web_workers),
                                      PGAPPNAME=f"{APPLICATION_PREFIX}web"))
            self._start("streams", [sys.executable, "-m", "uvicorn", "config.asgi:application", *STREAMS_ARGS,
                                    "--host", "127.0.0.1", "--port", str(self.stream_port)],
                        env=self._env(DATABASE_CONN_MAX_AGE="0", PGAPPNAME=f"{APPLICATION_PREFIX}streams"))
            if self.matcher:
                self._start("matcher", [sys.executable, "manage.py", "run_matcher"], env=self._env(PGAPPNAME=f"{APPLICATION_PREFIX}matcher"))
            if self.worker and self.redis_url:
                self._start("worker", [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
                                       "--concurrency", str(self.worker_concurrency), "--without-gossip", "--without-mingle"],
                            env=self._env(PGAPPNAME=f"{APPLICATION_PREFIX}worker"))
            if self.beat and self.redis_url:
                self._start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                                     "--schedule", str(self.run_dir / "celerybeat-schedule")], env=self._env(PGAPPNAME=f"{APPLICATION_PREFIX}beat"))
            _wait_for_port(self.web_port, timeout=60, what="gunicorn", process=self.processes["web"])
            _wait_for_port(self.stream_port, timeout=60, what="uvicorn", process=self.processes["streams"])
            self._proxy()
            self._wait_answering()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_answering(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for path in ("/api/v1/instruments/", "/market/"):
            while True:
                try:
                    probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    probe.request("GET", path)
                    if probe.getresponse().status == 200:
                        break
                except OSError:
                    pass
                dead = [name for name, process in self.processes.items() if process.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"the platform did not answer {path} (exited: {dead}); logs in {self.run_dir}")
                time.sleep(0.1)

    def connections(self) -> int:
        """The PostgreSQL connections the platform holds now: the sessions named by the application_name
        (PGAPPNAME) this sets for its processes. Whatever else is connected to the database (a test's
        own sessions, this count's) is not the platform's. The connection it asks through is kept for
        the next count (a sampler calls it every few milliseconds). Only client backends count:
        PostgreSQL's parallel query workers carry their leader's name but are not connections (they
        come out of max_worker_processes, not max_connections)."""
        import psycopg2

        if self._counting is None:
            self._counting = psycopg2.connect(self.database_url, application_name=COUNTER_APPLICATION)
            self._counting.autocommit = True
        with self._counting.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE %s "
                           "AND backend_type = 'client backend'", [self.db_name, f"{APPLICATION_PREFIX}%"])
            return int(cursor.fetchone()[0])

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def log(self, name: str) -> str:
        assert self.run_dir is not None
        return (self.run_dir / f"{name}.log").read_text(errors="replace")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._counting is not None:
            self._counting.close()
            self._counting = None
        # The proxy first: no new requests.
        order = [name for name in ("nginx", "web", "streams", "matcher", "worker", "beat") if name in self.processes]
        for name in order:
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


# The application_name (PGAPPNAME) of the platform's processes, and of the connection that counts the
# platform's connections (not one of them).
APPLICATION_PREFIX = "carbon-platform-"
COUNTER_APPLICATION = "carbon-topology-counter"

# The live streams' server: uvicorn (async: thousands of idle streams cost it almost nothing), which
# the other pages never reach (nginx routes only the streams to it). STREAMS_WORKERS processes (2, as
# compose runs it): each announcement is written to every stream, and two processes write their
# halves on both cores (README: Benchmarks, live_bench).
STREAMS_ARGS = ["--workers", os.environ.get("STREAMS_WORKERS", "2"), "--no-access-log", "--timeout-graceful-shutdown", "5",
                "--log-level", "warning"]


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--web-workers", type=int, default=6)
    parser.add_argument("--beat", action="store_true", help="run Celery beat too (the scheduled jobs)")
    options = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    with Topology(database_url=database_url, redis_url=os.environ.get("REDIS_URL", ""), port=options.port,
                  web_workers=options.web_workers, beat=options.beat) as topology:
        print(f"serving on {topology.url} (logs in {topology.run_dir}); ceiling {topology.ceiling} connections; Ctrl-C stops",
              flush=True)
        stopped = []
        signal.signal(signal.SIGTERM, lambda *args: stopped.append(True))
        try:
            while not stopped and all(topology.alive().values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        dead = [name for name, up in topology.alive().items() if not up]
        if dead:
            print(f"stopped: {', '.join(dead)} exited (see its log)", file=sys.stderr)


if __name__ == "__main__":
    main()
