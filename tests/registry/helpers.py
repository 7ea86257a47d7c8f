"""Helpers of the ledger tests: read buckets, prove that a refused call wrote nothing, count audit events,
and fund accounts through the registry services (STYLE.md, rule 10: ledger state comes from services)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from core.models import AuditEvent
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.services import allowances_issue, cash_deposit, system_account, transfer_create

_bank_references = itertools.count(1)


def buckets(account: Account, asset: Asset) -> dict[str, int]:
    """The four buckets of one balance, read from the database (never from a possibly stale instance)."""
    return Balance.objects.values(*Bucket.values).get(account=account, asset=asset)


def zero(**amounts: int) -> dict[str, int]:
    """A bucket dict: zero everywhere except the buckets named, e.g. zero(available=60, reserved=40)."""
    return {bucket: amounts.get(bucket, 0) for bucket in Bucket.values}


def ledger_snapshot() -> tuple:
    """Everything a ledger write could change: every balance, every transfer, every audit event, every
    account status. Two equal snapshots mean nothing was written in between."""
    return (
        tuple(Balance.objects.order_by("pk").values_list("pk", *Bucket.values)),
        tuple(Transfer.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(Account.objects.order_by("pk").values_list("pk", "status", "status_reason")),
    )


@contextmanager
def refused(error_class: type[Exception], *, code: str | None = None, field: str | None = None) -> Iterator[pytest.ExceptionInfo]:
    """The block raises `error_class` (with this stable code and field, when given) and changes nothing:
    no transfer, no audit event, no balance or account status moved."""
    before = ledger_snapshot()
    with pytest.raises(error_class) as caught:
        yield caught
    if code is not None:
        assert caught.value.code == code
    if field is not None:
        assert caught.value.field == field
    assert ledger_snapshot() == before, "a refused call wrote to the ledger"


@dataclass
class AuditWatch:
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def event(self) -> AuditEvent:
        (event,) = self.events
        return event


@contextmanager
def one_audit_event(action: str, *, actor) -> Iterator[AuditWatch]:
    """The block writes exactly one audit event, with this action and this actor (None: the system)."""
    last_id = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    watch = AuditWatch()
    yield watch
    watch.events = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk"))
    assert [event.action for event in watch.events] == [action]
    event = watch.event
    if actor is None:
        assert event.actor_id is None and event.actor_label == "system"
    else:
        assert event.actor_id == actor.pk and event.actor_label == actor.get_username()


def transfers_since(last_id: int) -> list[Transfer]:
    return list(Transfer.objects.filter(pk__gt=last_id).order_by("pk"))


def last_transfer_id() -> int:
    return Transfer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def allowances_give(*, account: Account, asset: Asset, amount: int, regulator) -> Transfer:
    """Issues `amount` into the national issuance account and allocates it to `account`."""
    allowances_issue(asset=asset, amount=amount, actor=regulator, reference="test:issue")
    return transfer_create(
        source=system_account(Account.Kind.NATIONAL_ISSUANCE), destination=account, asset=asset, amount=amount,
        actor=regulator, kind=Transfer.Kind.ALLOCATION, reference="test:allocation",
    )


def cash_give(*, account: Account, amount: int, operator) -> Transfer:
    """Deposits `amount` fen into a trading funds account under a fresh bank reference."""
    return cash_deposit(account=account, amount=amount, bank_reference=f"TEST-BANK-{next(_bank_references)}", actor=operator)

