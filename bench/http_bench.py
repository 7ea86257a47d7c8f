"""The order mix through the REST API, on the shipped topology (deploy/topology.py: nginx, gunicorn,
uvicorn for the streams, run_matcher and a Celery worker settling as it goes), all on this
machine's cores with PostgreSQL, Redis and the clients. Prints JSON.

The mix: 70 % new orders (about half crossing), 20 % book reads, 10 % cancels of one's own resting
orders; each client is a process with one keep-alive connection and a trader of its own.

Three measurements:
1. engine: orders accepted per second by `trading.services.order_place` called directly by 4
   processes (no HTTP, no matcher), in this run, for the ratio below, and what each cost the whole
   machine (`engine_machine_cpu_ms_per_order`: every process, PostgreSQL's backends included);
2. throughput: `--clients` closed-loop clients as fast as they are answered: requests/s, p50/p99
   per kind, and `http_orders_per_engine_order`, HTTP orders/s over the engine's accepted/s (and
   `http_requests_per_engine_order`, all of the mix's requests/s over it);
3. latency: `--rate` requests/s offered in all (open loop, each client on a fixed schedule), latency
   counted from each request's scheduled time, so a slow answer delays the next one's clock too;
4. without_web_tier: the same mix from the same number of clients on the same running platform
   (matcher and worker at work), each client calling the services a request ends in directly: what
   the mix costs beyond the web tier, so its `orders_per_engine_order` is the most any web tier
   could reach on this machine (`--engine-orders 0` skips it with the engine).
Each client stands for many traders: the per-trader rate limit of order entry (API_ORDER_RATE, 1,200
a minute) is raised out of the way, so that no run meets 429s left by the one before; it is still
counted in Redis on every order and cancel, as always.
During 2 and 3 the platform's PostgreSQL connections are sampled every 50 ms (`connections_max`,
against the topology's `ceiling`). During 2, the CPU of each process (from /proc: gunicorn with its
workers, run_matcher, the Celery worker, nginx, uvicorn, the clients and this process's sampler, and
the PostgreSQL backends by whom they serve: `postgresql_web`, `postgresql_matcher`,
`postgresql_worker`) is divided by the requests answered:
`cpu_ms_per_request`, where a request's time goes across the whole platform; and the whole
machine's busy time per request (`machine_cpu_ms_per_request`, from /proc/stat), the same all told.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    python bench/http_bench.py [--seconds 20] [--clients 8] [--rate 150] [--workers 6]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import threading
import time
from collections.abc import Callable

os.environ.setdefault("MARKET_HOURS", "always")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ["MATCHER_INLINE"] = "false"

from _http import Platform, cpu_used, machine_busy, platform_cpu  # noqa: E402
from _setup import django_ready  # noqa: E402

MID = 54_22


def mix_action(rng: random.Random, resting: list[int], client_order_id: str) -> tuple[str, object]:
    """The mix's next action: ("cancel", one of `resting`, taken out), ("book", None) or ("order", its fields)."""
    roll = rng.random()
    if roll < 0.1 and resting:
        return "cancel", resting.pop(rng.randrange(len(resting)))
    if roll < 0.3:
        return "book", None
    side = rng.choice(["buy", "sell"])
    crossing = rng.random() < 0.5
    offset = rng.randint(1, 40)
    price = MID + offset if (side == "buy") == crossing else MID - offset
    return "order", {"instrument": "CEA21", "side": side, "price": f"{price / 100:.2f}", "quantity": rng.randint(1, 200),
                     "client_order_id": client_order_id}


def client(args: tuple[int, str, float, int, float, float]) -> tuple[list[tuple[str, int, float]], float]:
    """One trader's connection: (kind, status, seconds) per request, and when it stopped. `interval` 0:
    as fast as answered."""
    port, token, seconds, seed, interval, start_at = args
    time.sleep(max(0.0, start_at - time.time()))
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    resting: list[int] = []
    out: list[tuple[str, int, float]] = []
    start = time.perf_counter()
    slot = start + rng.random() * interval
    index = 0
    while True:
        now = time.perf_counter()
        if now - start >= seconds:
            break
        if interval:
            if slot > now:
                time.sleep(slot - now)
            begun = slot  # open loop: the clock runs from when the request was due
            slot += interval
        else:
            begun = now
        index += 1
        kind, target = mix_action(rng, resting, f"http-{seed}-{time.time_ns()}-{index}")
        if kind == "cancel":
            method, path, body = "DELETE", f"/api/v1/orders/{target}/", None
        elif kind == "book":
            method, path, body = "GET", "/api/v1/instruments/CEA21/book/?depth=10", None
        else:
            method, path, body = "POST", "/api/v1/orders/", json.dumps(target)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            status = response.status
        except OSError:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status, payload = 599, b""
        out.append((kind, status, time.perf_counter() - begun))
        if kind == "order" and status == 201:
            resting.append(json.loads(payload)["id"])
    connection.close()
    return out, time.time()


def service_client(args: tuple[str, float, int, float]) -> tuple[list[tuple[str, int, float]], float]:
    """The same mix as `client` with no web tier at all: the trader's actions go straight to the
    services a request ends in (order_place, order_cancel, the book's snapshot), as fast as they
    return. What the mix costs the platform beyond its web tier: the ceiling of any web tier."""
    username, seconds, seed, start_at = args
    django_ready(migrate=False)
    from django.db import connection

    from accounts.models import User
    from core.errors import DomainError
    from trading import market_data
    from trading.services import order_cancel, order_place

    user = User.objects.get(username=username)
    time.sleep(max(0.0, start_at - time.time()))
    rng = random.Random(seed)
    resting: list[int] = []
    out: list[tuple[str, int, float]] = []
    start = time.perf_counter()
    index = 0
    while (begun := time.perf_counter()) - start < seconds:
        index += 1
        kind, target = mix_action(rng, resting, f"direct-{seed}-{time.time_ns()}-{index}")
        status = 200
        try:
            if kind == "cancel":
                order_cancel(user=user, order_id=target)
            elif kind == "book":
                market_data.market_get("CEA21").book(10)
            else:
                order, _ = order_place(user=user, **target)
                resting.append(order.pk)
                status = 201
        except DomainError:  # what the API answers with a 4xx: a cancel of an order traded meanwhile, mostly
            status = 409
        out.append((kind, status, time.perf_counter() - begun))
    connection.close()
    return out, time.time()


Rows = list[tuple[str, int, float]]


def drive(port: int, tokens: list[str], *, seconds: float, rate: float, seed: int,
          on_start: Callable[[], None] | None = None) -> tuple[Rows, float]:
    interval = len(tokens) / rate if rate else 0.0
    return _pooled(client, [(port, token, seconds, seed * 100 + n, interval) for n, token in enumerate(tokens)],
                   startup=2.0, on_start=on_start)


def drive_services(usernames: list[str], *, seconds: float, seed: int, on_start: Callable[[], None] | None = None) -> tuple[Rows, float]:
    return _pooled(service_client, [(username, seconds, seed * 100 + n) for n, username in enumerate(usernames)],
                   startup=8.0, on_start=on_start)


def _pooled(function: Callable[..., tuple[Rows, float]], arguments: list[tuple[object, ...]], *, startup: float,
            on_start: Callable[[], None] | None) -> tuple[Rows, float]:
    """Runs `function` in a process per argument; all start at one moment `startup` seconds ahead (by
    when every process has started: the processes' own start-up is not measured), when `on_start` is
    called here. (the rows, seconds from that moment to the last client's end)."""
    start_at = time.time() + startup
    # Spawned, not forked: the caller may hold threads and many sockets (bench/live_bench.py).
    with multiprocessing.get_context("spawn").Pool(len(arguments)) as pool:
        pending = pool.map_async(function, [(*argument, start_at) for argument in arguments])
        time.sleep(max(0.0, start_at - time.time()))
        if on_start:
            on_start()
        results = pending.get()
    return [row for rows, _ in results for row in rows], max(ended for _, ended in results) - start_at


def summary(rows: list[tuple[str, int, float]], seconds: float) -> dict[str, float]:
    latencies = sorted(latency * 1000 for _, _, latency in rows)
    if not latencies:
        return {"count": 0}
    return {"count": len(rows), "per_second": round(len(rows) / seconds, 1), "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1), "max_ms": round(latencies[-1], 1)}


def report(rows: list[tuple[str, int, float]], seconds: float) -> dict[str, object]:
    statuses: dict[str, int] = {}
    for _, status, _ in rows:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "seconds": round(seconds, 1),
        "requests_per_second": round(len(rows) / seconds),
        "all": summary(rows, seconds),
        "orders": summary([r for r in rows if r[0] == "order"], seconds),
        "book_reads": summary([r for r in rows if r[0] == "book"], seconds),
        "cancels": summary([r for r in rows if r[0] == "cancel"], seconds),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(count for status, count in statuses.items() if status.startswith("5")),
    }


class ConnectionSampler(threading.Thread):
    """Counts the platform's PostgreSQL connections every 50 ms (Topology.connections)."""

    def __init__(self, platform: object) -> None:
        super().__init__(daemon=True)
        self.platform, self.samples, self.stopping = platform, [0], threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(self.platform.connections())  # type: ignore[attr-defined]
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=150.0, help="requests/s offered in the latency run (0: skip it)")
    parser.add_argument("--workers", type=int, default=6, help="gunicorn sync workers")
    parser.add_argument("--engine-orders", type=int, default=2000, help="orders of the order_place measurement (0: skip)")
    options = parser.parse_args()

    django_ready()
    from bench_fixtures import api_tokens, participants
    from django.db import connection
    from orderflow_bench import fresh_book, run_clients


    traders = participants(max(options.clients, 4))
    tokens = api_tokens(traders[: options.clients], "http-bench")
    result: dict[str, object] = {"benchmark": "http", "clients": options.clients}

    engine_per_second = None
    if options.engine_orders:
        fresh_book()
        connection.close()
        busy = machine_busy()
        placed, _, seconds = run_clients(4, options.engine_orders // 4, seed=7)
        engine_per_second = len(placed) / seconds
        result["engine_accepted_per_second"] = round(engine_per_second)
        result["engine_machine_cpu_ms_per_order"] = round((machine_busy() - busy) * 1000 / len(placed), 2)
    fresh_book()
    connection.close()

    with Platform(workers=options.workers, env={"API_ORDER_RATE": "1000000/min"}) as platform:
        result["topology"] = {"proxy": "nginx", "web": f"gunicorn, {options.workers} sync workers", "streams": "uvicorn, 2 processes",
                              "matcher": "run_matcher", "worker": "celery, 2 processes", "ceiling": platform.ceiling}
        sampler = ConnectionSampler(platform)
        sampler.start()
        before: dict[str, object] = {}

        def readings_start() -> None:
            before.update(cpu=platform_cpu(platform), times=os.times(), busy=machine_busy())

        rows, seconds = drive(platform.port, tokens, seconds=options.seconds, rate=0, seed=1, on_start=readings_start)
        busy = machine_busy() - before["busy"]  # type: ignore[operator]
        cpu_before, times_before = before["cpu"], before["times"]
        used = cpu_used(cpu_before, platform_cpu(platform))  # type: ignore[arg-type]
        times = os.times()
        used["clients"] = times.children_user + times.children_system - times_before.children_user - times_before.children_system
        used["benchmark"] = times.user + times.system - times_before.user - times_before.system  # its connection sampler
        throughput = report(rows, seconds)
        ms_per_request = 1000 / max(len(rows), 1)
        throughput["cpu_ms_per_request"] = {name: round(cpu * ms_per_request, 2) for name, cpu in {**used, "all": sum(used.values())}.items()}
        throughput["machine_cpu_ms_per_request"] = round(busy * ms_per_request, 2)
        if engine_per_second:
            http_orders = throughput["orders"]["count"] / seconds  # type: ignore[index]
            throughput["http_orders_per_second"] = round(http_orders)
            throughput["http_orders_per_engine_order"] = round(http_orders / engine_per_second, 2)
            # The first figures (0.21 and 0.07, 2026-12-04) were the mix's requests/s over the engine's orders/s.
            throughput["http_requests_per_engine_order"] = round(len(rows) / seconds / engine_per_second, 2)
        result["throughput"] = throughput
        if options.rate:
            rows, seconds = drive(platform.port, tokens, seconds=options.seconds, rate=options.rate, seed=2)
            result["latency"] = {"offered_per_second": options.rate, **report(rows, seconds)}
        if engine_per_second:
            # The ceiling of any web tier: the same mix and clients on the same running platform,
            # the services called directly (its web tier idle). The book is as the runs above left it
            # (the platform's matcher owns it now).
            connection.close()
            before.clear()
            rows, seconds = drive_services([trader.username for trader in traders[: options.clients]], seconds=options.seconds, seed=3,
                                           on_start=lambda: before.update(busy=machine_busy()))
            busy = machine_busy() - before["busy"]  # type: ignore[operator]
            direct = report(rows, seconds)
            direct["machine_cpu_ms_per_request"] = round(busy * 1000 / max(len(rows), 1), 2)
            direct["orders_per_engine_order"] = round(direct["orders"]["count"] / seconds / engine_per_second, 2)  # type: ignore[index]
            result["without_web_tier"] = direct
        sampler.stopping.set()
        sampler.join()
        result["connections_max"] = max(sampler.samples)
        result["processes_alive"] = platform.alive()
    fresh_book()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
