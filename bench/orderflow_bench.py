"""Order flow on one instrument (CEA21), PostgreSQL with synchronous commit on. Prints JSON.

Three measurements, each on a fresh book:
1. accepted/s: orders placed through `trading.services.order_place` by several client processes;
2. matched/s: the matcher applying those accepted orders and committing them in batches (durable);
3. latency: the mix offered at fixed rates (orders and cancels: `achieved_per_second` counts both,
   `orders_per_second` the orders) while `run_matcher` runs; accept-to-matched is the time
   from order_place returning to the matcher applying the order (Order.matched_at; the batch commits
   within milliseconds after).
And the baseline: matching each order inside its own locked transaction (the naive design), with the
same clients and the same order mix.

The mix: about half the orders cross the spread, the rest rest in the book, and one action in ten
is a cancel of an earlier resting order.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/orderflow_bench.py [--orders 4000]
"""

from __future__ import annotations

import argparse
import bisect
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MARKET_HOURS", "always")
os.environ["MATCHER_INLINE"] = "false"
# Settlement tasks go to a Redis queue nobody reads during the run (a worker would compete for the
# same two cores); the benchmark settles afterwards and measures that separately.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")

from _setup import django_ready  # noqa: E402

HERE = Path(__file__).resolve().parent
MID = 54_22  # fen: CEA21's starting reference
RUN = f"{time.time():.0f}"  # client order ids are unique per run (a repeated id is an idempotent replay)


def mix(count: int, seed: int) -> list[tuple[str, int, int] | tuple[str]]:
    """(side, price, quantity) orders and ("cancel",) actions."""
    rng = random.Random(seed)
    actions: list[tuple[str, int, int] | tuple[str]] = []
    for _ in range(count):
        if rng.random() < 0.1:
            actions.append(("cancel",))
            continue
        side = rng.choice(["buy", "sell"])
        crossing = rng.random() < 0.5
        offset = rng.randint(1, 40)
        price = MID + offset if (side == "buy") == crossing else MID - offset
        actions.append((side, price, rng.randint(1, 200)))
    return actions


def _client(args: tuple[int, int, int, float, str]) -> list[tuple[int | None, float]]:
    """One client process: places its share of the mix; returns (order id, accept time) pairs, and
    (None, time) for each cancel it made."""
    worker, count, seed, rate, mode = args
    django_ready(migrate=False)
    from django.db import connection

    from accounts.models import User
    from trading.errors import OrderNotOpen
    from trading.services import order_cancel, order_place

    trader = User.objects.get(username=f"bench-trader-{worker}")
    naive = mode == "naive"
    if naive:
        from naive_matching import naive_place

    placed, resting = [], []
    interval = 1.0 / rate if rate else 0.0
    start = time.perf_counter()
    for index, action in enumerate(mix(count, seed)):
        if interval:
            delay = start + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        if action[0] == "cancel":
            if resting and not naive:
                try:
                    order_cancel(user=trader, order_id=resting.pop(random.Random(index).randrange(len(resting))))
                except OrderNotOpen:
                    pass
                placed.append((None, time.time()))
            continue
        side, price, quantity = action
        client_id = f"{mode}-{RUN}-{seed}-{index}"
        if naive:
            order_id = naive_place(trader, side, price, quantity, client_id)
        else:
            order, _ = order_place(user=trader, instrument="CEA21", side=side, price=f"{price / 100:.2f}",
                                   quantity=quantity, client_order_id=client_id)
            order_id = order.pk
        placed.append((order_id, time.time()))
        resting.append(order_id)
    connection.close()
    return placed


def run_clients(processes: int, per_client: int, *, rate_per_client: float = 0.0, mode: str = "service",
                seed: int = 0) -> tuple[list[tuple[int, float]], int, float]:
    """(the orders placed as (id, accept time), the cancels made, seconds)."""
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_client, [(w, per_client, seed * 100 + w, rate_per_client, mode) for w in range(processes)])
    actions = [item for result in results for item in result]
    placed = [(order_id, at) for order_id, at in actions if order_id is not None]
    return placed, len(actions) - len(placed), time.perf_counter() - started


def fresh_book() -> None:
    """Cancels every live CEA21 order through the service and lets the matcher apply it, so each
    measurement starts from an empty book; then settles what traded, and vacuums (bench_fixtures)."""
    from bench_fixtures import vacuum

    from trading.matcher import Matcher
    from trading.models import Instrument, Order
    from trading.services import order_cancel
    from trading.settlement import trades_settle_all

    instrument = Instrument.objects.get(symbol="CEA21")
    matcher = Matcher(instrument.pk)
    while matcher.run_batch():
        pass
    for order in Order.objects.filter(instrument=instrument, status__in=Order.LIVE, cancel_requested=False).select_related("placed_by"):
        order_cancel(user=order.placed_by, order_id=order.pk)
    while matcher.run_batch():
        pass
    trades_settle_all(deadline_seconds=600)
    vacuum()


def latency_run(rate: float, seconds: float, clients: int) -> dict[str, object]:
    from django.db import connection

    from trading.models import Order

    fresh_book()
    connection.close()
    matcher_process = subprocess.Popen([sys.executable, str(HERE.parent / "manage.py"), "run_matcher", "--poll", os.environ.get("MATCHER_POLL", "0.2")],
                                       stdout=subprocess.DEVNULL, env={**os.environ})
    try:
        time.sleep(2)
        per_client = int(rate * seconds / clients)
        placed, cancels, elapsed = run_clients(clients, per_client, rate_per_client=rate / clients, seed=int(rate))
        ids = [order_id for order_id, _ in placed]
        deadline = time.time() + 60
        while Order.objects.filter(pk__in=ids, status=Order.Status.ACCEPTED).exists() and time.time() < deadline:
            time.sleep(0.2)
    finally:
        matcher_process.terminate()
        matcher_process.wait(10)
    orders = {pk: (sequence, matched_at) for pk, sequence, matched_at in Order.objects.filter(pk__in=ids).values_list("pk", "sequence", "matched_at")}
    accept_times = sorted(accepted_at for _, accepted_at in placed)
    # The first second is warm-up (client processes connecting, the matcher's first batches).
    steady = [(order_id, accepted_at) for order_id, accepted_at in placed if accepted_at >= accept_times[0] + 1.0]
    span = accept_times[-1] - accept_times[0]
    result = {
        "offered_per_second": rate,  # orders and cancels (one action in ten is a cancel)
        "achieved_per_second": round((len(placed) + cancels) / span),
        "orders_per_second": round(len(placed) / span),
        "accept_to_matched_ms": spread([(orders[pk][1].timestamp() - accepted_at) * 1000 for pk, accepted_at in steady]),
    }
    committed = batch_commit_times(min(sequence for sequence, _ in orders.values()))
    if committed:
        result["accept_to_committed_ms"] = spread([(committed(orders[pk][0]) - accepted_at) * 1000 for pk, accepted_at in steady])
    return result


def spread(latencies: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(latencies), 1), "p99": round(percentile(latencies, 0.99), 1), "max": round(max(latencies), 1)}


def batch_commit_times(first_sequence: int) -> Callable[[int], float] | None:
    """sequence -> when the matcher batch that applied it committed (epoch seconds), read from the
    commit timestamp of the batch's audit event; None unless PostgreSQL has track_commit_timestamp on
    (a server setting, off by default)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW track_commit_timestamp")
        if cursor.fetchone()[0] != "on":
            return None
        cursor.execute(
            "SELECT (after->>'to')::bigint, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8 FROM core_auditevent "
            "WHERE action = 'matcher.batch' AND (after->>'to')::bigint >= %s ORDER BY 2",
            [first_sequence],
        )
        batches = sorted(cursor.fetchall())  # (last sequence of the batch, commit time) by sequence
    ends = [end for end, _ in batches]
    return lambda sequence: batches[bisect.bisect_left(ends, sequence)][1]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=4000, help="orders in the throughput runs")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rates", default="100,250,500", help="orders/s offered in the latency runs (comma-separated)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    options = parser.parse_args()

    django_ready()
    from bench_fixtures import participants
    from django.db import connection

    from trading.matcher import Matcher
    from trading.models import Instrument

    participants(options.clients)
    connection.close()
    instrument = Instrument.objects.get(symbol="CEA21")
    result: dict[str, object] = {"benchmark": "orderflow", "clients": options.clients, "database": connection.vendor}
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        result["synchronous_commit"] = cursor.fetchone()[0]

    # 1 and 2: accept everything with no matcher running, then let the matcher drain it.
    fresh_book()
    connection.close()
    placed, _, seconds = run_clients(options.clients, options.orders // options.clients, seed=1)
    result["accepted"] = len(placed)
    result["accepted_per_second"] = round(len(placed) / seconds)
    instrument.refresh_from_db()
    result["pending_before_drain"] = instrument.last_sequence - instrument.matching_position.matched_sequence
    matcher = Matcher(instrument.pk)
    started = time.perf_counter()
    events = 0
    while applied := matcher.run_batch():
        events += applied
    drain = time.perf_counter() - started
    result["matched_per_second"] = round(len(placed) / drain)
    result["events_per_second"] = round(events / drain)
    from trading.models import Trade
    from trading.settlement import trades_settle_all

    unsettled = Trade.objects.filter(settled_at__isnull=True).count()
    started = time.perf_counter()
    trades_settle_all(deadline_seconds=600)
    result["trades_settled_per_second"] = round(unsettled / (time.perf_counter() - started)) if unsettled else None

    # 3: fixed offered rates with the matcher process running.
    result["latency"] = [latency_run(rate, options.seconds, options.clients) for rate in map(float, options.rates.split(","))]

    # Baseline: each order matched in its own locked transaction.
    fresh_book()
    connection.close()
    placed, _, seconds = run_clients(options.clients, options.orders // options.clients, mode="naive", seed=3)
    result["baseline_locked_per_second"] = round(len(placed) / seconds)
    end_to_end = len(placed) / seconds
    result["speedup_matched_vs_baseline"] = round(result["matched_per_second"] / end_to_end, 1)  # type: ignore[operator]
    fresh_book()
    from config.celery import app

    app.control.purge()  # the settlement tasks queued during the run: their trades are settled already
    print(json.dumps(result))


if __name__ == "__main__":
    main()
