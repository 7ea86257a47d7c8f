"""The pure order book of trading.matching: price-time priority, trades at the maker's price,
expire-taker self-trade prevention, cancel and depth; and a property test against a reference model.
No database."""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading import matching
from trading.matching import BUY, SELL, Fill, OrderBook, RestingOrder

A, B, C = 1, 2, 3  # owners (organizations)


class Orders:
    """Hands out order ids and sequence numbers in submission order, as the exchange does."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self, side: str, price: int, quantity: int, owner: int) -> RestingOrder:
        self.next += 1
        return RestingOrder(self.next, self.next, side, price, quantity, owner)


@pytest.fixture
def book():
    return OrderBook()


@pytest.fixture
def order():
    return Orders()


def test_it_fills_an_incoming_order_completely_against_an_equal_resting_order(book, order):
    sell = order(SELL, 5400, 100, A)
    assert book.submit(sell).rests
    result = book.submit(order(BUY, 5400, 100, B))
    assert result.fills == [Fill(2, sell.order_id, BUY, 5400, 100, 0)]
    assert (result.remaining, result.rests, result.self_trade_cancelled) == (0, False, 0)
    assert len(book) == 0
    assert book.best(BUY) is None and book.best(SELL) is None


def test_it_rests_the_remainder_of_a_partially_filled_incoming_order(book, order):
    book.submit(order(SELL, 5400, 100, A))
    buy = order(BUY, 5450, 300, B)
    result = book.submit(buy)
    assert [(f.price, f.quantity, f.maker_remaining) for f in result.fills] == [(5400, 100, 0)]
    assert (result.remaining, result.rests) == (200, True)
    assert buy.order_id in book
    assert book.depth(BUY, 5) == [(5450, 200, 1)]
    assert book.depth(SELL, 5) == []


def test_a_partially_filled_maker_keeps_its_place_with_what_is_left(book, order):
    sell = order(SELL, 5400, 300, A)
    book.submit(sell)
    result = book.submit(order(BUY, 5400, 120, B))
    assert result.fills[0].maker_remaining == 180
    assert book.depth(SELL, 5) == [(5400, 180, 1)]
    later = order(SELL, 5400, 50, C)
    book.submit(later)
    fills = book.submit(order(BUY, 5400, 200, B)).fills
    assert [(f.maker_order_id, f.quantity) for f in fills] == [(sell.order_id, 180), (later.order_id, 20)]


def test_it_sweeps_several_price_levels_best_first(book, order):
    asks = [order(SELL, price, 100, A) for price in (5420, 5400, 5410)]
    for ask in asks:
        book.submit(ask)
    result = book.submit(order(BUY, 5420, 250, B))
    assert [(f.price, f.quantity) for f in result.fills] == [(5400, 100), (5410, 100), (5420, 50)]
    assert book.depth(SELL, 5) == [(5420, 50, 1)]
    assert result.remaining == 0 and not result.rests


def test_a_sweep_stops_at_the_limit_price_and_rests_the_rest(book, order):
    for price in (5400, 5410, 5420):
        book.submit(order(SELL, price, 100, A))
    result = book.submit(order(BUY, 5410, 250, B))
    assert [(f.price, f.quantity) for f in result.fills] == [(5400, 100), (5410, 100)]
    assert (result.remaining, result.rests) == (50, True)
    assert book.best(BUY) == 5410 and book.best(SELL) == 5420


def test_a_trade_executes_at_the_makers_price_for_a_buyer(book, order):
    book.submit(order(SELL, 5400, 100, A))
    assert book.submit(order(BUY, 5500, 100, B)).fills[0].price == 5400


def test_a_trade_executes_at_the_makers_price_for_a_seller(book, order):
    book.submit(order(BUY, 5500, 100, A))
    fill = book.submit(order(SELL, 5400, 100, B)).fills[0]
    assert (fill.price, fill.taker_side) == (5500, SELL)


def test_at_one_price_the_earliest_order_trades_first(book, order):
    first, second, third = order(SELL, 5400, 100, A), order(SELL, 5400, 100, C), order(SELL, 5400, 100, A)
    for resting in (first, second, third):
        book.submit(resting)
    fills = book.submit(order(BUY, 5400, 250, B)).fills
    assert [(f.maker_order_id, f.quantity) for f in fills] == [(first.order_id, 100), (second.order_id, 100), (third.order_id, 50)]


def test_a_better_price_trades_before_an_earlier_order(book, order):
    early = order(BUY, 5400, 100, A)
    better = order(BUY, 5410, 100, C)
    book.submit(early)
    book.submit(better)
    fills = book.submit(order(SELL, 5400, 150, B)).fills
    assert [(f.maker_order_id, f.price, f.quantity) for f in fills] == [(better.order_id, 5410, 100), (early.order_id, 5400, 50)]


def test_it_does_not_trade_when_prices_do_not_cross(book, order):
    book.submit(order(SELL, 5410, 100, A))
    result = book.submit(order(BUY, 5400, 100, B))
    assert result.fills == [] and result.rests
    assert (book.best(BUY), book.best(SELL)) == (5400, 5410)


def test_self_trade_prevention_cancels_the_incoming_remainder(book, order):
    own = order(SELL, 5400, 100, A)
    book.submit(own)
    result = book.submit(order(BUY, 5400, 100, A))
    assert result.fills == []
    assert (result.remaining, result.rests, result.self_trade_cancelled) == (0, False, 100)
    assert book.depth(SELL, 5) == [(5400, 100, 1)]
    assert book.depth(BUY, 5) == []


def test_self_trade_prevention_stops_even_if_another_owner_would_cross_further_on(book, order):
    book.submit(order(SELL, 5400, 100, A))
    other = order(SELL, 5410, 100, C)
    book.submit(other)
    result = book.submit(order(BUY, 5420, 150, A))
    assert result.fills == [] and result.self_trade_cancelled == 150
    assert book.depth(SELL, 5) == [(5400, 100, 1), (5410, 100, 1)]


def test_self_trade_prevention_keeps_the_fills_made_before_it(book, order):
    other = order(SELL, 5400, 100, C)
    book.submit(other)
    book.submit(order(SELL, 5410, 100, A))
    result = book.submit(order(BUY, 5420, 300, A))
    assert [(f.maker_order_id, f.quantity) for f in result.fills] == [(other.order_id, 100)]
    assert (result.remaining, result.self_trade_cancelled, result.rests) == (0, 200, False)


def test_self_trade_prevention_applies_behind_an_earlier_order_at_the_same_price(book, order):
    other = order(SELL, 5400, 40, C)
    book.submit(other)
    book.submit(order(SELL, 5400, 100, A))
    result = book.submit(order(BUY, 5400, 100, A))
    assert [(f.maker_order_id, f.quantity) for f in result.fills] == [(other.order_id, 40)]
    assert result.self_trade_cancelled == 60


def test_cancel_takes_a_resting_order_out(book, order):
    resting = order(BUY, 5400, 100, A)
    book.submit(resting)
    cancelled = book.cancel(resting.order_id)
    assert cancelled is resting and cancelled.remaining == 100
    assert resting.order_id not in book and len(book) == 0
    assert book.depth(BUY, 5) == [] and book.best(BUY) is None


def test_cancel_of_an_absent_order_returns_none_and_changes_nothing(book, order):
    resting = order(BUY, 5400, 100, A)
    book.submit(resting)
    assert book.cancel(999) is None
    filled = order(SELL, 5300, 50, B)
    book.submit(order(BUY, 5500, 50, C))  # rests at 5500
    book.submit(filled)  # fills against 5500 at once
    assert book.cancel(filled.order_id) is None
    assert book.depth(BUY, 5) == [(5400, 100, 1)]


def test_cancel_keeps_the_rest_of_its_level_in_time_order(book, order):
    first, middle, last = order(SELL, 5400, 10, A), order(SELL, 5400, 20, A), order(SELL, 5400, 30, C)
    for resting in (first, middle, last):
        book.submit(resting)
    book.cancel(middle.order_id)
    assert book.depth(SELL, 1) == [(5400, 40, 2)]
    fills = book.submit(order(BUY, 5400, 40, B)).fills
    assert [f.maker_order_id for f in fills] == [first.order_id, last.order_id]


def test_cancel_of_a_partially_filled_order_returns_what_is_left(book, order):
    resting = order(SELL, 5400, 100, A)
    book.submit(resting)
    book.submit(order(BUY, 5400, 30, B))
    assert book.cancel(resting.order_id).remaining == 70


def test_depth_aggregates_levels_with_order_counts_best_first(book, order):
    for side, price, quantity in [
        (BUY, 5400, 100), (BUY, 5400, 50), (BUY, 5390, 10), (BUY, 5380, 5),
        (SELL, 5420, 30), (SELL, 5410, 20), (SELL, 5410, 25),
    ]:
        book.submit(order(side, price, quantity, A))
    assert book.depth(BUY, 10) == [(5400, 150, 2), (5390, 10, 1), (5380, 5, 1)]
    assert book.depth(SELL, 10) == [(5410, 45, 2), (5420, 30, 1)]
    assert book.depth(BUY, 2) == [(5400, 150, 2), (5390, 10, 1)]
    assert (book.best(BUY), book.best(SELL)) == (5400, 5410)


def test_submitting_an_order_id_twice_is_refused(book, order):
    resting = order(BUY, 5400, 100, A)
    book.submit(resting)
    with pytest.raises(ValueError):
        book.submit(RestingOrder(resting.order_id, 99, BUY, 5400, 10, A))


def test_restore_rebuilds_a_book_that_matches_like_the_original(book, order):
    for side, price, quantity, owner in [(SELL, 5400, 10, A), (SELL, 5400, 20, C), (SELL, 5390, 5, C)]:
        book.submit(order(side, price, quantity, owner))
    rebuilt = OrderBook()
    for resting in sorted(book.resting(), key=lambda o: o.sequence):
        rebuilt.restore(RestingOrder(resting.order_id, resting.sequence, resting.side, resting.price, resting.remaining, resting.owner))
    incoming = order(BUY, 5400, 30, B)
    expected = book.submit(incoming).fills
    again = rebuilt.submit(RestingOrder(incoming.order_id, incoming.sequence, BUY, 5400, 30, B)).fills
    assert expected == again


def test_matching_passes_over_orders_cancelled_in_the_middle_of_a_level(book, order):
    makers = [order(SELL, 5400, 10, C) for _ in range(6)]
    for maker in makers:
        book.submit(maker)
    next_level = order(SELL, 5410, 10, C)
    book.submit(next_level)
    for cancelled in (makers[1], makers[2], makers[4]):
        assert book.cancel(cancelled.order_id) is cancelled
    assert book.depth(SELL, 5) == [(5400, 30, 3), (5410, 10, 1)]
    fills = book.submit(order(BUY, 5410, 35, B)).fills
    assert [(f.maker_order_id, f.price, f.quantity) for f in fills] == [
        (makers[0].order_id, 5400, 10), (makers[3].order_id, 5400, 10), (makers[5].order_id, 5400, 10),
        (next_level.order_id, 5410, 5),
    ]
    assert book.depth(SELL, 5) == [(5410, 5, 1)]
    assert len(book) == 1


def test_cancel_of_an_order_already_cancelled_returns_none(book, order):
    first, second = order(BUY, 5400, 10, A), order(BUY, 5400, 20, A)
    book.submit(first)
    book.submit(second)
    assert book.cancel(first.order_id) is first
    assert book.cancel(first.order_id) is None
    assert book.depth(BUY, 5) == [(5400, 20, 1)]


def test_cancel_of_an_order_filled_from_a_level_that_still_has_orders_returns_none(book, order):
    filled, left = order(SELL, 5400, 10, A), order(SELL, 5400, 20, A)
    book.submit(filled)
    book.submit(left)
    book.submit(order(BUY, 5400, 10, B))
    assert book.cancel(filled.order_id) is None
    assert book.depth(SELL, 5) == [(5400, 20, 1)]


def test_cancelling_every_order_of_the_best_level_moves_the_best_price_on(book, order):
    best = [order(BUY, 5410, 10, A), order(BUY, 5410, 20, C)]
    next_best = order(BUY, 5400, 30, A)
    for resting in [*best, next_best, order(BUY, 5390, 40, A)]:
        book.submit(resting)
    book.cancel(best[1].order_id)
    book.cancel(best[0].order_id)
    assert book.best(BUY) == 5400
    assert book.depth(BUY, 5) == [(5400, 30, 1), (5390, 40, 1)]
    again = order(BUY, 5410, 5, A)
    book.submit(again)
    assert book.depth(BUY, 1) == [(5410, 5, 1)]
    fills = book.submit(order(SELL, 5400, 10, B)).fills
    assert [(f.maker_order_id, f.price, f.quantity) for f in fills] == [(again.order_id, 5410, 5), (next_best.order_id, 5400, 5)]


def test_cancelling_a_level_between_others_keeps_the_price_order(book, order):
    for price in (5380, 5390, 5400, 5410, 5420):
        book.submit(order(SELL, price, 10, A))
    book.cancel(3)  # 5400
    book.cancel(1)  # 5380
    assert book.depth(SELL, 10) == [(5390, 10, 1), (5410, 10, 1), (5420, 10, 1)]
    fills = book.submit(order(BUY, 5420, 25, B)).fills
    assert [(f.price, f.quantity) for f in fills] == [(5390, 10), (5410, 10), (5420, 5)]


def test_an_order_cancelled_and_submitted_again_goes_to_the_back_of_its_level(book, order):
    first, second = order(SELL, 5400, 10, A), order(SELL, 5400, 10, C)
    book.submit(first)
    book.submit(second)
    book.cancel(first.order_id)
    first.remaining = 10
    book.submit(first)  # the same object: it left a cancelled entry at the front of the level
    assert book.depth(SELL, 1) == [(5400, 20, 2)]
    fills = book.submit(order(BUY, 5400, 20, B)).fills
    assert [(f.maker_order_id, f.quantity) for f in fills] == [(second.order_id, 10), (first.order_id, 10)]
    assert len(book) == 0 and book.depth(SELL, 1) == []


def test_an_order_cancelled_twice_after_resubmitting_does_not_come_back(book, order):
    again, other = order(SELL, 5400, 10, A), order(SELL, 5400, 10, C)
    book.submit(again)
    book.submit(other)
    for _ in range(2):
        book.cancel(again.order_id)
        again.remaining = 10
        book.submit(again)
        book.submit(order(SELL, 5400, 1, C))  # so that `again` is not the newest order of the level
    book.cancel(again.order_id)
    fills = book.submit(order(BUY, 5400, 50, B)).fills
    assert again.order_id not in [f.maker_order_id for f in fills]
    assert sum(f.quantity for f in fills) == 12


def test_a_level_with_many_cancels_stays_small_and_in_time_order(book, order):
    makers = [order(SELL, 5400, 1, C) for _ in range(200)]
    for maker in makers:
        book.submit(maker)
    kept = makers[::10]
    for maker in makers:
        if maker not in kept:
            book.cancel(maker.order_id)
    # The cancelled orders are dropped from the level's queue in batches (private, but the point).
    level = book._asks.levels[-5400]
    assert level.count == len(kept) and len(level.queue) <= 3 * len(kept) + matching.COMPACT_SLACK
    fills = book.submit(order(BUY, 5400, 100, B)).fills
    assert [f.maker_order_id for f in fills] == [maker.order_id for maker in kept]


def test_depth_and_resting_follow_partial_fills_and_cancels(book, order):
    makers = [order(BUY, 5400, 50, A), order(BUY, 5400, 60, C), order(BUY, 5390, 70, A)]
    for maker in makers:
        book.submit(maker)
    book.submit(order(SELL, 5400, 80, B))  # fills the first, 30 of the second
    assert book.depth(BUY, 5) == [(5400, 30, 1), (5390, 70, 1)]
    book.cancel(makers[1].order_id)
    assert book.depth(BUY, 5) == [(5390, 70, 1)]
    assert [(o.order_id, o.remaining) for o in book.resting()] == [(makers[2].order_id, 70)]
    assert book.depth(BUY, 0) == [] and book.depth(SELL, 5) == []


# --- the book against an obviously correct reference model ---


@dataclass
class ModelOrder:
    order_id: int
    sequence: int
    side: str
    price: int
    remaining: int
    owner: int


class ReferenceBook:
    """All resting orders in one list; matching sorts the crossing opposite orders by (price
    priority, sequence) and walks them."""

    def __init__(self) -> None:
        self.orders: list[ModelOrder] = []

    def submit(self, incoming: ModelOrder) -> tuple[list[tuple], int, bool, int]:
        if incoming.side == BUY:
            candidates = [o for o in self.orders if o.side == SELL and o.price <= incoming.price]
            candidates.sort(key=lambda o: (o.price, o.sequence))
        else:
            candidates = [o for o in self.orders if o.side == BUY and o.price >= incoming.price]
            candidates.sort(key=lambda o: (-o.price, o.sequence))
        fills, remaining, self_trade = [], incoming.remaining, 0
        for maker in candidates:
            if not remaining:
                break
            if maker.owner == incoming.owner:
                self_trade, remaining = remaining, 0
                break
            quantity = min(remaining, maker.remaining)
            maker.remaining -= quantity
            remaining -= quantity
            fills.append((incoming.order_id, maker.order_id, incoming.side, maker.price, quantity, maker.remaining))
        self.orders = [o for o in self.orders if o.remaining]
        if remaining:
            incoming.remaining = remaining
            self.orders.append(incoming)
        return fills, remaining, bool(remaining), self_trade

    def cancel(self, order_id: int) -> int | None:
        for resting in self.orders:
            if resting.order_id == order_id:
                self.orders.remove(resting)
                return resting.remaining
        return None

    def depth(self, side: str) -> list[tuple[int, int, int]]:
        levels: dict[int, list[int]] = {}
        for resting in self.orders:
            if resting.side == side:
                level = levels.setdefault(resting.price, [0, 0])
                level[0] += resting.remaining
                level[1] += 1
        prices = sorted(levels, reverse=side == BUY)
        return [(price, levels[price][0], levels[price][1]) for price in prices]


submits = st.tuples(
    st.just("submit"),
    st.sampled_from([BUY, SELL]),
    st.integers(5395, 5405),  # a narrow range, so that orders cross often
    st.integers(1, 30),
    st.sampled_from([A, B, C]),
)
cancels = st.tuples(st.just("cancel"), st.integers(0, 10_000))
actions = st.lists(st.one_of(submits, submits, cancels), max_size=60)


@settings(max_examples=300, deadline=None)
@given(actions)
def test_the_book_matches_like_the_reference_model(steps):
    book, model = OrderBook(), ReferenceBook()
    submitted: dict[int, int] = {}  # order id -> quantity
    filled: dict[int, int] = {}
    cancelled: dict[int, int] = {}
    for number, step in enumerate(steps, start=1):
        if step[0] == "submit":
            _, side, price, quantity, owner = step
            result = book.submit(RestingOrder(number, number, side, price, quantity, owner))
            expected = model.submit(ModelOrder(number, number, side, price, quantity, owner))
            actual = ([(f.taker_order_id, f.maker_order_id, f.taker_side, f.price, f.quantity, f.maker_remaining)
                       for f in result.fills], result.remaining, result.rests, result.self_trade_cancelled)
            assert actual == expected
            submitted[number] = quantity
            for fill in result.fills:
                assert fill.quantity > 0
                filled[fill.taker_order_id] = filled.get(fill.taker_order_id, 0) + fill.quantity
                filled[fill.maker_order_id] = filled.get(fill.maker_order_id, 0) + fill.quantity
            if result.self_trade_cancelled:
                cancelled[number] = result.self_trade_cancelled
        elif submitted:
            order_id = sorted(submitted)[step[1] % len(submitted)]
            taken = book.cancel(order_id)
            expected_remaining = model.cancel(order_id)
            assert (taken.remaining if taken else None) == expected_remaining
            if taken:
                cancelled[order_id] = cancelled.get(order_id, 0) + taken.remaining

        # After every step: the same book, never crossed, and every tonne accounted for.
        assert book.depth(BUY, 1000) == model.depth(BUY)
        assert book.depth(SELL, 1000) == model.depth(SELL)
        best_bid, best_ask = book.best(BUY), book.best(SELL)
        if best_bid is not None and best_ask is not None:
            assert best_bid < best_ask
        resting = {o.order_id: o.remaining for o in book.resting()}
        assert len(book) == len(resting)
        for order_id, quantity in submitted.items():
            assert filled.get(order_id, 0) + resting.get(order_id, 0) + cancelled.get(order_id, 0) == quantity


# Deep levels: few prices and long runs, so that levels hold many orders, cancels leave entries
# behind in them, cancelled order objects come back, and levels are compacted (with no slack at all
# as well as with the default).
deep_submits = st.tuples(
    st.just("submit"),
    st.sampled_from([BUY, SELL]),
    st.integers(5399, 5401),
    st.integers(1, 30),
    st.sampled_from([A, B, C]),
)
deep_cancels = st.tuples(st.just("cancel"), st.integers(0, 10_000))
resubmits = st.tuples(st.just("resubmit"), st.integers(0, 10_000), st.integers(1, 30))
deep_actions = st.lists(st.one_of(deep_submits, deep_submits, deep_cancels, resubmits), min_size=60, max_size=200)


@pytest.mark.parametrize("slack", [0, matching.COMPACT_SLACK])
@settings(max_examples=100, deadline=None)
@given(steps=deep_actions)
def test_the_book_matches_the_reference_model_on_deep_levels(slack, steps):
    book, model = OrderBook(), ReferenceBook()
    submitted: list[RestingOrder] = []
    cancelled: list[RestingOrder] = []  # cancelled by `cancel`: these objects may be submitted again
    with mock.patch.object(matching, "COMPACT_SLACK", slack):
        for number, step in enumerate(steps, start=1):
            incoming = None
            if step[0] == "submit":
                _, side, price, quantity, owner = step
                incoming = RestingOrder(number, number, side, price, quantity, owner)
                submitted.append(incoming)
            elif step[0] == "resubmit" and cancelled:
                incoming = cancelled.pop(step[1] % len(cancelled))
                incoming.sequence, incoming.remaining = number, step[2]
            elif step[0] == "cancel" and submitted:
                order_id = submitted[step[1] % len(submitted)].order_id
                taken = book.cancel(order_id)
                assert (taken.remaining if taken else None) == model.cancel(order_id)
                if taken:
                    cancelled.append(taken)
            if incoming is not None:
                twin = ModelOrder(incoming.order_id, incoming.sequence, incoming.side, incoming.price, incoming.remaining,
                                  incoming.owner)
                result = book.submit(incoming)
                expected = model.submit(twin)
                actual = ([(f.taker_order_id, f.maker_order_id, f.taker_side, f.price, f.quantity, f.maker_remaining)
                           for f in result.fills], result.remaining, result.rests, result.self_trade_cancelled)
                assert actual == expected

            assert book.depth(BUY, 1000) == model.depth(BUY)
            assert book.depth(SELL, 1000) == model.depth(SELL)
            assert (book.best(BUY), book.best(SELL)) == (
                max((o.price for o in model.orders if o.side == BUY), default=None),
                min((o.price for o in model.orders if o.side == SELL), default=None),
            )
            # The same resting orders with the same quantities, in the order they rested.
            assert [(o.order_id, o.remaining) for o in book.resting()] == [(o.order_id, o.remaining) for o in model.orders]
            assert len(book) == len(model.orders)

        # A book restored from what rests (as the matcher rebuilds it) matches like this one.
        rebuilt = OrderBook()
        for resting in book.resting():  # in the order they rested: the matcher restores by sequence
            rebuilt.restore(RestingOrder(resting.order_id, resting.sequence, resting.side, resting.price,
                                         resting.remaining, resting.owner))
        for side, price, opposite in ((BUY, 10**6, SELL), (SELL, 1, BUY)):  # sweep each side exactly
            quantity = sum(level[1] for level in book.depth(opposite, 1000))
            if quantity:
                order_id = 10**6 if side == BUY else 10**6 + 1
                fills = [each.submit(RestingOrder(order_id, order_id, side, price, quantity, 4)).fills for each in (book, rebuilt)]
                assert fills[0] == fills[1] and sum(fill.quantity for fill in fills[0]) == quantity
        assert len(book) == len(rebuilt) == 0
