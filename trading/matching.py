"""The matching rules of the continuous double auction, as a pure module: no database, no clock.

Price-time priority: the best price first, and at one price the earliest sequence first. A trade
executes at the resting (maker) order's price. Self-trade prevention is expire-taker: when the next
resting order to trade with belongs to the incoming order's own owner (its organization, or its
related-party group: surveillance.groups), the incoming order's remainder is cancelled and nothing more trades. Prices are integers (fen), quantities integers (tonnes).

The book is a deterministic function of the sequence of `submit` and `cancel` calls.

How the book is kept, for speed (`bench/matching_bench.py` measures it against lightmatchingengine):
each side is a dict of price levels plus a plain sorted list of their keys, the best last; each
level is a deque of its orders in time order, with its live count and total quantity kept up to
date. A cancel does not search the deque: it leaves the order there, counted in the level's
`cancelled`, and matching drops it when it reaches the front (lazy deletion). So submit, cancel and
best are O(1), apart from creating or emptying a level, which is O(levels on that side).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

BUY = "buy"
SELL = "sell"

# A level's deque is rebuilt without its cancelled orders once they outnumber the live ones by more
# than this: it bounds the memory of a level where orders come and go but that never trades empty.
COMPACT_SLACK = 16


@dataclass(slots=True)
class RestingOrder:
    order_id: int
    sequence: int
    side: str
    price: int
    remaining: int
    owner: int  # the organization, or its group (surveillance.groups): orders of one owner never trade together


# Not frozen: a frozen dataclass sets each field in __init__ through object.__setattr__, which made
# creating the fills about a tenth of bench/matching_bench.py's time. Nothing writes to a fill.
@dataclass(slots=True)
class Fill:
    taker_order_id: int
    maker_order_id: int
    taker_side: str
    price: int
    quantity: int
    maker_remaining: int  # what the maker has left after this fill


@dataclass(slots=True)
class SubmitResult:
    fills: list[Fill] = field(default_factory=list)
    remaining: int = 0  # the incoming order's quantity left after matching
    rests: bool = False  # the remainder now rests in the book
    self_trade_cancelled: int = 0  # remainder cancelled by self-trade prevention


class _Level:
    """The orders at one price. `queue` holds them in time order, and also the cancelled ones not
    dropped yet; `cancelled` counts those per order id (a count, not a set: an order object that
    was cancelled can be submitted again, and then the queue holds it twice, the stale entry first).
    `count` and `quantity` are the live orders' number and total, so depth reads them directly."""

    __slots__ = ("queue", "cancelled", "count", "quantity")

    def __init__(self) -> None:
        self.queue: deque[RestingOrder] = deque()
        self.cancelled: dict[int, int] = {}
        self.count = 0
        self.quantity = 0

    def drop(self, order: RestingOrder) -> None:
        """Takes a live order out (the level keeps at least one other live order)."""
        self.count -= 1
        self.quantity -= order.remaining
        queue = self.queue
        if queue[-1] is order:  # the newest entry of this object is its live one
            queue.pop()
            return
        cancelled = self.cancelled
        cancelled[order.order_id] = cancelled.get(order.order_id, 0) + 1
        if len(queue) > 2 * self.count + COMPACT_SLACK:
            self.compact()

    def compact(self) -> None:
        """Rebuilds the queue without the cancelled entries (each id's stale entries come first)."""
        cancelled = self.cancelled
        live: deque[RestingOrder] = deque()
        for order in self.queue:
            stale = cancelled.get(order.order_id)
            if stale is None:
                live.append(order)
            elif stale == 1:
                del cancelled[order.order_id]
            else:
                cancelled[order.order_id] = stale - 1
        self.queue = live


class _Side:
    """One side of the book. Levels are keyed by `sign * price`, so that on both sides the best
    level has the largest key; `keys` is sorted ascending, the best last, where list.pop is O(1).

    A plain sorted list rather than a tree (sortedcontainers): a side has at most as many levels as
    there are ticks in the instrument's price band (+-10 % of 54.22 is about 1,100 ticks of 1 fen),
    inserting or removing a key is a memmove of at most that many pointers, and most of it happens
    next to the best price, at the end of the list."""

    __slots__ = ("sign", "levels", "keys")

    def __init__(self, sign: int) -> None:
        self.sign = sign  # 1 for bids, -1 for asks
        self.levels: dict[int, _Level] = {}
        self.keys: list[int] = []

    def add(self, order: RestingOrder) -> None:
        key = self.sign * order.price
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = _Level()
            insort(self.keys, key)
        level.queue.append(order)
        level.count += 1
        level.quantity += order.remaining


class OrderBook:
    def __init__(self) -> None:
        self._bids = _Side(1)
        self._asks = _Side(-1)
        self._orders: dict[int, RestingOrder] = {}  # the live resting orders, in the order they rested

    def __contains__(self, order_id: int) -> bool:
        return order_id in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    def _side(self, side: str) -> _Side:
        return self._bids if side == BUY else self._asks

    def best(self, side: str) -> int | None:
        book_side = self._side(side)
        keys = book_side.keys
        return book_side.sign * keys[-1] if keys else None

    def submit(self, order: RestingOrder) -> SubmitResult:
        """Matches an incoming order against the book and rests what is left (unless self-trade
        prevention cancelled it). `order.remaining` is its full quantity on entry."""
        orders = self._orders
        order_id = order.order_id
        if order_id in orders:
            raise ValueError(f"order {order_id} is already in the book")
        taker_side = order.side
        if taker_side == BUY:
            own, opposite = self._bids, self._asks
        else:
            own, opposite = self._asks, self._bids
        remaining = order.remaining
        fills: list[Fill] = []
        self_trade_cancelled = 0
        keys = opposite.keys
        limit = opposite.sign * order.price  # the smallest key this order trades with
        if remaining and keys and keys[-1] >= limit:
            # The hot loop: what it reads for every maker is bound to locals first, the cheapest
            # lookup in CPython (attribute and global lookups there add up).
            sign, levels, owner, append = opposite.sign, opposite.levels, order.owner, fills.append
            while keys and keys[-1] >= limit:
                key = keys[-1]
                level = levels[key]
                queue, cancelled = level.queue, level.cancelled
                price = sign * key
                while True:  # the level has a live order: it is removed when its count reaches 0
                    maker = queue[0]
                    if cancelled and maker.order_id in cancelled:  # cancelled earlier: drop it now
                        queue.popleft()
                        stale = cancelled.pop(maker.order_id)
                        if stale > 1:
                            cancelled[maker.order_id] = stale - 1
                        continue
                    if maker.owner == owner:
                        self_trade_cancelled, remaining = remaining, 0
                        break
                    quantity = maker.remaining
                    if quantity > remaining:  # the maker keeps the rest, and its place
                        maker.remaining = quantity - remaining
                        append(Fill(order_id, maker.order_id, taker_side, price, remaining, maker.remaining))
                        level.quantity -= remaining
                        remaining = 0
                        break
                    maker.remaining = 0
                    append(Fill(order_id, maker.order_id, taker_side, price, quantity, 0))
                    queue.popleft()
                    del orders[maker.order_id]
                    remaining -= quantity
                    level.count -= 1
                    level.quantity -= quantity
                    if not level.count:
                        del levels[key]
                        keys.pop()
                        break
                    if not remaining:
                        break
                if not remaining:
                    break
        if remaining:
            order.remaining = remaining
            # _Side.add, inlined: the method call cost about a tenth of the benchmark's time.
            key = own.sign * order.price
            level = own.levels.get(key)
            if level is None:
                level = own.levels[key] = _Level()
                insort(own.keys, key)
            level.queue.append(order)
            level.count += 1
            level.quantity += remaining
            orders[order_id] = order
            return SubmitResult(fills, remaining, True, self_trade_cancelled)
        return SubmitResult(fills, 0, False, self_trade_cancelled)

    def restore(self, order: RestingOrder) -> None:
        """Puts back a resting order when the book is rebuilt from storage (in sequence order)."""
        self._side(order.side).add(order)
        self._orders[order.order_id] = order

    def cancel(self, order_id: int) -> RestingOrder | None:
        """Takes a resting order out; None if it is not in the book (already filled or cancelled)."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        side = self._bids if order.side == BUY else self._asks
        key = side.sign * order.price
        level = side.levels[key]
        if level.count == 1:  # its last live order: the level goes, with any cancelled entries
            del side.levels[key]
            del side.keys[bisect_left(side.keys, key)]
        else:
            level.drop(order)
        return order

    def resting(self) -> Iterator[RestingOrder]:
        return iter(self._orders.values())

    def depth(self, side: str, levels: int) -> list[tuple[int, int, int]]:
        """[(price, total quantity, number of orders)], best first."""
        book_side = self._side(side)
        sign, by_key = book_side.sign, book_side.levels
        return [(sign * key, by_key[key].quantity, by_key[key].count) for key in book_side.keys[::-1][:levels]]
