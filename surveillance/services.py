"""The exchange operator's decisions on alerts: dismiss with a reason, or escalate to the regulator.
Every step is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidInput, NotFound, PermissionDenied
from surveillance.models import Alert

DECISIONS = {"dismiss": Alert.Status.DISMISSED, "escalate": Alert.Status.ESCALATED}


def alert_decide(*, alert_id: int, decision: str, reason: str, actor: Any) -> Alert:
    if not actor.has_perm("surveillance.decide_alert"):
        raise PermissionDenied(_("Only the exchange operator decides on surveillance alerts."))
    status = DECISIONS.get(decision)
    if status is None:
        raise InvalidInput(_("Choose dismiss or escalate."), field="decision")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the decision."), field="reason")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(_("No such alert."), field="id")
        if alert.status != Alert.Status.OPEN:
            raise InvalidInput(_("This alert was already decided (%(status)s).") % {"status": alert.get_status_display()},
                               field="decision")
        alert.status, alert.decision_reason, alert.decided_by, alert.decided_at = status, reason, actor, timezone.now()
        alert.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
        audit_record(actor=actor, action=f"alert.{decision}", obj=alert, before={"status": Alert.Status.OPEN},
                     after={"status": status, "reason": reason})
    return alert
