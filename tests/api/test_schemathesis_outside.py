"""Schemathesis from outside, short: the same command as the full run (scripts/schemathesis_outside.py,
configured by schemathesis.toml), with fewer examples per operation. The API over HTTP through the
shipped topology (nginx, gunicorn, run_matcher, a Celery worker on a Redis of the test's
own), on the test database, as a trader, a compliance officer and anonymous: every check, the phases
examples, coverage, fuzzing and stateful; not one failure. The ledger is checked afterwards, as after
every test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.faults.conftest import RedisServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.outside]

MAX_EXAMPLES = 3  # per operation and phase: about 3,400 requests (the full run: 69, about 9,100)


@pytest.fixture
def redis_url():
    server = RedisServer()
    server.start()
    yield server.url
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


def test_schemathesis_from_outside_finds_no_failure(redis_url):
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))}
    env.update(DATABASE_URL=f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
               REDIS_URL=redis_url)
    done = subprocess.run([sys.executable, "scripts/schemathesis_outside.py", "--max-examples", str(MAX_EXAMPLES)],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-30000:]
    summary = re.search(r"schemathesis outside: (\d+) requests as trader, compliance_officer, anonymous .*; no failure",
                        output)
    assert summary, output[-5000:]
    assert int(summary.group(1)) > 2_000, output[-5000:]  # it ran: every operation, every phase, three roles
