"""Reads of enforcement and disclosure: what each user may see (a company its own decisions and
disclosures, a provincial regulator its province's, national regulators and auditors everything)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.selectors import organizations_visible_to, sees_all_organizations, user_organization_ids
from allocation.models import CompliancePeriod
from core.errors import NotFound
from core.models import AuditEvent
from enforcement.models import Decision, Disclosure, FraudCase


def decisions_visible_to(user: Any) -> QuerySet[Decision]:
    """Regulators and auditors: the decisions within their scope; a company's users: its own; anyone else: none."""
    rows = Decision.objects.select_related("organization", "period", "case", "target_period", "proposed_by", "decided_by")
    return _in_scope(rows, user, "enforcement.view_decision")


def _in_scope(rows: QuerySet, user: Any, permission: str) -> QuerySet:
    """Readers of enforcement (`permission`): the rows of the organizations within their scope; anyone
    else (a company's users, a verifier, the exchange operator): its own organizations' rows only."""
    if not getattr(user, "is_authenticated", False):
        return rows.none()
    if user.has_perm(permission):
        return rows if sees_all_organizations(user) else rows.filter(organization__in=organizations_visible_to(user))
    return rows.filter(organization_id__in=user_organization_ids(user))


def decision_get_for(user: Any, decision_id: int) -> Decision:
    decision = decisions_visible_to(user).filter(pk=decision_id).first()
    if decision is None:
        raise NotFound(_("No such decision."))
    return decision


def cases_visible_to(user: Any) -> QuerySet[FraudCase]:
    """Fraud cases, for those who read enforcement (regulators within their scope, auditors)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("enforcement.view_fraudcase"):
        return FraudCase.objects.none()
    return FraudCase.objects.select_related("organization", "period").filter(organization__in=organizations_visible_to(user))


def case_get_for(user: Any, case_id: int) -> FraudCase:
    case = cases_visible_to(user).filter(pk=case_id).first()
    if case is None:
        raise NotFound(_("No such case."))
    return case


def history(obj: Any) -> QuerySet[AuditEvent]:
    """An object's steps, oldest first, from the audit trail."""
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("id")


def halts_in_force(organization_ids: set[int] | None = None) -> dict[int, Decision]:
    """Approved production halts not lifted (a lift only proposed included), by organization: the flag
    regulators see."""
    rows = Decision.objects.filter(kind=Decision.Kind.PRODUCTION_HALT, status__in=Decision.IN_FORCE)
    if organization_ids is not None:
        rows = rows.filter(organization_id__in=organization_ids)
    return {decision.organization_id: decision for decision in rows.select_related("organization").order_by("id")}


def disclosures_visible_to(user: Any) -> QuerySet[Disclosure]:
    return _in_scope(Disclosure.objects.select_related("organization", "period"), user, "enforcement.view_disclosure")


def disclosure_get_for(user: Any, disclosure_id: int) -> Disclosure:
    disclosure = disclosures_visible_to(user).filter(pk=disclosure_id).first()
    if disclosure is None:
        raise NotFound(_("No such disclosure."))
    return disclosure


def disclosures_published(period: CompliancePeriod) -> QuerySet[Disclosure]:
    """The period's confirmed disclosures, shown to everyone on /disclosure/<period>/."""
    return (Disclosure.objects.filter(period=period, status=Disclosure.Status.PUBLISHED)
            .select_related("organization").order_by("organization__name", "organization__uscc"))


def decisions_to_approve(user: Any) -> list[Decision]:
    """Proposed decisions, and proposed lifts of halts, within the user's scope that someone else
    proposed: the checker's work."""
    if not user.has_perm("enforcement.approve_decision"):
        return []
    visible = decisions_visible_to(user)
    proposed = visible.filter(status=Decision.Status.PROPOSED).exclude(proposed_by=user)
    lifts = visible.filter(status=Decision.Status.LIFTING).exclude(lift_proposed_by=user)
    return list((proposed | lifts).order_by("id"))
