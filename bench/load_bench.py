"""A steady order and read load through the REST API for minutes: gunicorn in front, run_matcher
behind (and a Celery worker when REDIS_URL is set), simulated traders (asyncio + httpx, one
keep-alive connection each) sending requests on a fixed schedule at an offered rate, the mix
45 % new orders (half of them crossing), 10 % cancels, 15 % book, 10 % own orders, 10 % balances,
5 % trade tape, 5 % instruments. Prints JSON: requests/s and p50/p95/p99 per endpoint, every status
seen, server errors (the run fails with any).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/load_bench.py [--seconds 60] [--full]

`--full` holds the load for 5 minutes. tests/faults/test_load.py runs a shortened one in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from typing import Any

MIX = [("order", 45), ("cancel", 10), ("book", 15), ("orders", 10), ("balances", 10), ("tape", 5), ("instruments", 5)]
FULL_SECONDS = 300


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(latencies: list[float], seconds: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0}
    return {"count": len(ordered), "per_second": round(len(ordered) / seconds, 1),
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 1), "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


class Trader:
    def __init__(self, number: int, token: str, mid: int, seed: int) -> None:
        self.number, self.token, self.mid = number, token, mid
        self.rng = random.Random(seed)
        self.resting: list[int] = []
        self.sent = 0

    def next_request(self) -> tuple[str, str, str, dict[str, Any] | None]:
        kind = self.rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        if kind == "cancel" and not self.resting:
            kind = "order"
        self.sent += 1
        if kind == "order":
            side = self.rng.choice(["buy", "sell"])
            crossing = self.rng.random() < 0.5
            offset = self.rng.randint(1, max(2, self.mid // 200))  # within 0.5 % of the middle
            price = self.mid + offset if (side == "buy") == crossing else self.mid - offset
            body = {"instrument": "CEA21", "side": side, "price": f"{price / 100:.2f}", "quantity": self.rng.randint(1, 200),
                    "client_order_id": f"load-{self.number}-{time.time_ns()}-{self.sent}"}
            return kind, "POST", "/api/v1/orders/", body
        if kind == "cancel":
            return kind, "DELETE", f"/api/v1/orders/{self.resting.pop(self.rng.randrange(len(self.resting)))}/", None
        path = {"book": "/api/v1/instruments/CEA21/book/?depth=10", "orders": "/api/v1/orders/?status=open&limit=20",
                "balances": "/api/v1/balances/", "tape": "/api/v1/instruments/CEA21/trades/?limit=20",
                "instruments": "/api/v1/instruments/"}[kind]
        return kind, "GET", path, None


async def _trader(client: Any, trader: Trader, *, interval: float, start: float, seconds: float,
                  results: list[tuple[str, int, float]], late: Counter) -> None:
    headers = {"Authorization": f"Token {trader.token}"}
    slot = start + trader.rng.random() * interval  # spread the traders' phases
    end = start + seconds
    while slot < end and time.perf_counter() < end:
        delay = slot - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -interval:
            late["requests"] += 1  # behind schedule: the server is slower than the offered rate
        kind, method, path, body = trader.next_request()
        sent = time.perf_counter()
        try:
            response = await client.request(method, path, json=body, headers=headers)
            status = response.status_code
            if kind == "order" and status == 201:
                trader.resting.append(response.json()["id"])
        except Exception:  # noqa: BLE001 - a transport failure counts as a server error
            status = 599
        results.append((kind, status, time.perf_counter() - sent))
        slot += interval


async def drive(base_url: str, tokens: list[str], *, seconds: float, rate: float, seed: int = 1) -> dict[str, Any]:
    """Offers `rate` requests/s in all, spread over one simulated trader per token, for `seconds`."""
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    limits = httpx.Limits(max_connections=len(tokens) + 2, max_keepalive_connections=len(tokens) + 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        instrument = (await client.get("/api/v1/instruments/CEA21/")).json()
        mid = round(float(instrument["reference_price"]) * 100)
        traders = [Trader(n, token, mid, seed * 1000 + n) for n, token in enumerate(tokens)]
        results: list[tuple[str, int, float]] = []
        late: Counter = Counter()
        interval = len(traders) / rate
        start = time.perf_counter()
        await asyncio.gather(*(_trader(client, trader, interval=interval, start=start, seconds=seconds,
                                       results=results, late=late) for trader in traders))
        elapsed = time.perf_counter() - start
    statuses = Counter(str(status) for _, status, _ in results)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, latency in results:
        by_kind[kind].append(latency)
    return {
        "benchmark": "load",
        "seconds": round(elapsed, 1),
        "traders": len(traders),
        "offered_per_second": rate,
        "requests_per_second": round(len(results) / elapsed, 1),
        "all": summary([latency for _, _, latency in results], elapsed),
        "endpoints": {kind: summary(by_kind[kind], elapsed) for kind, _ in MIX},
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(count for status, count in statuses.items() if status.startswith("5")),
        "rate_limited": statuses.get("429", 0),
        "late_requests": late["requests"],
    }


def drive_blocking(base_url: str, tokens: list[str], **options: Any) -> dict[str, Any]:
    """`drive` from synchronous code, on a thread of its own: the caller's thread may be running an
    event loop already (a test session that used Playwright's sync API does)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["report"] = asyncio.run(drive(base_url, tokens, **options))
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="load-bench")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]


def traders_with_tokens(count: int) -> list[str]:
    """API tokens of `count` funded traders (bench_fixtures), on the database Django is set up on."""
    from bench_fixtures import api_tokens, participants


    return api_tokens(participants(count), "load-bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--full", action="store_true", help=f"hold the load for {FULL_SECONDS} s")
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second offered, in all")
    parser.add_argument("--traders", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    options = parser.parse_args()
    os.environ.setdefault("MARKET_HOURS", "always")

    from _http import Platform
    from _setup import django_ready

    django_ready()
    from django.db import connection

    tokens = traders_with_tokens(options.traders)
    connection.close()
    with Platform(workers=options.workers) as platform:
        report = drive_blocking(f"http://127.0.0.1:{platform.port}", tokens,
                                seconds=FULL_SECONDS if options.full else options.seconds, rate=options.rate)
        report["processes_alive"] = platform.alive()
    report["gunicorn_workers"] = options.workers
    print(json.dumps(report))
    sys.exit(1 if report["server_errors"] else 0)


if __name__ == "__main__":
    main()
