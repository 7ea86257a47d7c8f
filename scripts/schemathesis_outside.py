#!/usr/bin/env python3
"""Schemathesis from outside: the API over HTTP, against its own schema, as a client meets it.

One command for the full run and for CI's short one (tests/api/test_schemathesis_outside.py); only
--max-examples differs:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_st REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python scripts/schemathesis_outside.py                    # the full run
    DATABASE_URL=... REDIS_URL=... .venv/bin/python scripts/schemathesis_outside.py --max-examples 2

It migrates the database of DATABASE_URL and seeds the demo there (`seed_demo --companies 2`, which
does nothing if the demo is already present), makes API tokens for this run, starts the shipped
topology on loopback (deploy/topology.py: nginx, gunicorn, uvicorn, run_matcher and, with
REDIS_URL, a Celery worker; MARKET_HOURS=always) and runs `st run` against /api/schema/ once for each
role: a company trader (trader001), a compliance officer (officer001) and anonymous. What
schemathesis checks, and how, is in schemathesis.toml at the top of the repository, and only there:
every check; the phases examples, coverage, fuzzing and stateful. The requests are counted from
schemathesis' HAR reports. Exits 0 only if no role's run found a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.topology import Topology  # noqa: E402

CONFIG = ROOT / "schemathesis.toml"
ROLES = {"trader": "trader001", "compliance_officer": "officer001", "anonymous": None}
FULL_MAX_EXAMPLES = 69  # the full run: about 9,100 requests as the three roles
SEED = 20261204

TOKENS = """
import datetime as dt, json
from django.utils import timezone
from accounts.models import ApiToken, User
from accounts.services import api_token_create, api_token_revoke
for earlier in ApiToken.objects.filter(user__username__in=NAMES, name="schemathesis", revoked_at__isnull=True):
    api_token_revoke(token=earlier, actor=None)  # an earlier run's
expires = timezone.now() + dt.timedelta(hours=3)
print(json.dumps({name: api_token_create(user=User.objects.get(username=name), name="schemathesis", actor=None,
                                         expires_at=expires)[1] for name in NAMES}))
"""


def platform_env() -> dict[str, str]:
    """The settings of every process of the platform (the rest comes from this environment)."""
    return {"SECRET_KEY": os.environ.get("SECRET_KEY", "schemathesis-only-secret-key"), "DEBUG": "false",
            "MARKET_HOURS": "always", "MATCHER_INLINE": "false"}


def manage(*argv: str) -> str:
    env = {**os.environ, **platform_env()}
    done = subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py {argv[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def tokens() -> dict[str, str | None]:
    """Migrates, seeds the demo (once: `seed_demo` does nothing on a seeded database) and returns an
    API token for each role (None for anonymous), new for this run and expiring in 3 hours."""
    manage("migrate", "--noinput")
    manage("seed_demo", "--companies", "2")
    names = [username for username in ROLES.values() if username]
    keys = json.loads(manage("shell", "-c", TOKENS.replace("NAMES", repr(names))).strip().splitlines()[-1])
    return {role: keys[username] if username else None for role, username in ROLES.items()}


def schemathesis(url: str, token: str | None, *, max_examples: int, seed: int, workers: int,
                 reports: Path) -> subprocess.CompletedProcess[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        raise SystemExit("schemathesis is not installed (requirements-dev.txt)")
    argv = [st, "--config-file", str(CONFIG), "--no-color", "run", f"{url}/api/schema/",
            "--max-examples", str(max_examples), "--seed", str(seed), "--workers", str(workers),
            "--report", "junit,har", "--report-dir", str(reports)]
    if token:
        argv += ["--header", f"Authorization: Token {token}"]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)


def requests_sent(reports: Path) -> int:
    """The requests of a run, from its HAR report (the schema's own download not counted)."""
    total = 0
    for har in reports.glob("har-*.json"):
        entries = json.loads(har.read_text(errors="replace")).get("log", {}).get("entries", [])
        total += sum(1 for entry in entries if "/api/schema/" not in entry.get("request", {}).get("url", ""))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=FULL_MAX_EXAMPLES,
                        help=f"per operation and phase (default {FULL_MAX_EXAMPLES}: the full run)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--roles", default=",".join(ROLES), help="a comma-separated subset of " + ", ".join(ROLES))
    parser.add_argument("--web-workers", type=int, default=2)
    # One: schemathesis' workers are threads, and Python 3.11's parser is not safe across threads
    # (hypothesis parses lambdas' source: "AST constructor recursion depth mismatch").
    parser.add_argument("--st-workers", type=int, default=1, help="schemathesis' concurrent workers (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the reports (their folder is printed)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database that this run may fill")
    roles = args.roles.split(",")
    if unknown := set(roles) - set(ROLES):
        raise SystemExit(f"unknown roles: {', '.join(sorted(unknown))}")

    directory, started = Path(tempfile.mkdtemp(prefix="schemathesis-outside-")), time.monotonic()
    role_tokens = tokens()
    failed, total = [], 0
    with Topology(database_url=os.environ["DATABASE_URL"], redis_url=os.environ.get("REDIS_URL", ""),
                  web_workers=args.web_workers, worker_concurrency=1, static=False, env=platform_env()) as platform:
        print(f"== the platform answers on {platform.url} after {time.monotonic() - started:.0f} s", flush=True)
        for role in roles:
            began = time.monotonic()
            done = schemathesis(platform.url, role_tokens[role], max_examples=args.max_examples, seed=args.seed,
                                workers=args.st_workers, reports=directory / role)
            sent = requests_sent(directory / role)
            total += sent
            print(f"== {role}: {sent} requests in {time.monotonic() - began:.0f} s, "
                  f"{'no failure' if done.returncode == 0 else f'exit {done.returncode}'}", flush=True)
            if done.returncode:
                failed.append(role)
                print(done.stdout[-30000:], done.stderr[-5000:], sep="\n", flush=True)
        dead = [name for name, alive in platform.alive().items() if not alive]
    if dead:
        failed.append(f"the platform ({', '.join(dead)} exited)")
    print(f"schemathesis outside: {total} requests as {', '.join(roles)} in {time.monotonic() - started:.0f} s; "
          f"{'failures: ' + ', '.join(failed) if failed else 'no failure'}", flush=True)
    if args.keep or failed:
        print(f"reports: {directory}", flush=True)
    else:
        shutil.rmtree(directory, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
