"""Serial blocks follow the ledger: a registry posting hook (registered in OffsetsConfig.ready) that,
in the posting's transaction, moves whole serial ranges for every transfer of an offset asset between
two accounts, and creates the block of an issuance. Bucket changes inside one account (reserve,
freeze ...) move no block: blocks belong to accounts, not buckets.

Which ranges move: the ones a service names (`serial_plan(ranges=...)`, a holder's choice), else the
oldest first (vintage, then serial number) among the blocks a service allows (`serial_plan(eligible=...)`,
compliance eligibility), else among all the account's blocks. A block is split where a movement takes
part of it; a moved range merges with an adjacent range of the same issuance at its destination.

Locking: every posting has already locked the balance rows of its accounts (registry.balances_lock),
so two postings never change one account's blocks at once; the blocks are locked again here anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from offsets.errors import SerialsRequired, SerialsUnavailable
from offsets.models import BlockMovement, Issuance, SerialBlock, serial_format
from registry.models import Asset, Transfer


@dataclass(frozen=True)
class SerialPlan:
    issuance: Issuance | None = None  # an issuance posting creates this issuance's block
    ranges: tuple[tuple[int, int], ...] | None = None  # movements take exactly these ranges
    eligible: Q | None = None  # movements take the oldest blocks that match (a SerialBlock filter)


_plan: ContextVar[SerialPlan | None] = ContextVar("offsets_serial_plan", default=None)


@contextmanager
def serial_plan(
    *, issuance: Issuance | None = None, ranges: list[tuple[int, int]] | None = None, eligible: Q | None = None
) -> Iterator[None]:
    """The postings made inside this block take their serial ranges as said here."""
    token = _plan.set(SerialPlan(issuance=issuance, ranges=tuple(ranges) if ranges is not None else None, eligible=eligible))
    try:
        yield
    finally:
        _plan.reset(token)


def on_posting(transfers: list[Transfer]) -> None:
    """The registry posting hook."""
    for transfer in transfers:
        if transfer.asset.kind != Asset.Kind.OFFSET:
            continue
        if transfer.source_id is None:
            _issue(transfer)
        elif transfer.source_id != transfer.destination_id:
            _move(transfer)


def _issue(transfer: Transfer) -> None:
    plan = _plan.get()
    issuance = plan.issuance if plan else None
    if issuance is None or issuance.quantity != transfer.amount or issuance.first_serial is None or issuance.last_serial is None:
        raise SerialsRequired(field="asset")
    SerialBlock.objects.create(issuance=issuance, asset_id=transfer.asset_id, account_id=transfer.destination_id,
                               first_serial=issuance.first_serial, last_serial=issuance.last_serial)
    BlockMovement.objects.create(transfer=transfer, issuance=issuance, first_serial=issuance.first_serial,
                                 last_serial=issuance.last_serial, source=None, destination_id=transfer.destination_id)


def _short(transfer: Transfer, held: int) -> SerialsUnavailable:
    return SerialsUnavailable(
        _("The account holds %(held)s t of %(asset)s in the serial ranges this movement may take, less than the %(needed)s t needed.")
        % {"held": f"{held:,}", "asset": transfer.asset.code, "needed": f"{transfer.amount:,}"},
        field="quantity",
    )


def _pieces(transfer: Transfer, blocks: list[SerialBlock], plan: SerialPlan | None) -> list[tuple[SerialBlock, int, int]]:
    """(block, first, last): the ranges the transfer takes, each inside one of the source's blocks."""
    if plan is not None and plan.ranges is not None:
        pieces = []
        for first, last in sorted(plan.ranges):
            block = next((b for b in blocks if b.first_serial <= first <= last <= b.last_serial), None)
            if block is None:
                raise SerialsUnavailable(
                    _("The account does not hold serial numbers %(first)s to %(last)s.")
                    % {"first": serial_format(first), "last": serial_format(last)}, field="blocks")
            pieces.append((block, first, last))
        chosen = sum(last - first + 1 for _block, first, last in pieces)
        overlapping = any(a[2] >= b[1] for a, b in zip(pieces, pieces[1:], strict=False))
        if chosen != transfer.amount or overlapping:
            raise SerialsUnavailable(
                _("The chosen serial ranges hold %(chosen)s t, not the %(needed)s t to move.")
                % {"chosen": f"{chosen:,}", "needed": f"{transfer.amount:,}"}, field="blocks")
        return pieces
    pieces, needed = [], transfer.amount
    for block in blocks:
        if not needed:
            break
        take = min(needed, block.quantity)
        pieces.append((block, block.first_serial, block.first_serial + take - 1))
        needed -= take
    if needed:
        raise _short(transfer, transfer.amount - needed)
    return pieces


def _move(transfer: Transfer) -> None:
    plan = _plan.get()
    blocks = SerialBlock.objects.select_for_update(of=("self",)).filter(account_id=transfer.source_id, asset_id=transfer.asset_id)
    if plan is not None and plan.ranges is None and plan.eligible is not None:
        blocks = blocks.filter(plan.eligible)
    held = list(blocks.order_by("issuance__vintage", "first_serial"))
    movements = []
    # Highest range first: a cut keeps a block's lower part in the same row, where the next ranges are.
    for block, first, last in sorted(_pieces(transfer, held, plan), key=lambda piece: -piece[1]):
        _cut(block, first, last)
        _land(block.issuance_id, transfer.asset_id, transfer.destination_id, first, last)
        movements.append(BlockMovement(transfer=transfer, issuance_id=block.issuance_id, first_serial=first, last_serial=last,
                                       source_id=transfer.source_id, destination_id=transfer.destination_id))
    BlockMovement.objects.bulk_create(movements)


def _cut(block: SerialBlock, first: int, last: int) -> None:
    """Takes [first, last] out of the block: the block shrinks, splits in two, or goes."""
    left = (block.first_serial, first - 1) if block.first_serial < first else None
    right = (last + 1, block.last_serial) if last < block.last_serial else None
    if left is None and right is None:
        block.delete()
        return
    keep = left or right
    assert keep is not None
    SerialBlock.objects.filter(pk=block.pk).update(first_serial=keep[0], last_serial=keep[1])
    block.first_serial, block.last_serial = keep
    if left is not None and right is not None:
        SerialBlock.objects.create(issuance_id=block.issuance_id, asset_id=block.asset_id, account_id=block.account_id,
                                   first_serial=right[0], last_serial=right[1])


def _land(issuance_id: int, asset_id: int, account_id: int, first: int, last: int) -> None:
    """Puts [first, last] into the account, merged with its adjacent ranges of the same issuance."""
    neighbours = {
        ("before" if block.last_serial == first - 1 else "after"): block
        for block in SerialBlock.objects.select_for_update().filter(
            Q(last_serial=first - 1) | Q(first_serial=last + 1), account_id=account_id, issuance_id=issuance_id)
    }
    before, after = neighbours.get("before"), neighbours.get("after")
    if after is not None:
        last = after.last_serial
        after.delete()  # first: its last serial becomes the merged block's
    if before is not None:
        SerialBlock.objects.filter(pk=before.pk).update(last_serial=last)
    else:
        SerialBlock.objects.create(issuance_id=issuance_id, asset_id=asset_id, account_id=account_id, first_serial=first, last_serial=last)
