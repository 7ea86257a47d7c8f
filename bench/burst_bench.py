"""A launch-day rush on the shipped topology (deploy/topology.py): `--clients` concurrent clients (300)
for `--seconds` (20) on the public market page, the book and order entry, each sending its next request
as soon as it has its answer. Meanwhile, every 50 ms, the platform's PostgreSQL connections are
counted, and every second how far the matcher and settlement have got. Passes (exit 0) when no
request got a server error, the connections never passed the topology's ceiling, and the matcher and
the Celery worker kept matching and settling throughout. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    python bench/burst_bench.py [--clients 300] [--seconds 20]

tests/faults/test_burst.py runs a shorter one in CI.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from typing import Any

os.environ.setdefault("MARKET_HOURS", "always")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ["MATCHER_INLINE"] = "false"

MID = 54_22
KINDS = ("market_page", "book", "order")


def _client(port: int, token: str, seed: int, seconds: float, out: list[tuple[str, int, float]]) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline:
        index += 1
        kind = KINDS[index % 3] if index > 1 else KINDS[seed % 3]
        headers: dict[str, str] = {}
        body = None
        if kind == "market_page":
            method, path = "GET", "/market/"
        elif kind == "book":
            method, path = "GET", "/api/v1/instruments/CEA21/book/?depth=10"
        else:
            side = rng.choice(["buy", "sell"])
            offset = rng.randint(1, 30)
            price = MID + offset if (side == "buy") == (rng.random() < 0.5) else MID - offset
            method, path = "POST", "/api/v1/orders/"
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            body = json.dumps({"instrument": "CEA21", "side": side, "price": f"{price / 100:.2f}", "quantity": rng.randint(1, 50),
                               "client_order_id": f"burst-{seed}-{time.time_ns()}-{index}"})
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:  # refused, reset or timed out: the platform failed this client
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status = 599
        out.append((kind, status, time.perf_counter() - started))
    connection.close()


def _process(args: tuple[int, list[tuple[str, int]], float]) -> list[tuple[str, int, float]]:
    """One client process: a thread per client, each with its own keep-alive connection."""
    port, clients, seconds = args
    out: list[tuple[str, int, float]] = []
    threads = [threading.Thread(target=_client, args=(port, token, seed, seconds, out)) for token, seed in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def burst(port: int, tokens: list[str], *, clients: int, seconds: float, processes: int = 4) -> tuple[list[tuple[str, int, float]], float]:
    """Runs the rush; (kind, status, seconds) per request, and how long it took."""
    assignments = [(tokens[n % len(tokens)], n) for n in range(clients)]
    shares = [(port, assignments[n::processes], seconds) for n in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_process, shares)
    return [row for rows in results for row in rows], time.perf_counter() - started


class Watch(threading.Thread):
    """Samples the platform's PostgreSQL sessions (every 50 ms) and, every second, the matcher's
    position and the number of settled trades."""

    def __init__(self, platform: Any, instrument_id: int) -> None:
        super().__init__(daemon=True)
        self.platform, self.instrument_id = platform, instrument_id
        self.connections: list[int] = []
        # (time, matched sequence, settled trades, events waiting for the matcher, trades waiting for settlement)
        self.progress: list[tuple[float, int, int, int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        next_progress = 0.0
        while not self.stopping.is_set():
            self.connections.append(self.platform.connections())
            if time.monotonic() >= next_progress:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT p.matched_sequence, (SELECT count(*) FROM trading_trade WHERE settled_at IS NOT NULL), "
                        "i.last_sequence - p.matched_sequence, (SELECT count(*) FROM trading_trade WHERE settled_at IS NULL) "
                        "FROM trading_matchingposition p JOIN trading_instrument i ON i.id = p.instrument_id WHERE i.id = %s",
                        [self.instrument_id])
                    matched, settled, waiting, unsettled = cursor.fetchone()
                self.progress.append((time.monotonic(), matched, settled, waiting, unsettled))
                next_progress = time.monotonic() + 1.0
            time.sleep(0.05)
        connection.close()


def stalls(progress: list[tuple[float, int, int, int, int]], column: int, *, during: tuple[float, float], window: int = 3) -> int:
    """How many `window`-second spans of the rush saw work waiting throughout (its column + 2: events
    for the matcher, trades for settlement) and no progress in `column`: a stage that stopped, not
    one that had nothing to do."""
    rows = [row for row in progress if during[0] <= row[0] <= during[1]]
    return sum(
        1 for n in range(len(rows) - window)
        if rows[n + window][column] == rows[n][column] and all(row[column + 2] > 0 for row in rows[n : n + window + 1])
    )


def report(rows: list[tuple[str, int, float]], seconds: float, watch: Watch, ceiling: int,
           during: tuple[float, float]) -> dict[str, Any]:
    statuses = Counter(str(status) for _, status, _ in rows)
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for kind, _, latency in rows:
        by_kind[kind].append(latency * 1000)

    def spread(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {"count": len(values), "p50_ms": round(statistics.median(values), 1),
                "p99_ms": round(values[int(0.99 * (len(values) - 1))], 1)} if values else {"count": 0}

    first, last = watch.progress[0], watch.progress[-1]
    server_errors = sum(count for status, count in statuses.items() if status.startswith("5"))
    result = {
        "seconds": round(seconds, 1),
        "requests": len(rows),
        "requests_per_second": round(len(rows) / seconds),
        "by_kind": {kind: spread(values) for kind, values in by_kind.items()},
        "statuses": dict(sorted(statuses.items())),
        "server_errors": server_errors,
        "connections_max": max(watch.connections),
        "ceiling": ceiling,
        "matched_during": last[1] - first[1],
        "settled_during": last[2] - first[2],
        "matching_stalls": stalls(watch.progress, 1, during=during),
        "settlement_stalls": stalls(watch.progress, 2, during=during),
    }
    result["passed"] = (server_errors == 0 and result["connections_max"] <= ceiling and result["matched_during"] > 0
                        and result["settled_during"] > 0 and not result["matching_stalls"] and not result["settlement_stalls"])
    return result


def run(*, clients: int, seconds: float, traders: int = 30) -> dict[str, Any]:
    """On the database Django is set up on: funded traders, the topology up, the rush, the report."""
    from _http import Platform
    from bench_fixtures import api_tokens, participants
    from django.db import connection

    from trading.models import Instrument

    tokens = api_tokens(participants(traders), "burst")
    instrument = Instrument.objects.get(symbol="CEA21")
    connection.close()
    with Platform() as platform:
        watch = Watch(platform, instrument.pk)
        watch.start()
        time.sleep(1.2)  # a first progress sample before the rush
        started = time.monotonic()
        rows, elapsed = burst(platform.port, tokens, clients=clients, seconds=seconds)
        during = (started, time.monotonic())
        time.sleep(3.2)  # the matcher and settlement finishing the rush's last orders
        watch.stopping.set()
        watch.join()
        result = report(rows, elapsed, watch, platform.ceiling, during)
        result["processes_alive"] = platform.alive()
        result["passed"] = result["passed"] and all(result["processes_alive"].values())
    return {"benchmark": "burst", "clients": clients, **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    options = parser.parse_args()
    from _setup import django_ready

    django_ready()
    from orderflow_bench import fresh_book

    fresh_book()
    result = run(clients=options.clients, seconds=options.seconds)
    fresh_book()
    print(json.dumps(result))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
