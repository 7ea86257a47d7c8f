"""The matcher: applies an instrument's sequenced events (new orders, cancels, end-of-day expiry)
to the in-memory book of trading.matching, strictly in sequence order, and commits each batch
(orders, trades, reservation releases and its position in the sequence) in one transaction.

One matcher per instrument at a time: a PostgreSQL advisory lock (and a thread lock in-process).
The commit is fenced on the instrument's MatchingPosition, so a matcher that lost its place can
never double-apply; after any failure the book is rebuilt from the database and the batch retried.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from core.audit import audit_event
from core.db import (
    Prepared,
    instance_from_row,
    row_insert_statement,
    rows_insert,
    rows_update_statements,
    statements_execute,
)
from core.locks import MATCHER, LockKey, session_lock
from registry.models import Bucket, Transfer
from registry.services import Movement, ledger_post
from surveillance.groups import owner_of
from trading import market_data
from trading.clock import trading_day
from trading.fees import buy_reservation, fee_for
from trading.matching import OrderBook, RestingOrder, SubmitResult
from trading.models import Instrument, MarketEvent, MatchingPosition, Order, Side, Trade
from trading.participants import cash_asset, participant_accounts_cached
from trading.settlement import settlement_queue

logger = logging.getLogger(__name__)


class StaleMatcher(Exception):
    """Another matcher committed past this one's position: rebuild and carry on."""


@dataclass
class _Batch:
    orders: dict[int, Order] = field(default_factory=dict)  # changed orders by id
    trades: list[Trade] = field(default_factory=list)
    releases: list[tuple[Order, int]] = field(default_factory=list)  # (order, amount to release)


class Matcher:
    def __init__(self, instrument_id: int) -> None:
        self.instrument_id = instrument_id
        self.book: OrderBook | None = None
        self.position = 0
        self.resting: dict[int, Order] = {}
        # A test hook: called inside the batch transaction, after the in-memory matching and before
        # the writes, to simulate a crash at the worst moment.
        self.before_commit = None
        # Seconds between settlement tasks: 0 queues one per batch; run_matcher sets
        # SETTLEMENT_QUEUE_SECONDS, since under load a task per batch costs more than the batch.
        self.settlement_interval = 0.0
        self._unqueued_trades: list[int] = []
        self._queued_at = 0.0
        self.instrument: Instrument | None = None
        # What the book snapshot carries besides the book (trading.market_data).
        self.tape: deque[str] = deque(maxlen=market_data.TAPE_LENGTH)
        self.trade_count = 0
        self.last_price: int | None = None

    def rebuild(self) -> None:
        """The book as the database says it is at the last committed position."""
        self.instrument = Instrument.objects.select_related("asset").get(pk=self.instrument_id)
        position, token = MatchingPosition.objects.filter(instrument_id=self.instrument_id).values_list(
            "matched_sequence", "batch_token").get()
        trades = Trade.objects.filter(instrument_id=self.instrument_id, kind=Trade.Kind.LISTED)  # (block trades: apart)
        self.trade_count = trades.count()
        last = list(trades.order_by("-id")[: market_data.TAPE_LENGTH])
        self.tape = deque((market_data.tape_entry(trade) for trade in last), maxlen=market_data.TAPE_LENGTH)
        self.last_price = last[0].price if last else None
        book = OrderBook()
        resting = {}
        orders = Order.objects.filter(
            instrument_id=self.instrument_id, status__in=Order.RESTING, sequence__lte=position
        ).order_by("sequence")
        for order in orders:
            book.restore(RestingOrder(order.pk, order.sequence, order.side, order.price, order.remaining, owner_of(order.organization_id)))
            resting[order.pk] = order
        self.book, self.resting, self.position = book, resting, position
        if token:  # (a restarted matcher republishes what a lost Redis forgot)
            market_data.snapshot_publish(self.instrument.symbol, self._snapshot(token))

    def _pending_events(self, limit: int) -> list[MarketEvent]:
        """Up to `limit` events past this matcher's position, each with its order (new orders and
        cancels) and the committed position (`committed`). In the same query, the events past the
        committed position if that is lower: a batch this matcher committed was rolled back since (a
        test's transaction, a restore). Plain, prepared SQL: it runs before every batch."""
        with connection.cursor() as cursor:
            statements_execute(cursor, [(_pending_events_sql(), [self.instrument_id, self.instrument_id, self.position, self.instrument_id, limit])])
            rows = cursor.fetchall()
        events = []
        width = len(MarketEvent._meta.concrete_fields)
        for row in rows:
            event = instance_from_row(MarketEvent, row[:width])
            event.committed = row[width]
            if row[width + 1] is not None:
                event.order = instance_from_row(Order, row[width + 1 :])
            events.append(event)
        return events

    def run_batch(self, limit: int | None = None) -> int:
        """Applies up to `limit` pending events; returns how many."""
        limit = limit or settings.MATCHER_BATCH_SIZE
        if self.book is None:
            self.rebuild()
        events = self._pending_events(limit)
        if events and events[0].committed != self.position:  # another matcher moved on, or this one's commits were undone
            self.rebuild()
            events = self._pending_events(limit)
        # Sequence numbers commit in order and without gaps; stop at a gap rather than skip one.
        contiguous = []
        for expected, event in enumerate(events, start=self.position + 1):
            if event.sequence != expected:
                logger.error("gap in %s's sequence at %s", self.instrument_id, expected)
                break
            contiguous.append(event)
        if not contiguous:
            return 0
        try:
            with transaction.atomic():
                batch = _Batch()
                for event in contiguous:
                    self._apply(event, batch)
                if self.before_commit:
                    self.before_commit()
                self._write(batch, contiguous[-1].sequence)
        except BaseException:
            self.book = None  # the in-memory book is ahead of the database: rebuild next time
            raise
        self.position = contiguous[-1].sequence
        for order in batch.orders.values():
            if order.status in Order.RESTING:
                self.resting[order.pk] = order
            else:
                self.resting.pop(order.pk, None)
        return len(contiguous)

    # --- applying events in memory ---

    def _apply(self, event: MarketEvent, batch: _Batch) -> None:
        assert self.book is not None
        if event.kind == MarketEvent.Kind.ORDER:
            self._apply_order(event.order, batch)
        elif event.kind == MarketEvent.Kind.CANCEL:
            if self.book.cancel(event.order_id) is not None:
                self._close(self._order(event.order_id, batch), Order.Status.CANCELLED, batch)
        elif event.kind == MarketEvent.Kind.EXPIRE:
            for resting in list(self.book.resting()):
                order = self._order(resting.order_id, batch)
                if order.trading_day <= event.trading_day:
                    self.book.cancel(order.pk)
                    self._close(order, Order.Status.EXPIRED, batch)

    def _order(self, order_id: int, batch: _Batch) -> Order:
        """The newest in-memory copy of a resting order: this batch's, else the committed one."""
        return batch.orders.get(order_id) or self.resting[order_id]

    def _apply_order(self, order: Order, batch: _Batch) -> None:
        assert self.book is not None
        if order.status != Order.Status.ACCEPTED:
            return  # already applied (cannot happen past the fence; kept as a guard)
        result: SubmitResult = self.book.submit(
            RestingOrder(order.pk, order.sequence, order.side, order.price, order.quantity, owner_of(order.organization_id))
        )
        batch.orders[order.pk] = order
        now = timezone.now()
        order.matched_at = now
        day = trading_day()
        for fill in result.fills:
            maker = self._order(fill.maker_order_id, batch)
            batch.orders[maker.pk] = maker
            buy, sell = (order, maker) if order.side == Side.BUY else (maker, order)
            value = fill.price * fill.quantity
            batch.trades.append(Trade(
                instrument_id=self.instrument_id, buy_order=buy, sell_order=sell, buyer_id=buy.organization_id,
                seller_id=sell.organization_id, price=fill.price, quantity=fill.quantity, aggressor_side=order.side,
                buyer_fee=fee_for(value, buy.fee_rate), seller_fee=fee_for(value, sell.fee_rate),
                sequence=order.sequence, trading_day=day, executed_at=now,
            ))
            for side_order in (buy, sell):
                side_order.filled_quantity += fill.quantity
            # The buyer keeps reserved exactly what the unfilled rest needs at its limit; what the fill
            # did not use (a better price, a smaller fee) goes back to available now.
            keep = buy_reservation(buy.price, buy.remaining, buy.fee_rate)
            consumed = value + fee_for(value, buy.fee_rate)
            refund = buy.reserved - consumed - keep
            if refund < 0:
                raise AssertionError(f"order {buy.pk} reservation short by {-refund}")
            buy.reserved = keep
            if refund:
                batch.releases.append((buy, refund))
            sell.reserved -= fill.quantity
            maker.status = Order.Status.FILLED if maker.remaining == 0 else Order.Status.PARTIALLY_FILLED
        if result.self_trade_cancelled:
            self._close(order, Order.Status.CANCELLED, batch)
        elif order.remaining == 0:
            order.status = Order.Status.FILLED
        else:
            order.status = Order.Status.PARTIALLY_FILLED if order.filled_quantity else Order.Status.OPEN

    def _close(self, order: Order, status: str, batch: _Batch) -> None:
        """Cancelled or expired: whatever is still reserved for it goes back to available."""
        order.status = status
        if order.reserved:
            batch.releases.append((order, order.reserved))
            order.reserved = 0
        batch.orders[order.pk] = order

    # --- writing the batch ---

    def _write(self, batch: _Batch, new_position: int) -> None:
        # The position fence first: its row is locked by matchers only, so a rival matcher waits here
        # (or finds it moved and gives up) before touching anything else. Then the orders, the audit
        # event, the trades, and last the balance rows that order entry locks too, so that they are
        # held only for the ledger write and the commit. On PostgreSQL one round trip for the fence,
        # orders and audit event, one for the trades, two for the releases (lock, write).
        now = timezone.now()
        orders = list(batch.orders.values())
        for order in orders:
            order.updated_at = now
        audit = audit_event(
            actor=None, action="matcher.batch", object_type="trading.instrument", object_id=self.instrument_id,
            after={"from": self.position + 1, "to": new_position, "trades": len(batch.trades)},
        )
        token = secrets.randbits(63) or 1
        with connection.cursor() as cursor:
            statements_execute(cursor, [
                *rows_update_statements(orders, ["filled_quantity", "status", "reserved", "matched_at", "updated_at"]),
                row_insert_statement(audit, returning=False),
                (_FENCE, {"instrument": self.instrument_id, "from": self.position, "to": new_position, "token": token}),
            ])
            if cursor.rowcount != 1:
                raise StaleMatcher(f"instrument {self.instrument_id} moved past {self.position}")
        rows_insert(batch.trades)
        if batch.releases:
            ledger_post(self._release_movements(batch.releases), savepoint=False)
        if batch.trades:
            self.tape.extendleft(market_data.tape_entry(trade) for trade in batch.trades)
            self.trade_count += len(batch.trades)
            self.last_price = batch.trades[-1].price
        # The snapshot of the book as this batch leaves it, stored once the batch commits, in the same
        # Redis round trip as (and before) the announcements that send the browsers to read it.
        snapshot, symbol = self._snapshot(token), self.instrument.symbol
        topics = [f"market:{symbol}", *(f"org:{o}" for o in sorted({order.organization_id for order in orders}))]
        transaction.on_commit(lambda: market_data.snapshot_publish(symbol, snapshot, announce=topics))
        trade_ids = [trade.pk for trade in batch.trades]
        if trade_ids:
            transaction.on_commit(lambda: self._trades_committed(trade_ids))

    def _snapshot(self, token: int) -> str:
        assert self.book is not None
        depth = market_data.SNAPSHOT_DEPTH
        return market_data.snapshot_body(token=token, bids=self.book.depth(Side.BUY, depth), asks=self.book.depth(Side.SELL, depth),
                                         tape=self.tape, trade_count=self.trade_count, last_price=self.last_price)

    def _trades_committed(self, trade_ids: list[int]) -> None:
        self._unqueued_trades += trade_ids
        self.settlement_queue()

    def settlement_queue(self, *, now: bool = False) -> bool:
        """Queues the settlement of the committed trades not queued yet, if `settlement_interval` has
        passed since the last task (or `now`). True if some are left for later."""
        if self._unqueued_trades and (now or time.monotonic() - self._queued_at >= self.settlement_interval):
            trade_ids, self._unqueued_trades = self._unqueued_trades, []
            self._queued_at = time.monotonic()
            settlement_queue(trade_ids)
        return bool(self._unqueued_trades)

    def _release_movements(self, releases: list[tuple[Order, int]]) -> list[Movement]:
        accounts = participant_accounts_cached({order.organization_id for order, _ in releases})
        asset, cny = self.instrument.asset, cash_asset()
        movements = []
        for order, amount in releases:
            holding, cash = accounts[order.organization_id]
            account, released = (cash, cny) if order.side == Side.BUY else (holding, asset)
            movements.append(Movement(
                kind=Transfer.Kind.RELEASE, asset=released, amount=amount, source=account, source_bucket=Bucket.RESERVED,
                destination=account, destination_bucket=Bucket.AVAILABLE, reference=f"order:{order.pk}",
            ))
        return movements


@cache
def _pending_events_sql() -> Prepared:
    quote = connection.ops.quote_name
    columns = [f"e.{quote(field.column)}" for field in MarketEvent._meta.concrete_fields]
    columns.append(_COMMITTED)
    columns += [f"o.{quote(field.column)}" for field in Order._meta.concrete_fields]
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"  # (SQLite's two-argument MIN)
    return Prepared(
        f"SELECT {', '.join(columns)} FROM trading_marketevent e LEFT JOIN trading_order o ON o.id = e.order_id "
        f"WHERE e.instrument_id = %s AND e.sequence > {least}(%s, {_COMMITTED}) ORDER BY e.sequence LIMIT %s"
    )


# The instrument's committed position (a scalar subquery: evaluated once per query).
_COMMITTED = "(SELECT matched_sequence FROM trading_matchingposition WHERE instrument_id = %s)"


# The batch's fence: the position moves only from where this matcher found it, and never past the
# last sequence number handed out.
_FENCE = """
UPDATE trading_matchingposition SET matched_sequence = %(to)s, batch_token = %(token)s
WHERE instrument_id = %(instrument)s AND matched_sequence = %(from)s
  AND %(to)s <= (SELECT last_sequence FROM trading_instrument WHERE id = %(instrument)s)
"""


# --- who runs the matcher ---

_matchers: dict[int, Matcher] = {}
_thread_locks: dict[int, threading.Lock] = {}
_registry_lock = threading.Lock()
ADVISORY_NAMESPACE = MATCHER  # the first key of pg advisory locks held by matchers


@contextmanager
def matcher_lock(instrument_id: int, *, wait: bool) -> Iterator[bool]:
    """Holds the right to match `instrument_id` (yields False if another matcher has it)."""
    with _registry_lock:
        thread_lock = _thread_locks.setdefault(instrument_id, threading.Lock())
    if not thread_lock.acquire(blocking=wait):
        yield False
        return
    try:
        with session_lock(LockKey(ADVISORY_NAMESPACE, instrument_id), wait=wait) as acquired:
            yield acquired
    finally:
        thread_lock.release()


def _with_pending_events() -> models.QuerySet[Instrument]:
    """Instruments with events sequenced but not yet matched."""
    return Instrument.objects.filter(last_sequence__gt=models.F("matching_position__matched_sequence"))


def _pending(instrument_id: int) -> bool:
    return _with_pending_events().filter(pk=instrument_id).exists()


def matcher_for(instrument_id: int) -> Matcher:
    with _registry_lock:
        return _matchers.setdefault(instrument_id, Matcher(instrument_id))


def matching_drain(instrument_id: int) -> int:
    """Matches everything pending on `instrument_id`, unless another matcher is at it. After letting
    go it looks again: an event that committed while we held the lock found it taken and left the
    work to us."""
    total = 0
    try:
        while True:
            with matcher_lock(instrument_id, wait=False) as acquired:
                if not acquired:
                    return total
                matcher = matcher_for(instrument_id)
                while True:
                    try:
                        applied = matcher.run_batch()
                    except StaleMatcher:
                        continue  # rebuilt on the next call
                    if not applied:
                        break
                    total += applied
            if not _pending(instrument_id):
                return total
    except Exception:
        # The events are stored: the matching sweep (or the next order) picks them up. The order
        # that triggered this was accepted and must not see an error.
        logger.exception("matching %s failed; left for the sweep", instrument_id)
        return total


def matching_sweep() -> int:
    """Drains every instrument with pending events (the safety net behind in-process matching)."""
    pending = _with_pending_events().values_list("pk", flat=True)
    return sum(matching_drain(instrument_id) for instrument_id in pending)
