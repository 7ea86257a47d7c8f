"""The matcher after a crash: a batch that fails writes nothing, and a retry (by the same matcher or a
fresh one) gives exactly the trades of a run without the crash. Two matchers on one instrument can
never both commit the same events."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from core.models import AuditEvent
from registry.models import Balance, Transfer
from trading import services
from trading.matcher import Matcher, StaleMatcher, matcher_for, matching_sweep
from trading.models import Instrument, Order, Trade

from .conftest import place


class Crash(Exception):
    pass


class _Rollback(Exception):
    pass


def crash():
    raise Crash("the matcher died")


def _place(user, side, price, quantity, label):
    order, _ = services.order_place(
        user=user, instrument="CEA21", side=side, price=price, quantity=quantity, client_order_id=label
    )
    return order


def place_scenario(trader_a, trader_b, trader_c):
    """Crossing orders with a sweep, a price improvement, a resting remainder and a cancel."""
    _place(trader_b, "sell", "54.00", 100, "b-sell-54.00")
    _place(trader_c, "sell", "54.10", 100, "c-sell-54.10")
    _place(trader_a, "buy", "54.20", 150, "a-buy-54.20")  # 100 at 54.00, 50 at 54.10
    resting = _place(trader_b, "buy", "53.00", 40, "b-buy-53.00")
    _place(trader_c, "buy", "54.10", 20, "c-buy-54.10")  # self-trade with C's own sell: cancelled
    _place(trader_a, "buy", "54.15", 80, "a-buy-54.15")  # 50 at 54.10, 30 rests
    services.order_cancel(user=trader_b, order_id=resting.pk)


def outcome():
    """Everything the matcher decides, named by client order ids (ids differ between runs)."""
    trades = [
        (t.buy_order.client_order_id, t.sell_order.client_order_id, t.price, t.quantity, t.sequence)
        for t in Trade.objects.select_related("buy_order", "sell_order").order_by("pk")
    ]
    orders = sorted(Order.objects.values_list("client_order_id", "status", "filled_quantity", "reserved"))
    balances = sorted(
        Balance.objects.filter(account__organization__isnull=False)
        .values_list("account__number", "asset__code", "available", "reserved", "pending")
    )
    position = Instrument.objects.filter(symbol="CEA21").values_list("matching_position__matched_sequence", "last_sequence").get()
    return trades, orders, balances, position


def ledger_state():
    return (
        sorted(Balance.objects.values_list("account_id", "asset_id", "available", "reserved", "pending", "frozen")),
        Transfer.objects.count(),
    )


def drain(matcher):
    while matcher.run_batch():
        pass


@pytest.fixture
def matcher_offline(settings):
    """Orders are accepted and sequenced, but nothing matches on commit."""
    settings.MATCHER_INLINE = False


def run_without_crash(cea21, trader_a, trader_b, trader_c):
    """The reference: the scenario matched by a matcher that does not crash, then rolled back."""
    try:
        with transaction.atomic():
            place_scenario(trader_a, trader_b, trader_c)
            drain(Matcher(cea21.pk))
            expected = outcome()
            raise _Rollback
    except _Rollback:
        pass
    assert not Order.objects.exists()
    return expected


def test_a_crash_before_the_writes_leaves_nothing_and_a_fresh_matcher_recovers(
    funded3, cea21, trader_a, trader_b, trader_c, matcher_offline
):
    expected = run_without_crash(cea21, trader_a, trader_b, trader_c)
    assert len(expected[0]) == 3  # the scenario trades

    place_scenario(trader_a, trader_b, trader_c)
    before, audit_events = ledger_state(), AuditEvent.objects.count()
    matcher = Matcher(cea21.pk)
    matcher.before_commit = crash
    with pytest.raises(Crash):
        matcher.run_batch()

    assert not Trade.objects.exists()
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 0
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.ACCEPTED}
    assert ledger_state() == before
    assert AuditEvent.objects.count() == audit_events
    assert matcher.book is None  # it knows its book is ahead of the database

    drain(Matcher(cea21.pk))
    assert outcome() == expected


def test_the_same_matcher_retries_after_a_crash_with_the_same_result(
    funded3, cea21, trader_a, trader_b, trader_c, matcher_offline
):
    expected = run_without_crash(cea21, trader_a, trader_b, trader_c)
    place_scenario(trader_a, trader_b, trader_c)
    matcher = Matcher(cea21.pk)
    matcher.before_commit = crash
    for _ in range(2):
        with pytest.raises(Crash):
            matcher.run_batch()
    matcher.before_commit = None
    drain(matcher)
    assert outcome() == expected


def test_a_crash_in_the_middle_of_the_writes_rolls_all_of_them_back(
    funded3, cea21, trader_a, trader_b, trader_c, matcher_offline, monkeypatch
):
    expected = run_without_crash(cea21, trader_a, trader_b, trader_c)
    place_scenario(trader_a, trader_b, trader_c)
    before = ledger_state()

    # The orders and trades are written when the reservation releases fail.
    def ledger_down(*args, **kwargs):
        assert Trade.objects.exists()
        raise Crash("the ledger went away")

    monkeypatch.setattr("trading.matcher.ledger_post", ledger_down)
    matcher = Matcher(cea21.pk)
    with pytest.raises(Crash):
        matcher.run_batch()
    assert not Trade.objects.exists()
    assert set(Order.objects.values_list("status", "filled_quantity")) == {(Order.Status.ACCEPTED, 0)}
    assert ledger_state() == before
    monkeypatch.undo()
    drain(matcher)
    assert outcome() == expected


def test_a_batch_cut_into_small_pieces_gives_the_same_result(funded3, cea21, trader_a, trader_b, trader_c, matcher_offline):
    expected = run_without_crash(cea21, trader_a, trader_b, trader_c)
    place_scenario(trader_a, trader_b, trader_c)
    matcher = Matcher(cea21.pk)
    while matcher.run_batch(limit=1):
        matcher = Matcher(cea21.pk)  # and a new matcher, rebuilt from the database, each time
    assert outcome() == expected


def test_an_order_whose_matching_crashed_is_still_accepted_and_the_sweep_matches_it(
    funded, cea21, trader_a, trader_b, company_a
):
    place(trader_b, "sell", "54.00", 100)
    matcher_for(cea21.pk).before_commit = crash
    buy = place(trader_a, "buy", "54.00", 100)  # the client sees no error
    assert buy.status == Order.Status.ACCEPTED
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 1
    matcher_for(cea21.pk).before_commit = None
    assert matching_sweep() == 1
    buy.refresh_from_db()
    assert buy.status == Order.Status.FILLED
    assert Trade.objects.get().quantity == 100


@pytest.mark.django_db(transaction=True)
def test_two_matchers_cannot_both_commit_the_same_events(funded3, cea21, trader_a, trader_b, trader_c, settings):
    settings.MATCHER_INLINE = False
    _place(trader_b, "sell", "54.00", 100, "b-sell")
    _place(trader_a, "buy", "54.00", 100, "a-buy")
    _place(trader_c, "sell", "54.10", 50, "c-sell")
    _place(trader_a, "buy", "54.10", 30, "a-buy-2")

    first, late = Matcher(cea21.pk), Matcher(cea21.pk)
    computed, go = threading.Event(), threading.Event()
    outcome_of_late: list[BaseException | int] = []

    def hold_before_writing():
        computed.set()
        assert go.wait(10)

    def run_late():
        try:
            outcome_of_late.append(late.run_batch())
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            outcome_of_late.append(error)
        finally:
            connection.close()

    late.before_commit = hold_before_writing
    thread = threading.Thread(target=run_late)
    thread.start()
    assert computed.wait(10)  # the late matcher has matched all four events in memory
    assert first.run_batch() == 4  # ... and the first commits them
    go.set()
    thread.join(20)
    assert not thread.is_alive()

    assert len(outcome_of_late) == 1 and isinstance(outcome_of_late[0], StaleMatcher)
    assert list(Trade.objects.order_by("pk").values_list("price", "quantity")) == [(5400, 100), (5410, 30)]
    assert dict(Order.objects.values_list("client_order_id", "filled_quantity")) == {
        "b-sell": 100, "a-buy": 100, "c-sell": 30, "a-buy-2": 30
    }
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 4
    late.before_commit = None
    assert late.run_batch() == 0  # rebuilt from the database: nothing left to apply
    assert Trade.objects.count() == 2


def test_a_matcher_whose_commits_were_rolled_back_applies_the_events_committed_since(
    funded3, cea21, trader_a, trader_b, trader_c, matcher_offline
):
    """Its own batch undone (a restore, or here a rolled-back transaction), a matcher finds the committed
    position behind its own and rebuilds, rather than waiting for sequence numbers past its own."""
    matcher = Matcher(cea21.pk)
    try:
        with transaction.atomic():
            _place(trader_b, "sell", "54.00", 100, "undone-sell")
            _place(trader_a, "buy", "54.00", 100, "undone-buy")
            assert matcher.run_batch() == 2 and matcher.position == 2
            raise _Rollback
    except _Rollback:
        pass
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 0

    _place(trader_c, "sell", "54.10", 40, "c-sell")  # sequence numbers 1 and 2 again
    _place(trader_a, "buy", "54.10", 40, "a-buy")
    assert matcher.run_batch() == 2
    assert list(Trade.objects.values_list("price", "quantity")) == [(5410, 40)]
    assert Instrument.objects.get(pk=cea21.pk).matching_position.matched_sequence == 2


@pytest.mark.django_db(transaction=True)
def test_the_matcher_commits_while_order_entry_holds_the_instrument_row(funded, cea21, trader_a, trader_b, settings):
    """Order entry locks the instrument row from sequencing to commit; the matcher's fence is a row of
    its own, so a batch never queues behind order entry."""
    from django.db import connections

    settings.MATCHER_INLINE = False
    _place(trader_b, "sell", "54.00", 100, "b-sell")
    _place(trader_a, "buy", "54.00", 60, "a-buy")
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            # What sequencing does: an UPDATE of the instrument row, its lock held until commit.
            cursor.execute("UPDATE trading_instrument SET last_sequence = last_sequence WHERE id = %s", [cea21.pk])
            with connection.cursor() as own:
                own.execute("SET lock_timeout = '3s'")  # waiting for the row would fail the batch
            assert Matcher(cea21.pk).run_batch() == 2
            cursor.execute("ROLLBACK")
    finally:
        holder.close()
        with connection.cursor() as own:
            own.execute("RESET lock_timeout")
    assert list(Trade.objects.values_list("price", "quantity")) == [(5400, 60)]
