"""gunicorn's configuration (deploy/gunicorn.conf.py) as the arbiter runs it, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

ARBITER = """
import json, os, runpy, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.wsgi import application  # what preload_app loads before the arbiter forks
views = ["reports.views", "trading.api", "compliance.views", "enforcement.views"]
before = [name for name in views if name in sys.modules]
runpy.run_path("deploy/gunicorn.conf.py")["when_ready"](None)
from django.db import connections
print(json.dumps({"before": before, "after": [name for name in views if name in sys.modules],
                  "open": [c.alias for c in connections.all() if c.connection is not None]}))
"""


def test_the_arbiter_imports_every_view_before_it_forks_and_holds_no_connection():
    """Loading the application does not import the views (Django reads the URLconf at the first
    request); `when_ready` does, once, in the arbiter, so no worker spends its first request on it."""
    run = subprocess.run([sys.executable, "-c", ARBITER], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["before"] == []
    assert seen["after"] == ["reports.views", "trading.api", "compliance.views", "enforcement.views"]
    assert seen["open"] == []
