"""PostgreSQL advisory locks, named in one place. On SQLite every lock here is a no-op: SQLite runs one
writing transaction at a time, which already gives what these locks protect.

A key is a pair of 32-bit integers (the two-key form of `pg_advisory_*`): a namespace for this
project and the lock's number, or a namespace per kind of lock and the row it guards (an instrument,
a period).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from django.db import DatabaseError, InterfaceError, connection, transaction

from core.db import PostgresOnlySQL

NAMESPACE = 0x5EA1
MATCHER = 0x7EA0  # (MATCHER, instrument id): the one matcher of an instrument
END_OF_DAY = 0x5EA2  # (END_OF_DAY, instrument id): the one closer of an instrument's day
COMPLIANCE_DEADLINE = 0x5EA3  # (COMPLIANCE_DEADLINE, period id): the one runner of a period's deadline job


class LockKey(NamedTuple):
    namespace: int
    number: int


# Held (exclusive, for its transaction) by whoever appends seal blocks: one chain, never two heads.
LEDGER_SEAL = LockKey(NAMESPACE, 1)
# Held in share mode by every transaction that inserts transfers (a trigger takes it, see
# `share_lock_on_insert`), so the sealer can tell which transactions may still commit transfer ids.
TRANSFER_INSERT = LockKey(NAMESPACE, 2)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def advisory_xact_lock(key: LockKey, *, shared: bool = False) -> None:
    """Takes `key` until the end of the current transaction (waiting for it). Must run in one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("advisory_xact_lock must run inside a transaction: it is released at its end")
    if not _postgres():
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", list(key))


@contextmanager
def session_lock(key: LockKey, *, wait: bool) -> Iterator[bool]:
    """Holds the session-level lock `key` for the block: yields True once held (waiting for it if
    `wait`), else False at once. For work of many transactions that one runner at a time should do."""
    if not _postgres():
        yield True
        return
    with connection.cursor() as cursor:
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        cursor.execute(f"SELECT {function}(%s, %s)", list(key))
        acquired = wait or cursor.fetchone()[0]
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(key))
        except (DatabaseError, InterfaceError):
            # The session is gone (the lock went with it) or unusable: closing it releases the lock
            # for certain, and the original error, not this one, is what the caller hears about.
            connection.close()


def advisory_lock_holders(key: LockKey) -> set[str]:
    """The other transactions (PostgreSQL virtual transaction ids) that hold `key` in this database now."""
    if not _postgres():
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            # pg_locks lists the whole server; advisory keys are per database.
            "SELECT virtualtransaction FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2 AND pid <> pg_backend_pid()",
            list(key),
        )
        return {row[0] for row in cursor.fetchall()}


def advisory_wait_released(key: LockKey, holders: set[str], *, timeout: float, poll: float = 0.005) -> bool:
    """Waits until none of `holders` (from `advisory_lock_holders`) holds `key` any more: they have
    committed or rolled back. Later holders are not waited for. False if `timeout` seconds passed first.

    Polling, rather than asking for the lock in exclusive mode, means the waiter never queues in front
    of anyone: a transaction that holds balance rows and then asks for the share lock is never held up
    (and so can never deadlock against the waiter)."""
    deadline = time.monotonic() + timeout
    while holders:
        holders = holders & advisory_lock_holders(key)
        if not holders:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
        poll = min(poll * 2, 0.1)
    return True


def share_lock_on_insert(table: str, key: LockKey) -> PostgresOnlySQL:
    """A migration operation: every INSERT statement into `table` first takes `key` in share mode for
    its transaction. A statement-level BEFORE trigger fires before the statement produces its first
    row, so before any value of the table's id sequence is drawn."""
    function = f"{table}_insert_share_lock"
    return PostgresOnlySQL(
        sql=f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({key.namespace}, {key.number});
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {function} BEFORE INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
""",
        reverse_sql=f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();",
    )
