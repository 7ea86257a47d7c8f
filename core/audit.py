"""The audit trail. Every service that changes state calls `audit_record` inside its transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.context import request_ip
from core.db import row_insert
from core.models import AuditEvent


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        # An audit row written outside the change's transaction could survive a rolled-back change.
        raise RuntimeError("audit_record must run inside the transaction of the change it records")


def _actor_fields(actor: Any) -> dict[str, Any]:
    user = actor if getattr(actor, "pk", None) else None
    return {"actor": user, "actor_label": user.get_username() if user else "system"}


def audit_record(**event: Any) -> AuditEvent:
    """Writes the audit event of a change (arguments as for `audit_event`) in its transaction."""
    return row_insert(audit_event(**event))


def audit_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """The audit event of a change, not yet written: `audit_record` writes it; a hot path may write it
    together with its own statements (core.db.row_insert_statement)."""
    _require_transaction()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEvent(
        created_at=timezone.now(),
        **_actor_fields(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        ip=request_ip.get(),
    )


def audit_record_many(
    *, actor: Any, action: str, objects: Iterable[models.Model], after: Callable[[Any], dict[str, Any] | None] | None = None
) -> int:
    """One audit event per object, as `audit_record` would write them, in one INSERT: for jobs that
    change thousands of rows in a transaction. `after(obj)` gives each event's after-state."""
    _require_transaction()
    now, who, ip = timezone.now(), _actor_fields(actor), request_ip.get()
    events = [
        AuditEvent(created_at=now, **who, action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk),
                   before=None, after=after(obj) if after else None, ip=ip)
        for obj in objects
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)
