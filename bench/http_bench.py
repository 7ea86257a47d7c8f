"""The order mix through the REST API: gunicorn (sync workers) in front, run_matcher behind, a few
concurrent keep-alive clients placing orders (about half crossing), cancelling some and reading the
book. Reports requests/s, p50/p99 latency and every non-2xx answer. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/http_bench.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import threading
import time

os.environ.setdefault("MARKET_HOURS", "always")
os.environ["MATCHER_INLINE"] = "false"

from _http import Platform  # noqa: E402
from _setup import django_ready  # noqa: E402

MID = 54_22


def client(port: int, token: str, seconds: float, seed: int, out: list[tuple[str, int, float]]) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    resting: list[int] = []
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline:
        index += 1
        roll = rng.random()
        if roll < 0.1 and resting:
            method, path, body, kind = "DELETE", f"/api/v1/orders/{resting.pop(rng.randrange(len(resting)))}/", None, "cancel"
        elif roll < 0.3:
            method, path, body, kind = "GET", "/api/v1/instruments/CEA21/book/?depth=10", None, "book"
        else:
            side = rng.choice(["buy", "sell"])
            crossing = rng.random() < 0.5
            offset = rng.randint(1, 40)
            price = MID + offset if (side == "buy") == crossing else MID - offset
            body = json.dumps({"instrument": "CEA21", "side": side, "price": f"{price / 100:.2f}",
                               "quantity": rng.randint(1, 200), "client_order_id": f"http-{seed}-{time.time_ns()}-{index}"})
            method, path, kind = "POST", "/api/v1/orders/", "order"
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        out.append((kind, response.status, time.perf_counter() - started))
        if kind == "order" and response.status == 201:
            resting.append(json.loads(payload)["id"])
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    options = parser.parse_args()

    django_ready()
    from bench_fixtures import participants
    from django.db import connection

    from accounts.services import api_token_create

    tokens = [api_token_create(user=trader, name="http-bench", actor=trader)[1] for trader in participants(options.clients)]
    connection.close()
    with Platform(workers=options.workers) as platform:
        results: list[tuple[str, int, float]] = []
        threads = [threading.Thread(target=client, args=(platform.port, token, options.seconds, n, results)) for n, token in enumerate(tokens)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started

    def summary(rows: list[tuple[str, int, float]]) -> dict[str, float]:
        latencies = sorted(seconds * 1000 for _, _, seconds in rows)
        if not latencies:
            return {}
        return {"count": len(rows), "p50_ms": round(statistics.median(latencies), 1),
                "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)}

    statuses: dict[str, int] = {}
    for _, status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    print(json.dumps({
        "benchmark": "http",
        "clients": options.clients,
        "gunicorn_workers": options.workers,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(results) / elapsed),
        "all": summary(results),
        "orders": summary([r for r in results if r[0] == "order"]),
        "book_reads": summary([r for r in results if r[0] == "book"]),
        "cancels": summary([r for r in results if r[0] == "cancel"]),
        "statuses": statuses,
        "server_errors": sum(count for status, count in statuses.items() if status.startswith("5")),
    }))


if __name__ == "__main__":
    main()
