"""The matcher process's loop (run_matcher), on real commits: woken by an event, it lingers
MATCHER_LINGER_MS so that the events committing meanwhile share its batch."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from core.models import AuditEvent
from trading.management.commands.run_matcher import Command
from trading.models import Order, Trade

from .conftest import place


def batches() -> list[dict]:
    return list(AuditEvent.objects.filter(action="matcher.batch").order_by("pk").values_list("after", flat=True))


@pytest.mark.django_db(transaction=True)
def test_events_that_commit_while_the_matcher_lingers_share_its_batch(funded, cea21, trader_a, trader_b, settings):
    settings.MATCHER_INLINE = False  # the matcher process matches, not order entry's commit
    settings.MATCHER_LINGER_MS = 600
    command = Command()
    command.stopping = False
    waiting = threading.Event()
    wait = command._wait

    def waits(*args, **kwargs):  # the loop has listened, loaded the book and drained once: it waits now
        waiting.set()
        return wait(*args, **kwargs)

    command._wait = waits

    def serve() -> None:
        try:
            command._serve([cea21.pk], once=False, poll=0.1)
        finally:
            connection.close()  # (its LISTEN and advisory lock go with it)

    matcher = threading.Thread(target=serve)
    matcher.start()
    try:
        assert waiting.wait(10)  # (a fixed pause raced the matcher's start on a busy machine)
        before = len(batches())
        buy = place(trader_a, "buy", "54.00", 100)
        time.sleep(0.1)  # without the linger, the buy would be matched alone by now
        sell = place(trader_b, "sell", "54.00", 40)
        deadline = time.monotonic() + 10
        while Trade.objects.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        command.stopping = True
        matcher.join(10)
    assert not matcher.is_alive()
    new = batches()[before:]
    assert new == [{"from": buy.sequence, "to": sell.sequence, "trades": 1}]
    trade = Trade.objects.get()
    assert (trade.buy_order_id, trade.sell_order_id, trade.quantity) == (buy.pk, sell.pk, 40)
    assert Order.objects.get(pk=buy.pk).status == Order.Status.PARTIALLY_FILLED
    assert Order.objects.get(pk=sell.pk).status == Order.Status.FILLED
