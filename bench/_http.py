"""The platform behind HTTP for benchmarks and the load tests: the shipped topology (deploy/topology.py:
nginx, gunicorn, uvicorn for the streams, PgBouncer, run_matcher and, with REDIS_URL, a Celery worker)
on the database of DATABASE_URL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.topology import Topology, free_port  # noqa: E402

__all__ = ["Platform", "ROOT", "free_port"]


def Platform(*, workers: int = 6, env: dict[str, str] | None = None, **options: object) -> Topology:  # noqa: N802 - reads as the thing it starts
    """The topology with `workers` gunicorn workers, on DATABASE_URL and REDIS_URL (from `env`, else
    this process's environment); MARKET_HOURS=always unless `env` says otherwise."""
    settings = {"MARKET_HOURS": "always", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"), **(env or {})}
    settings["MATCHER_INLINE"] = "false"
    source = {**os.environ, **settings}
    return Topology(database_url=source["DATABASE_URL"], redis_url=source.get("REDIS_URL", ""), web_workers=workers,
                    env=settings, **options)  # type: ignore[arg-type]
