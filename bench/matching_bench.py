"""Pure matching throughput: one seeded stream of orders and cancels through `trading.matching`'s
OrderBook and through lightmatchingengine (a bench-only dependency, requirements-dev.txt), in one
run. No database and no Django settings. Prints JSON.

The stream: orders around a mid of 54.22 (in fen, tick 1 fen), priced within 1 % of it, a share of
them (`--crossing-share`) on the far side of the mid so that they cross; quantities 1 to 200 t; and a
share of cancels (`--cancel-share`), each of a random order resting at that moment. Which orders
rest depends on the matching, so the stream is made once by running it through the module under
test (untimed); each engine then replays it from a fresh book.

Why 13 % crossing by default: a deep book is what makes cancels dear, and the stream the issue
measured ended with 121,000 orders resting (300,000 events, 20 % cancels). With half the orders
crossing the book stays almost empty (10 orders rest at the end): the crossing half takes out about
as much as the other half puts in, and the cancels take the rest. 13 % crossing gives 119,793 resting
at the end; on it the OrderBook that cancelled with `deque.remove` ran at 22,700 events/s, 0.78x
lightmatchingengine (the issue: 19,483 events/s, 0.79x). `--crossing-share 0.5` runs the thin book.

lightmatchingengine has no self-trade prevention, so in the stream compared with it every order has
an owner of its own (self-trade prevention never fires, so both engines must trade alike). The bench
checks that they traded the same volume for the same value, that every cancel found its order in
both, and that both books end with the same depth on both sides. Our book is also timed on a stream in which 8 owners
share the orders, so that self-trade prevention fires too.

The engines run alternately, `--repeat` times each, in this one process; figures are medians of
wall-clock time (and, since the machine is shared, of this process's CPU time as well).

    python bench/matching_bench.py [--events 300000] [--cancel-share 0.2] [--crossing-share 0.13]
                                   [--seed 1] [--repeat 5]
    python bench/matching_bench.py --module /tmp/matching_old.py  # another version of the module
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MID = 54_22  # fen: CEA21's starting reference
BAND = MID // 100  # prices within about 1 % of the mid
OWNERS = 8  # owners in the stream where self-trade prevention fires
TARGET_EVENTS_PER_SECOND = 500_000
TARGET_RATIO = 10.0
INSTRUMENT = "CEA21"  # lightmatchingengine keeps a book per instrument name
LME_BUY, LME_SELL = 1, 2

# An event: (SUBMIT, order id, side, lightmatchingengine's side, price, quantity, owner) or
# (CANCEL, order id). Order ids count the submits from 1, which is how lightmatchingengine numbers
# its orders, so one id means the same order in both.
SUBMIT, CANCEL = 0, 1
Event = tuple


def matching_module(path: str | None) -> ModuleType:
    if path is None:
        from trading import matching

        return matching
    spec = importlib.util.spec_from_file_location("matching_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def stream(matching: ModuleType, *, events: int, cancel_share: float, crossing_share: float, seed: int,
           owners: int) -> tuple[list[Event], dict]:
    """The events, and what making them saw. `owners` 0: every order has an owner of its own."""
    rng = random.Random(seed)
    book = matching.OrderBook()
    # The resting orders' ids, in a list for a random pick in O(1) (a removal moves the last one in).
    resting: list[int] = []
    position: dict[int, int] = {}

    def rested(order_id: int) -> None:
        position[order_id] = len(resting)
        resting.append(order_id)

    def gone(order_id: int) -> None:
        index, last = position.pop(order_id), resting.pop()
        if last != order_id:
            resting[index], position[last] = last, index

    out: list[Event] = []
    submits = with_fills = 0
    for _ in range(events):
        if resting and rng.random() < cancel_share:
            order_id = resting[rng.randrange(len(resting))]
            gone(order_id)
            if book.cancel(order_id) is None:
                raise AssertionError(f"order {order_id} should be resting")
            out.append((CANCEL, order_id))
            continue
        submits += 1
        buy = rng.random() < 0.5
        crossing = rng.random() < crossing_share
        offset = rng.randint(1, BAND)
        price = MID + offset if buy == crossing else MID - offset
        quantity = rng.randint(1, 200)
        owner = rng.randrange(owners) if owners else submits
        side = matching.BUY if buy else matching.SELL
        result = book.submit(matching.RestingOrder(submits, submits, side, price, quantity, owner))
        with_fills += bool(result.fills)
        for fill in result.fills:
            if fill.maker_remaining == 0:
                gone(fill.maker_order_id)
        if result.rests:
            rested(submits)
        out.append((SUBMIT, submits, side, LME_BUY if buy else LME_SELL, price, quantity, owner))
    return out, {"submits": submits, "cancels": events - submits, "submits_with_fills_share": round(with_fills / submits, 3)}


class Timings:
    """Wall-clock and CPU seconds of the runs of one engine."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, engine: Callable[..., dict], *args) -> dict:
        """One timed run. The stream is moved out of the garbage collector's way first (frozen), so
        that each engine pays for collecting its own objects only."""
        gc.collect()
        gc.freeze()
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            outcome = engine(*args)
            self.wall.append(time.perf_counter() - started)
            self.cpu.append(time.process_time() - cpu_started)
        finally:
            gc.unfreeze()
        return outcome

    def per_second(self, events: int) -> dict:
        return {
            "events_per_second": round(events / statistics.median(self.wall)),
            "events_per_cpu_second": round(events / statistics.median(self.cpu)),
            "runs_events_per_second": [round(events / seconds) for seconds in self.wall],
        }


def run_ours(matching: ModuleType, events: list[Event]) -> dict:
    """What the matcher does per event: builds a RestingOrder, submits or cancels, reads the result."""
    book, order = matching.OrderBook(), matching.RestingOrder
    submit, cancel = book.submit, book.cancel
    traded = value = self_trade = cancelled = 0
    for event in events:
        if event[0] == SUBMIT:
            _, order_id, side, _, price, quantity, owner = event
            result = submit(order(order_id, order_id, side, price, quantity, owner))
            for fill in result.fills:
                traded += fill.quantity
                value += fill.price * fill.quantity
            self_trade += result.self_trade_cancelled
        elif cancel(event[1]) is not None:
            cancelled += 1
    return {"book": book, "traded": traded, "value": value, "self_trade_cancelled": self_trade, "cancelled": cancelled}


def run_lme(events: list[Event]) -> dict:
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine

    engine = LightMatchingEngine()
    add, cancel = engine.add_order, engine.cancel_order
    traded = value = cancelled = 0
    error = None
    try:
        for event in events:
            if event[0] == SUBMIT:
                _, _, _, side, price, quantity, _ = event
                order, trades = add(INSTRUMENT, price, quantity, side)
                traded += order.cum_qty
                # A trade for the taker per level and one per maker: each tonne is in it twice.
                for trade in trades:
                    value += trade.trade_price * trade.trade_qty
            elif cancel(event[1], INSTRUMENT) is not None:
                cancelled += 1
    except AssertionError as failed:  # its cancel asserts when the order's price level is gone
        error = f"lightmatchingengine: {failed}"
    return {"engine": engine, "traded": traded, "value": value // 2, "cancelled": cancelled, "error": error}


def lme_depth(engine, side: int) -> list[tuple[int, int, int]]:
    book = engine.order_books[INSTRUMENT]
    levels = book.bids if side == LME_BUY else book.asks
    return [(price, sum(o.leaves_qty for o in levels[price]), len(levels[price]))
            for price in sorted(levels, reverse=side == LME_BUY)]


def differences(matching: ModuleType, ours: dict, lme: dict) -> list[str]:
    """Why the two engines' outcomes differ (nothing if they agree)."""
    problems = [lme["error"]] if lme["error"] else []
    for key in ("traded", "value", "cancelled"):
        if ours[key] != lme[key]:
            problems.append(f"{key}: ours {ours[key]}, lightmatchingengine {lme[key]}")
    for side, lme_side in ((matching.BUY, LME_BUY), (matching.SELL, LME_SELL)):
        if ours["book"].depth(side, sys.maxsize) != lme_depth(lme["engine"], lme_side):
            problems.append(f"the {side} side of the two books differs at the end")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--cancel-share", type=float, default=0.2)
    parser.add_argument("--crossing-share", type=float, default=0.13, help="orders priced across the mid")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each engine; figures are medians")
    parser.add_argument("--module", help="a file to time instead of trading/matching.py (e.g. an older version)")
    options = parser.parse_args()
    try:
        import lightmatchingengine  # noqa: F401
    except ImportError:
        sys.exit("matching_bench needs lightmatchingengine: pip install -r requirements-dev.txt")

    matching = matching_module(options.module)
    shape = {"events": options.events, "cancel_share": options.cancel_share,
             "crossing_share": options.crossing_share, "seed": options.seed}
    events, seen = stream(matching, owners=0, **shape)
    shared_events, _ = stream(matching, owners=OWNERS, **shape)
    load_before = os.getloadavg()[0]

    ours, lme, shared = Timings(), Timings(), Timings()
    problems: list[str] = []
    for _ in range(options.repeat):
        our_outcome = ours.run(run_ours, matching, events)
        lme_outcome = lme.run(run_lme, events)
        problems += [problem for problem in differences(matching, our_outcome, lme_outcome) if problem not in problems]
        resting_at_end, traded, value = len(our_outcome["book"]), our_outcome["traded"], our_outcome["value"]
        del our_outcome, lme_outcome  # before the next run, which should not pay for freeing them
        self_trade_cancelled = shared.run(run_ours, matching, shared_events)["self_trade_cancelled"]

    ours_figures, lme_figures = ours.per_second(len(events)), lme.per_second(len(events))
    ratio = round(statistics.median(lme.wall) / statistics.median(ours.wall), 2)
    result = {
        "benchmark": "matching",
        "module": options.module or "trading/matching.py",
        **shape,
        **seen,
        "resting_at_end": resting_at_end,
        "traded_tonnes": traded,
        "traded_value_fen": value,
        "repeat": options.repeat,
        "ours_events_per_second": ours_figures["events_per_second"],
        "lme_events_per_second": lme_figures["events_per_second"],
        "ratio": ratio,
        "ours_events_per_cpu_second": ours_figures["events_per_cpu_second"],
        "lme_events_per_cpu_second": lme_figures["events_per_cpu_second"],
        "cpu_ratio": round(statistics.median(lme.cpu) / statistics.median(ours.cpu), 2),
        "ours_runs_events_per_second": ours_figures["runs_events_per_second"],
        "lme_runs_events_per_second": lme_figures["runs_events_per_second"],
        "same_outcome": not problems,
        "differences": problems,
        "owners": "one per order in the compared stream: lightmatchingengine has no self-trade prevention",
        f"ours_{OWNERS}_owners_events_per_second": shared.per_second(len(shared_events))["events_per_second"],
        f"ours_{OWNERS}_owners_self_trade_cancelled_tonnes": self_trade_cancelled,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # the machine is shared
        "target_events_per_second_met": ours_figures["events_per_second"] >= TARGET_EVENTS_PER_SECOND,
        "target_ratio_met": ratio >= TARGET_RATIO,
    }
    print(json.dumps(result))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
