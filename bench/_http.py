"""The platform behind HTTP for benchmarks and the load tests: the shipped topology (deploy/topology.py:
nginx, gunicorn, uvicorn for the streams, run_matcher and, with REDIS_URL, a Celery worker)
on the database of DATABASE_URL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.topology import APPLICATION_PREFIX, Topology, free_port  # noqa: E402

__all__ = ["Platform", "ROOT", "cpu_used", "free_port", "machine_busy", "platform_cpu"]


def Platform(*, workers: int = 6, env: dict[str, str] | None = None, **options: object) -> Topology:  # noqa: N802 - reads as the thing it starts
    """The topology with `workers` gunicorn workers, on DATABASE_URL and REDIS_URL (from `env`, else
    this process's environment); MARKET_HOURS=always unless `env` says otherwise."""
    settings = {"MARKET_HOURS": "always", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"), **(env or {})}
    settings["MATCHER_INLINE"] = "false"
    source = {**os.environ, **settings}
    return Topology(database_url=source["DATABASE_URL"], redis_url=source.get("REDIS_URL", ""), web_workers=workers,
                    env=settings, **options)  # type: ignore[arg-type]


_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process; /proc/stat's user,
    nice, system, irq, softirq and steal): the difference of two readings is what a measurement cost
    all told, whoever spent it."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of the children it has reaped), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / _TICKS)
    return found


def platform_cpu(platform: Topology) -> dict[str, dict[int, float]]:
    """CPU seconds used so far, per pid, by each process of the platform with its descendants
    (gunicorn's and Celery's workers, nginx's), and by the PostgreSQL backends serving its database
    now, grouped by whom they serve (`postgresql_web`, `postgresql_matcher`, ...: `_served`; not this
    query's). `cpu_used` turns two of these into each process's CPU between them."""
    import psycopg2

    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    result: dict[str, dict[int, float]] = {}
    for name, process in platform.processes.items():
        result[name], frontier = {}, [process.pid]
        while frontier:
            pid = frontier.pop()
            if pid in processes:
                result[name][pid] = processes[pid][1]
            frontier += children.get(pid, [])
    connection = psycopg2.connect(platform.database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           [platform.db_name])
            for pid, application in cursor.fetchall():
                if pid in processes:
                    result.setdefault(f"postgresql_{_served(application)}", {})[pid] = processes[pid][1]
    finally:
        connection.close()
    return result


def _served(application: str) -> str:
    """Whom a PostgreSQL backend serves, by its application_name: the platform's processes name
    themselves (deploy/topology.py's PGAPPNAME, e.g. carbon-platform-web); the rest (the topology's
    connection counter, the benchmark's own) are the benchmark's."""
    if application.startswith(APPLICATION_PREFIX):
        return application.removeprefix(APPLICATION_PREFIX)
    return "benchmark"


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds of each process between two `platform_cpu` readings (a process that ended between
    them is left out: what it used after the first reading is not known)."""
    return {name: round(sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in pids.items()), 2)
            for name, pids in after.items()}
