"""The burst benchmark (bench/burst_bench.py), shortened for CI: 300 concurrent clients on the public
market page, the book and order entry, through the shipped topology (nginx, gunicorn, uvicorn,
run_matcher, a Celery worker): no server error, the platform's PostgreSQL connections never above its
ceiling, and the matcher and the worker matching and settling throughout."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

sys.path.insert(0, str(ROOT / "bench"))


def test_a_rush_of_300_clients_gets_no_server_error_and_stays_under_the_connection_ceiling(stack, monkeypatch):
    import burst_bench

    for name, value in stack.env().items():  # the stack's Redis and the test database, for the topology
        monkeypatch.setenv(name, value)
    result = burst_bench.run(clients=300, seconds=6, traders=20)
    assert result["server_errors"] == 0, result
    assert 3 <= result["connections_max"] <= result["ceiling"], result  # (3: the matcher and the worker's two, at least)
    assert result["by_kind"]["order"]["count"] > 0 and result["by_kind"]["market_page"]["count"] > 0, result
    assert result["statuses"].keys() <= {"200", "201"}, result  # (20 traders share the order rate limit with room)
    assert result["matched_during"] > 0 and result["settled_during"] > 0, result
    assert result["matching_stalls"] == 0 and result["settlement_stalls"] == 0, result
    assert all(result["processes_alive"].values()), result
    assert result["passed"]
