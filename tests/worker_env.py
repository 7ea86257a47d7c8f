"""Loaded before Django starts (`-p tests.worker_env` in pytest's options). Under pytest-xdist each
worker has its own test database (pytest-django names it after the worker); this gives each its own
Redis database too, so that one worker's Celery queue, book snapshots and order-rate counters are
never another's. (Live channels are named after the database already: core.live.channel.)"""

import os
from urllib.parse import urlsplit, urlunsplit

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_url = os.environ.get("REDIS_URL", "")
if _worker.startswith("gw") and _url:
    _parts = urlsplit(_url)
    _base = int(_parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(_parts._replace(path=f"/{_base + 1 + int(_worker[2:])}"))
