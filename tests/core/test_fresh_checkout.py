"""What a new user runs in a fresh checkout, with no configuration at all: the models match their
migrations; and a deployment (a DATABASE_URL, DEBUG off) refuses to start without a SECRET_KEY."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_the_models_match_their_migrations_without_any_configuration():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_a_deployment_without_a_secret_key_refuses_to_start():
    result = manage("check", DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_deployment_with_a_placeholder_secret_key_refuses_to_start():
    result = manage("check", DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused", SECRET_KEY="change-me-in-production")
    assert result.returncode != 0
    assert "SECRET_KEY is a placeholder" in result.stderr
    assert manage("check", SECRET_KEY="change-me", DEBUG="true").returncode == 0  # a developer's machine may


def test_transaction_pooling_refuses_prepared_statements():
    database = "postgres://postgres@127.0.0.1:5432/unused"
    result = manage("check", DATABASE_URL=database, SECRET_KEY="x" * 50, DATABASE_POOLING="transaction", PREPARED_STATEMENTS="true")
    assert result.returncode != 0 and "PREPARED_STATEMENTS cannot be on" in result.stderr
    result = manage("check", DATABASE_URL=database, SECRET_KEY="x" * 50, DATABASE_POOLING="statement")
    assert result.returncode != 0 and "DATABASE_POOLING must be" in result.stderr
    assert manage("check", DATABASE_URL=database, SECRET_KEY="x" * 50, DATABASE_POOLING="transaction").returncode == 0
