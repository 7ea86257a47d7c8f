"""The ledger's seal chain: transfers, in id order, hashed into blocks, each chained to the previous
block's hash (DESIGN.md: Seals). Editing, deleting or inserting a sealed transfer, or editing,
removing or reordering a block, changes a hash that the next verification recomputes.

Block hash = SHA-256 over: a version line, the block's height, the previous block's hash, the number of
transfers, then one canonical line per transfer (`transfer_canonical`: a compact JSON array of every
field of the transfer, all of them immutable). The first block's previous hash is 64 zeros.

Who writes: `ledger_seal` (the beat job `registry.tasks.ledger_seal_task`, `manage.py seal_ledger`,
`seed_demo`). Who reads: `ledger_seal_verify` (`manage.py verify_seal_chain`, the auditor page,
`seal_check_record`). A chain rewritten consistently from some block to its head would recompute
without fault: each successful SealCheck keeps the head it saw and later verifications require those
heads unchanged; the head published outside the database after each seal (registry.seal_publication)
anchors it against its owner too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import audit_record
from core.locks import LEDGER_SEAL, TRANSFER_INSERT, advisory_lock_holders, advisory_wait_released, advisory_xact_lock
from registry.models import SealBlock, SealCheck, Transfer
from registry.seal_publication import seal_head_publish

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HASH_VERSION = b"carbon-ledger-seal-v1\n"
# The transfer's fields, in the order they are serialised. Every field of a transfer is immutable.
SEALED_FIELDS = (
    "id", "created_at", "kind", "asset_id", "amount", "source_id", "source_bucket", "destination_id",
    "destination_bucket", "actor_id", "reference", "external_reference", "memo",
)
# Blocks written per transaction: keeps each transaction (and the seal lock) short.
BLOCKS_PER_TRANSACTION = 20


@functools.lru_cache(maxsize=256)
def _utc_text(moment: datetime) -> str:
    # Cached: the transfers of one posting share their timestamp, and formatting costs more than hashing.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# One encoder for every line (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def transfer_canonical(row: tuple[Any, ...]) -> bytes:
    """One transfer (a `SEALED_FIELDS` tuple) as one line of bytes: the same on every database and
    Python version (timestamps in UTC with microseconds, no whitespace, UTF-8)."""
    values = list(row)
    values[1] = _utc_text(values[1])
    return (_ENCODER.encode(values) + "\n").encode()


class _BlockHasher:
    def __init__(self, *, height: int, previous_hash: str) -> None:
        self.height, self.previous_hash = height, previous_hash
        self.lines: list[bytes] = []
        self.first_id = self.last_id = 0

    def add(self, row: tuple[Any, ...]) -> None:
        if not self.lines:
            self.first_id = row[0]
        self.last_id = row[0]
        self.lines.append(transfer_canonical(row))

    @property
    def count(self) -> int:
        return len(self.lines)

    def hexdigest(self) -> str:
        digest = hashlib.sha256(HASH_VERSION)
        digest.update(f"{self.height}\n{self.previous_hash}\n{len(self.lines)}\n".encode())
        for line in self.lines:
            digest.update(line)
        return digest.hexdigest()


def _transfer_rows(*, after: int, up_to: int, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
    rows = Transfer.objects.filter(id__gt=after, id__lte=up_to).order_by("id").values_list(*SEALED_FIELDS)
    if limit is not None:
        yield from rows[:limit]
    else:
        yield from rows.iterator(chunk_size=10_000)


# --- sealing ---


def seal_horizon(*, wait: float | None = None) -> int | None:
    """The highest transfer id that can be sealed now: every transfer with an id up to it has
    committed, or never will. None when transactions that could still commit below it did not finish
    within `wait` seconds (SEAL_HORIZON_WAIT_SECONDS): the next run tries again.

    Transfer ids come from a sequence, drawn when a row is inserted, so a transaction that drew id 7
    may commit after another one committed id 8. Sealing up to 8 as soon as it is visible would skip 7
    for ever. Every INSERT into registry_transfer first takes the TRANSFER_INSERT advisory lock in
    share mode, for its transaction (a statement trigger, core.locks.share_lock_on_insert), before
    it draws any id. So:

    1. read M, the highest committed id; then
    2. list the transactions holding TRANSFER_INSERT now, and wait until each of them has ended.

    A transaction that drew an id below M drew it before M committed, so before step 1, and holds the
    lock from before it drew the id until it ends: at step 2 it has either ended or is on the list.
    After the wait, every id up to M is committed or rolled back.

    Why not take TRANSFER_INSERT in exclusive mode instead (one statement): a waiting exclusive
    request queues every new share request behind it, so each seal would stall all postings for as
    long as the longest open posting transaction, and a transaction that holds balance rows and asks
    for the share lock while another waits for those rows could deadlock with the sealer. Polling
    pg_locks stalls nobody; only the sealer waits. On SQLite one transaction writes at a time, so a
    committed id is never followed by a lower one: M is the horizon.
    """
    wait = settings.SEAL_HORIZON_WAIT_SECONDS if wait is None else wait
    highest = Transfer.objects.aggregate(highest=Max("id"))["highest"] or 0
    holders = advisory_lock_holders(TRANSFER_INSERT)
    if not advisory_wait_released(TRANSFER_INSERT, holders, timeout=wait):
        logger.warning("seal: %s transaction(s) that may still commit transfers did not end in %s s", len(holders), wait)
        return None
    return highest


@dataclass
class SealResult:
    blocks: list[SealBlock] = field(default_factory=list)
    horizon: int | None = None
    complete: bool = True  # False: stopped by the time budget, or the horizon could not be fixed

    @property
    def transfers_sealed(self) -> int:
        return sum(block.transfer_count for block in self.blocks)


def _blocks_build(rows: Iterable[tuple[Any, ...]], *, head: SealBlock | None, block_size: int) -> list[SealBlock]:
    height = head.height if head else 0
    previous_hash = head.block_hash if head else GENESIS_HASH
    sealed_at = timezone.now()
    blocks: list[SealBlock] = []
    hasher: _BlockHasher | None = None

    def close(hasher: _BlockHasher) -> SealBlock:
        return SealBlock(
            height=hasher.height, first_transfer_id=hasher.first_id, last_transfer_id=hasher.last_id,
            transfer_count=hasher.count, previous_hash=hasher.previous_hash, block_hash=hasher.hexdigest(),
            sealed_at=sealed_at,
        )

    for row in rows:
        if hasher is None:
            height += 1
            hasher = _BlockHasher(height=height, previous_hash=previous_hash)
        hasher.add(row)
        if hasher.count == block_size:
            blocks.append(close(hasher))
            previous_hash, hasher = blocks[-1].block_hash, None
    if hasher is not None:
        blocks.append(close(hasher))
    return blocks


def ledger_seal(*, block_size: int | None = None, time_budget: float | None = None, horizon_wait: float | None = None) -> SealResult:
    """Seals every transfer committed since the last block into new blocks of at most `block_size`
    (SEAL_BLOCK_SIZE) transfers, up to `seal_horizon()`. Idempotent, and safe to run concurrently:
    each transaction takes the LEDGER_SEAL lock, then reads the head, so two sealers extend one chain
    in turn (the unique height and previous hash refuse a fork in any case). Commits every
    BLOCKS_PER_TRANSACTION blocks; stops early (complete=False) once `time_budget` seconds have passed.
    """
    block_size = block_size or settings.SEAL_BLOCK_SIZE
    started = time.monotonic()
    result = SealResult(horizon=seal_horizon(wait=horizon_wait))
    if result.horizon is None:
        result.complete = False
        return result
    while True:
        with transaction.atomic():
            advisory_xact_lock(LEDGER_SEAL)
            head = SealBlock.objects.order_by("-height").first()
            after = head.last_transfer_id if head else 0
            rows = _transfer_rows(after=after, up_to=result.horizon, limit=block_size * BLOCKS_PER_TRANSACTION)
            blocks = _blocks_build(rows, head=head, block_size=block_size)
            if not blocks:
                return result
            SealBlock.objects.bulk_create(blocks)
            # Outside the database as soon as it is in it. Not robust on purpose: a head that cannot be
            # published fails the run loudly (the blocks stay committed; the next run publishes).
            transaction.on_commit(seal_head_publish)
            audit_record(
                actor=None, action="registry.seal", object_type="registry.sealblock", object_id=blocks[-1].height,
                after={
                    "heights": [blocks[0].height, blocks[-1].height],
                    "transfers": [blocks[0].first_transfer_id, blocks[-1].last_transfer_id],
                    "head_hash": blocks[-1].block_hash,
                },
            )
        result.blocks += blocks
        if time_budget is not None and time.monotonic() - started > time_budget:
            result.complete = False
            return result


# --- verification ---


@dataclass
class SealReport:
    ok: bool = True
    broken_height: int | None = None
    problem: str = ""
    blocks_checked: int = 0
    transfers_checked: int = 0
    head_height: int | None = None
    head_hash: str = ""
    unsealed: int = 0  # transfers after the last block


def ledger_seal_verify() -> SealReport:
    """Recomputes the chain from the transfers and reports the first block that does not hold: a
    transfer in it changed (hash), one is missing or was added (count, first/last id), the block
    itself was edited (hash, ids), or blocks were removed or reordered (height, previous hash).

    A chain rewritten consistently from some block to its head recomputes without fault; so the heads
    that earlier successful checks saw (SealCheck.head_hash) must still be in the chain, unchanged."""
    report = SealReport()
    blocks = list(
        SealBlock.objects.order_by("height").values_list(
            "height", "first_transfer_id", "last_transfer_id", "transfer_count", "previous_hash", "block_hash"
        )
    )
    sealed_up_to = max((block[2] for block in blocks), default=0)
    transfers = _transfer_rows(after=0, up_to=sealed_up_to)
    pending = next(transfers, None)
    previous_hash, previous_last = GENESIS_HASH, 0
    for expected_height, (height, first_id, last_id, count, stored_previous, stored_hash) in enumerate(blocks, start=1):
        hasher = _BlockHasher(height=height, previous_hash=stored_previous)
        while pending is not None and pending[0] <= last_id:
            hasher.add(pending)
            pending = next(transfers, None)
        report.transfers_checked += hasher.count
        problem = ""
        if height != expected_height:
            problem = f"height {height} where {expected_height} was expected: a block is missing or out of order"
        elif stored_previous != previous_hash:
            problem = f"its previous hash does not match block {height - 1}'s hash: a block was edited, removed or reordered"
        elif last_id <= previous_last:
            problem = f"its transfers end at id {last_id}, not after block {height - 1}'s ({previous_last})"
        elif hasher.count != count:
            problem = f"{hasher.count} transfers found where {count} were sealed: a transfer was deleted or added"
        elif (hasher.first_id, hasher.last_id) != (first_id, last_id):
            problem = (
                f"transfers {hasher.first_id}-{hasher.last_id} found where {first_id}-{last_id} were sealed: "
                "a transfer was deleted or added"
            )
        elif hasher.hexdigest() != stored_hash:
            problem = "the recomputed hash differs: a transfer in the block (or the block) was changed"
        if problem:
            report.ok, report.broken_height, report.problem = False, height, f"Block {height}: {problem}"
            return report
        report.blocks_checked += 1
        report.head_height, report.head_hash = height, stored_hash
        previous_hash, previous_last = stored_hash, last_id
    hashes = {block[0]: block[5] for block in blocks}
    for check_id, seen_height, seen_hash, seen_at in (
        SealCheck.objects.filter(ok=True, head_height__isnull=False)
        .order_by("head_height", "id").values_list("id", "head_height", "head_hash", "finished_at")
    ):
        if hashes.get(seen_height) != seen_hash:
            report.ok, report.broken_height = False, seen_height
            report.blocks_checked = seen_height - 1
            report.head_height = seen_height - 1 or None
            report.head_hash = hashes.get(seen_height - 1, "")
            report.problem = (
                f"Block {seen_height}: its hash is not the one check {check_id} saw on {seen_at:%Y-%m-%d %H:%M} UTC: "
                "the chain was rewritten from this block (or earlier) on"
            )
            return report
    report.unsealed = Transfer.objects.filter(id__gt=previous_last).count()
    return report


def seal_check_record(*, actor: Any = None, source: str) -> SealCheck:
    """Verifies the chain now and keeps the outcome (and the head it saw) as a SealCheck, audited."""
    started_at = timezone.now()
    report = ledger_seal_verify()
    with transaction.atomic():
        check = SealCheck.objects.create(
            started_at=started_at, finished_at=timezone.now(), ok=report.ok, broken_height=report.broken_height,
            problem=report.problem[:500], blocks_checked=report.blocks_checked,
            transfers_checked=report.transfers_checked, head_height=report.head_height, head_hash=report.head_hash,
            source=source, run_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor, action="registry.seal_check", obj=check,
            after={"ok": check.ok, "broken_height": check.broken_height, "head_height": check.head_height},
        )
    if not report.ok:
        logger.critical("SEAL CHAIN BROKEN: %s", report.problem)
    return check
