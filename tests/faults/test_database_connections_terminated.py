"""The matcher's database connection is terminated (pg_terminate_backend) again and again while it
matches: a batch in flight rolls back whole, run_matcher reconnects, takes its locks back and
carries on, and the outcome is exactly what the pure order book gives for the accepted sequence."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection

from core.models import AuditEvent
from registry.models import Balance
from tests.trading.conftest import fund
from trading import services
from trading.errors import OrderNotOpen
from trading.fees import buy_reservation
from trading.matcher import ADVISORY_NAMESPACE
from trading.matching import OrderBook, RestingOrder
from trading.models import Instrument, MarketEvent, Order, Trade

from .conftest import lock_balance_row, pg_backends, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


MATCHER_PIDS = (
    "SELECT DISTINCT l.pid, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.granted AND a.datname = current_database()"
)


def matcher_backends() -> list[tuple[int, str]]:
    """(pid, state) of the sessions holding a matcher's advisory lock: run_matcher's connection."""
    with connection.cursor() as cursor:
        cursor.execute(MATCHER_PIDS, [ADVISORY_NAMESPACE])
        return cursor.fetchall()


class Terminator:
    """Terminates the matcher's connection whenever it is in a transaction, and at least every 0.5 s."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.in_transaction = self.idle = 0
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        last = time.monotonic()
        try:
            while not self.stopping.is_set():
                for pid, state in matcher_backends():
                    busy = state in ("active", "idle in transaction")
                    if busy or time.monotonic() - last > 0.5:
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                        last = time.monotonic()
                        if busy:
                            self.in_transaction += 1
                        else:
                            self.idle += 1
                time.sleep(0.005)
        finally:
            connection.close()

    def __enter__(self) -> Terminator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(30)


def replay(instrument: Instrument) -> tuple[list[tuple[int, int, int, int]], dict[int, int]]:
    """The trades and fills the pure order book gives for the instrument's sequence of events."""
    book, trades, filled = OrderBook(), [], defaultdict(int)
    for event in MarketEvent.objects.filter(instrument=instrument).select_related("order").order_by("sequence"):
        order = event.order
        if event.kind == MarketEvent.Kind.CANCEL:
            book.cancel(order.pk)
            continue
        result = book.submit(RestingOrder(order.pk, order.sequence, order.side, order.price, order.quantity,
                                          order.organization_id))
        for fill in result.fills:
            buy, sell = (order.pk, fill.maker_order_id) if order.side == "buy" else (fill.maker_order_id, order.pk)
            trades.append((buy, sell, fill.price, fill.quantity))
            filled[order.pk] += fill.quantity
            filled[fill.maker_order_id] += fill.quantity
    return trades, filled


def test_terminated_connections_during_matching_leave_no_partial_state_and_the_matcher_recovers(
    stack, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator, settings
):
    settings.MATCHER_INLINE = False  # orders notify run_matcher, as in production
    for company in (company_a, company_b):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    matcher = stack.matcher(MATCHER_BATCH_SIZE="5")  # small batches: many transactions to cut into
    wait_for(matcher_backends, timeout=60, what="run_matcher to take its locks")
    instrument = Instrument.objects.get(symbol="CEA21")

    def caught_up() -> bool:
        instrument.refresh_from_db()
        return instrument.matching_position.matched_sequence == instrument.last_sequence

    # 1. A cut in the middle of a batch, for certain: the batch applying B's cancel waits for B's
    # holding (held here) to release the sell's reservation, and its connection is terminated there.
    resting, _ = services.order_place(user=trader_b, instrument="CEA21", side="sell", price="59.00", quantity=30,
                                      client_order_id="resting")
    wait_for(caught_up, timeout=30, what="the resting sell to be matched")
    holder = lock_balance_row(Balance.objects.get(account__organization=company_b, account__kind="holding",
                                                  asset__code="CEA21"))
    services.order_cancel(user=trader_b, order_id=resting.pk)
    stuck = wait_for(lambda: [pid for pid, state in matcher_backends() if pid in pg_backends("a.wait_event_type = 'Lock'")],
                     timeout=30, what="the matcher's batch to wait on B's holding")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", stuck)
    holder.rollback()
    holder.close()
    wait_for(caught_up, timeout=30, what="the matcher to reconnect and apply the cancel")
    resting.refresh_from_db()
    assert (resting.status, resting.reserved) == (Order.Status.CANCELLED, 0)
    assert AuditEvent.objects.filter(action="matcher.batch", after__to=instrument.last_sequence).count() == 1

    # 2. Random orders and cancels while the connection is cut whenever it is busy.
    rng = random.Random(7)
    traders = [trader_a, trader_b]
    live: dict[int, list[int]] = {trader_a.pk: [], trader_b.pk: []}

    with Terminator() as terminator:
        # At least 240 orders, and on until the connection has been cut three times (a fast, idle
        # machine places 240 orders within the matcher's first reconnection).
        started = time.monotonic()
        n = -1
        while n < 239 or (terminator.in_transaction + terminator.idle < 3 and time.monotonic() - started < 60):
            n += 1
            trader = rng.choice(traders)
            if n % 10 == 9 and live[trader.pk]:
                try:
                    services.order_cancel(user=trader, order_id=live[trader.pk].pop(rng.randrange(len(live[trader.pk]))))
                except OrderNotOpen:  # it traded in full before the cancel came: refused, nothing sequenced
                    pass
                continue
            side = rng.choice(["buy", "sell"])
            price = f"{rng.randint(5390, 5450) / 100:.2f}"
            order, _ = services.order_place(user=trader, instrument="CEA21", side=side, price=price,
                                            quantity=rng.randint(1, 40), client_order_id=f"t-{n}")
            live[trader.pk].append(order.pk)
            if n % 20 == 0:
                time.sleep(0.05)
        time.sleep(1)
    assert terminator.in_transaction + terminator.idle >= 3, "the test never cut the matcher's connection"

    wait_for(caught_up, timeout=60, what="run_matcher to recover and catch up")
    # 3. Cut again while it waits for notifications (idle, LISTENing), then send more orders.
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({MATCHER_PIDS}) found", [ADVISORY_NAMESPACE])
    for n in range(10):
        services.order_place(user=traders[n % 2], instrument="CEA21", side=["buy", "sell"][n % 2], price="54.20",
                             quantity=5, client_order_id=f"after-{n}")
    wait_for(caught_up, timeout=60, what="run_matcher to recover from a cut while waiting")
    assert matcher.poll() is None, stack.log(matcher)[-3000:]

    expected_trades, expected_filled = replay(instrument)
    actual = list(Trade.objects.filter(instrument=instrument).order_by("pk")
                  .values_list("buy_order_id", "sell_order_id", "price", "quantity"))
    assert actual == expected_trades
    for order in Order.objects.filter(instrument=instrument):
        assert order.filled_quantity == expected_filled[order.pk], order
        if order.status in Order.RESTING:
            held = buy_reservation(order.price, order.remaining, order.fee_rate) if order.side == "buy" else order.remaining
            assert order.reserved == held, order
        else:
            assert order.status != Order.Status.ACCEPTED and order.reserved == 0, order
    # Every event was applied by exactly one committed batch: the batches' ranges tile the sequence.
    ranges = sorted((event.after["from"], event.after["to"])
                    for event in AuditEvent.objects.filter(action="matcher.batch", object_id=str(instrument.pk)))
    covered = [sequence for start, end in ranges for sequence in range(start, end + 1)]
    assert covered == list(range(1, instrument.last_sequence + 1))
    print(f"terminated the matcher's connection {terminator.in_transaction} times mid-transaction, "
          f"{terminator.idle} times idle")
