"""gunicorn, the WSGI server of the pages and the API (README: Topology). Sync workers: a request is
CPU and short database round trips, and nginx in front buffers slow clients, so a worker is never
held by a client's network. The live streams are not here: they run on the ASGI server."""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "6"))
worker_class = "sync"
# Load the application once, before forking: workers start fast and share its memory. (Django opens
# no database connection at import, so no connection is shared across the fork.)
preload_app = True
timeout = 60
# A request line up to nginx's 8 KB (gunicorn's most): nginx in front answers a longer one with a 414,
# and nothing between 4 KB (gunicorn's default) and 8 KB gets gunicorn's own HTML refusal.
limit_request_line = 8190
graceful_timeout = 20
backlog = 2048
# nginx logs every request; gunicorn logs only what goes wrong.
accesslog = None
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")


def when_ready(server):
    """Imports the URLconf, and with it every view, in the arbiter before it forks the workers: each
    starts with them loaded, sharing their memory, instead of importing them during its first request
    (about half a second of CPU per worker, measured with py-spy)."""
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - reading the property imports them
    connections.close_all()  # (importing opens none; none may cross the fork)
