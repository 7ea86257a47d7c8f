"""The book and the tape as the matcher last committed them, served without recomputing them.

After each batch commits, the matcher publishes a snapshot of its in-memory book (the best
`SNAPSHOT_DEPTH` levels a side), the last `TAPE_LENGTH` trades, the instrument's trade count and last
price, in Redis (one key per instrument; in this process's memory without REDIS_URL, where the matcher
runs in-process). Readers (the book and tape API, the trading page) read that key instead of
aggregating the resting orders per request.

A snapshot is named by the batch's random `batch_token`, which the batch's fence writes to
MatchingPosition in the same transaction. A reader takes the instrument's row and that token in one
small query (the instrument's limits and status come with it, always fresh) and uses the snapshot
only if the tokens match: so it never serves a book the database does not hold (a snapshot not yet
published, one from before a restore, from a rolled-back test, or lost with Redis), and falls back
to computing the book from the orders. A token of 0 (no batch yet) names the empty book.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection

from core import live
from core.db import Prepared, instance_from_row, statements_execute
from trading import selectors
from trading.models import Instrument, MatchingPosition, Trade

logger = logging.getLogger(__name__)

SNAPSHOT_DEPTH = 50  # price levels a side: the API's deepest `depth`
TAPE_LENGTH = 100  # trades: what the trading page shows and a default page of the tape API

_local: dict[str, str] = {}  # without REDIS_URL: this process's snapshots (the matcher runs in-process)
_client: list[Any] = []
_redis_down_until = [0.0]
RETRY_REDIS_AFTER = 1.0  # seconds without asking Redis after a failure (the database answers meanwhile)


def _key(symbol: str) -> str:
    # The database's name is part of the key, as in core.live: test runs sharing one Redis never meet.
    return f"market:{connection.settings_dict['NAME']}:{symbol}"


def _redis() -> Any:
    if not _client:
        import redis

        # Short timeouts: a hung Redis must not hold a reader up (it falls back to the database).
        _client.append(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.2, socket_connect_timeout=0.2))
    return _client[0]


# --- writing (the matcher) -------------------------------------------------------------------------


def tape_entry(trade: Trade) -> str:
    """A trade as the snapshot keeps it, encoded once: [id, price, quantity, aggressor side, executed at (ISO)]."""
    return f'[{trade.pk},{trade.price},{trade.quantity},"{trade.aggressor_side}","{trade.executed_at.isoformat()}"]'


def snapshot_body(*, token: int, bids: list[tuple[int, int, int]], asks: list[tuple[int, int, int]], tape: Iterable[str],
                  trade_count: int, last_price: int | None) -> str:
    """The snapshot as published (JSON): levels as [price, quantity, orders], best first; the tape
    (tape_entry's) newest first. Written by hand from parts: the matcher publishes one per batch,
    and json.dumps of the whole cost it more than the batch's matching."""
    levels = lambda rows: ",".join(f"[{price},{quantity},{orders}]" for price, quantity, orders in rows)  # noqa: E731
    return (f'{{"token":{token},"bids":[{levels(bids)}],"asks":[{levels(asks)}],"tape":[{",".join(tape)}],'
            f'"trade_count":{trade_count},"last_price":{"null" if last_price is None else last_price}}}')


def snapshot_publish(symbol: str, body: str, *, announce: Iterable[str] = ()) -> None:
    """Stores a committed batch's snapshot and announces `announce` (core.live) in the same Redis
    round trip, the snapshot first. Never raises: readers fall back to the database."""
    if not settings.REDIS_URL:
        _local[_key(symbol)] = body
        live.publish(*announce)
        return
    live.publish(*announce, store=(_key(symbol), body))


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """An instrument as it is now, and the matcher's snapshot if it matches the committed book."""

    instrument: Instrument
    snapshot: dict[str, Any] | None

    def book(self, depth: int) -> dict[str, Any]:
        """{"bids", "asks"} as [{"price", "quantity", "orders"}], best first, and "last_price"."""
        if self.snapshot is not None:
            level = lambda row: {"price": row[0], "quantity": row[1], "orders": row[2]}  # noqa: E731
            return {"bids": [level(row) for row in self.snapshot["bids"][:depth]],
                    "asks": [level(row) for row in self.snapshot["asks"][:depth]],
                    "last_price": self.snapshot["last_price"]}
        last = selectors.last_trade(self.instrument)
        return {**selectors.book_depth(self.instrument, depth), "last_price": last.price if last else None}

    def tape(self, limit: int = TAPE_LENGTH, offset: int = 0) -> tuple[int, list[dict[str, Any]]] | None:
        """(the instrument's trade count, its trades newest first from `offset`), or None when the
        snapshot cannot answer (none, or the page reaches past what it keeps)."""
        if self.snapshot is None:
            return None
        entries, count = self.snapshot["tape"], self.snapshot["trade_count"]
        if min(offset + limit, count) > len(entries):
            return None
        return count, [
            {"id": pk, "price": price, "quantity": quantity, "aggressor_side": side,
             "executed_at": dt.datetime.fromisoformat(executed_at)}
            for pk, price, quantity, side, executed_at in entries[offset : offset + limit]
        ]

    def last_trade(self) -> dict[str, Any] | None:
        """The last trade ({"price", "executed_at", ...}), for the pages."""
        tape = self.tape(1)
        if tape is not None:
            return tape[1][0] if tape[1] else None
        trade = selectors.last_trade(self.instrument)
        return {"price": trade.price, "executed_at": trade.executed_at} if trade else None


def market_get(symbol: str) -> Market:
    """The instrument (fresh from the database, in one small query) and its valid snapshot."""
    with connection.cursor() as cursor:
        statements_execute(cursor, [(_instrument_with_token_sql(), [symbol])])
        row = cursor.fetchone()
    if row is None:
        raise selectors.instrument_unknown(symbol)
    width = len(Instrument._meta.concrete_fields)
    instrument = instance_from_row(Instrument, row[:width])
    token = row[width] or 0
    return Market(instrument, _snapshot(symbol, token))


def _snapshot(symbol: str, token: int) -> dict[str, Any] | None:
    if token == 0:  # no batch committed yet: no order rests, nothing traded
        return {"token": 0, "bids": [], "asks": [], "tape": [], "trade_count": 0, "last_price": None}
    if not settings.REDIS_URL:
        body = _local.get(_key(symbol))
    elif time.monotonic() < _redis_down_until[0]:
        return None
    else:
        try:
            body = _redis().get(_key(symbol))
        except Exception:
            _redis_down_until[0] = time.monotonic() + RETRY_REDIS_AFTER
            logger.warning("book snapshot of %s not read; the database answers", symbol, exc_info=True)
            return None
    if body is None:
        return None
    snapshot = json.loads(body)
    return snapshot if snapshot["token"] == token else None


@cache
def _instrument_with_token_sql() -> Prepared:
    quote = connection.ops.quote_name
    columns = [f"i.{quote(field.column)}" for field in Instrument._meta.concrete_fields]
    return Prepared(
        f"SELECT {', '.join(columns)}, p.batch_token FROM {Instrument._meta.db_table} i "
        f"LEFT JOIN {MatchingPosition._meta.db_table} p ON p.instrument_id = i.id WHERE i.symbol = %s"
    )
