"""The matching rules of the continuous double auction, as a pure module: no database, no clock.

Price-time priority: the best price first, and at one price the earliest sequence first. A trade
executes at the resting (maker) order's price. Self-trade prevention is expire-taker: when the next
resting order to trade with belongs to the incoming order's own organization, the incoming order's
remainder is cancelled and nothing more trades. Prices are integers (fen), quantities integers (tonnes).

The book is a deterministic function of the sequence of `submit` and `cancel` calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from sortedcontainers import SortedDict

BUY = "buy"
SELL = "sell"


@dataclass
class RestingOrder:
    order_id: int
    sequence: int
    side: str
    price: int
    remaining: int
    owner: int  # the organization: orders of one owner never trade with each other


@dataclass(frozen=True)
class Fill:
    taker_order_id: int
    maker_order_id: int
    taker_side: str
    price: int
    quantity: int
    maker_remaining: int  # what the maker has left after this fill


@dataclass
class SubmitResult:
    fills: list[Fill] = field(default_factory=list)
    remaining: int = 0  # the incoming order's quantity left after matching
    rests: bool = False  # the remainder now rests in the book
    self_trade_cancelled: int = 0  # remainder cancelled by self-trade prevention


class OrderBook:
    def __init__(self) -> None:
        # Keyed so that the first key is the best price: bids by -price, asks by price.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._orders: dict[int, RestingOrder] = {}

    def __contains__(self, order_id: int) -> bool:
        return order_id in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    def _side(self, side: str) -> SortedDict:
        return self._bids if side == BUY else self._asks

    @staticmethod
    def _key(side: str, price: int) -> int:
        return -price if side == BUY else price

    def best(self, side: str) -> int | None:
        levels = self._side(side)
        if not levels:
            return None
        key = levels.keys()[0]
        return -key if side == BUY else key

    def submit(self, order: RestingOrder) -> SubmitResult:
        """Matches an incoming order against the book and rests what is left (unless self-trade
        prevention cancelled it). `order.remaining` is its full quantity on entry."""
        if order.order_id in self._orders:
            raise ValueError(f"order {order.order_id} is already in the book")
        result = SubmitResult()
        opposite = self._asks if order.side == BUY else self._bids
        remaining = order.remaining
        while remaining and opposite:
            key = opposite.keys()[0]
            level_price = key if order.side == BUY else -key
            crosses = level_price <= order.price if order.side == BUY else level_price >= order.price
            if not crosses:
                break
            level: deque[RestingOrder] = opposite[key]
            maker = level[0]
            if maker.owner == order.owner:
                result.self_trade_cancelled = remaining
                remaining = 0
                break
            quantity = min(remaining, maker.remaining)
            maker.remaining -= quantity
            remaining -= quantity
            result.fills.append(
                Fill(order.order_id, maker.order_id, order.side, level_price, quantity, maker.remaining)
            )
            if maker.remaining == 0:
                level.popleft()
                del self._orders[maker.order_id]
                if not level:
                    del opposite[key]
        result.remaining = remaining
        if remaining:
            order.remaining = remaining
            self._rest(order)
            result.rests = True
        return result

    def _rest(self, order: RestingOrder) -> None:
        levels = self._side(order.side)
        key = self._key(order.side, order.price)
        if key not in levels:
            levels[key] = deque()
        levels[key].append(order)
        self._orders[order.order_id] = order

    def restore(self, order: RestingOrder) -> None:
        """Puts back a resting order when the book is rebuilt from storage (in sequence order)."""
        self._rest(order)

    def cancel(self, order_id: int) -> RestingOrder | None:
        """Takes a resting order out; None if it is not in the book (already filled or cancelled)."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        levels = self._side(order.side)
        key = self._key(order.side, order.price)
        level = levels[key]
        level.remove(order)
        if not level:
            del levels[key]
        return order

    def resting(self) -> Iterator[RestingOrder]:
        return iter(self._orders.values())

    def depth(self, side: str, levels: int) -> list[tuple[int, int, int]]:
        """[(price, total quantity, number of orders)], best first."""
        out = []
        for key, level in self._side(side).items()[:levels]:
            out.append((-key if side == BUY else key, sum(o.remaining for o in level), len(level)))
        return out
