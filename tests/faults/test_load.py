"""The load benchmark (bench/load_bench.py), shortened for CI: a steady order and read mix through
gunicorn, run_matcher and a Celery worker for a few seconds, with no server error, every endpoint
exercised and its percentiles reported; the matcher keeps up."""

from __future__ import annotations

import sys

import pytest

from trading.models import Instrument

from .conftest import ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

sys.path.insert(0, str(ROOT / "bench"))


def test_a_short_steady_load_gets_no_server_error_and_reports_percentiles_per_endpoint(stack, redis_server):
    import load_bench
    from _http import Platform

    tokens = load_bench.traders_with_tokens(4)
    with Platform(workers=2, env=stack.env()) as platform:
        report = load_bench.drive_blocking(f"http://127.0.0.1:{platform.port}", tokens, seconds=8, rate=30)
        assert all(platform.alive().values()), platform.alive()
        instrument = Instrument.objects.get(symbol="CEA21")

        def caught_up() -> bool:
            instrument.refresh_from_db()
            return instrument.matching_position.matched_sequence == instrument.last_sequence

        wait_for(caught_up, timeout=30, what="the matcher to apply every accepted order")
    assert report["server_errors"] == 0, report
    assert report["requests_per_second"] > 10, report
    for kind, figures in report["endpoints"].items():
        assert figures["count"] > 0, kind
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"], kind
    # Refusals are the market's (a cancel that came after the fill), never the server's.
    assert set(report["statuses"]) <= {"200", "201", "409"}, report["statuses"]
