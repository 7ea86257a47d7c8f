"""PostgreSQL advisory locks, named in one place. On SQLite every lock here is a no-op: SQLite runs one
writing transaction at a time, which already gives what these locks protect.

A key is a pair of 32-bit integers (the two-key form of `pg_advisory_*`): a namespace for this
project and the lock's number. (The matcher keeps its own namespace, `trading.matcher`.)
"""

from __future__ import annotations

import time
from typing import NamedTuple

from django.db import connection, transaction

from core.db import PostgresOnlySQL

NAMESPACE = 0x5EA1


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
