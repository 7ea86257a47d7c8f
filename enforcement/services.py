"""Writes of enforcement and disclosure (RULEBOOK.md: 2024-2026 rules, Enforcement).

A decision is proposed by one regulator and approved or rejected by another (maker-checker, like
allocation plans): the amount is checked against its range when proposed and again when approved,
and approval carries the decision out in the same transaction (a forced surrender through the
registry, an allocation cut entered for the next period's plans, the production-halt flag). Fines
are recorded decisions; they are paid outside the registry, so no ledger value moves for them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.selectors import organization_in_scope
from allocation.models import CompliancePeriod
from allocation.services import allocation_cut_enter, deductions_reduce
from compliance.models import ComplianceResult, Surrender
from compliance.services import officer_unit
from core.audit import audit_record
from core.errors import InsufficientBalance, InvalidInput, NotEligible, PermissionDenied
from enforcement import errors
from enforcement.models import Decision, Disclosure, FraudCase
from registry.models import Account, Asset, Balance
from registry.services import MAX_AMOUNT, allowances_retire

Kind = Decision.Kind
FRAUD_KINDS = {Kind.CONFISCATION, Kind.FRAUD_FINE, Kind.INDIVIDUAL_FINE, Kind.ALLOCATION_CUT}
NON_COMPLIANCE_KINDS = {Kind.FORCED_SURRENDER, Kind.NON_SURRENDER_FINE, Kind.PRODUCTION_HALT}
AMOUNT_KINDS = {Kind.NON_SURRENDER_FINE, Kind.CONFISCATION, Kind.FRAUD_FINE, Kind.INDIVIDUAL_FINE}  # in fen


def _require(actor: Any, permission: str) -> None:
    if not (getattr(actor, "pk", None) and actor.is_active and actor.has_perm(permission)):
        raise PermissionDenied()


def _require_scope(actor: Any, organization: Organization) -> None:
    if not organization_in_scope(actor, organization):
        raise PermissionDenied(_("%(name)s is outside your province.") % {"name": organization.name})


# --- fraud cases ---


def case_open(*, actor: Any, organization: Organization, subject: str, period: CompliancePeriod, summary: str,
              gains: Any = 0) -> FraudCase:
    """Opens a data-fraud case (Art. 22) against a covered company or a verifier, with the gains established (fen)."""
    _require(actor, "enforcement.add_fraudcase")
    _require_scope(actor, organization)
    if subject not in FraudCase.Subject.values:
        raise InvalidInput(_("Choose whether the case is against a covered company or a verifier."), field="subject")
    if subject == FraudCase.Subject.COMPANY and organization.kind != Organization.Kind.KEY_EMITTING_UNIT:
        raise InvalidInput(_("%(name)s is not a key emitting unit.") % {"name": organization.name}, field="organization")
    if subject == FraudCase.Subject.VERIFIER and organization.kind != Organization.Kind.INSTITUTION:
        raise InvalidInput(_("%(name)s is not a verification body.") % {"name": organization.name}, field="organization")
    if isinstance(gains, bool) or not isinstance(gains, int) or not 0 <= gains <= MAX_AMOUNT:
        raise InvalidInput(_("The gains must be a whole number of fen, 0 or more."), field="gains")
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput(_("Describe what was falsified."), field="summary")
    with transaction.atomic():
        case = FraudCase.objects.create(organization=organization, subject=subject, period=period, summary=summary,
                                        gains=gains, opened_by=actor)
        audit_record(actor=actor, action="fraud_case.open", obj=case,
                     after={"uscc": organization.uscc, "subject": subject, "period": period.code, "gains": gains})
    return case


def case_close(*, actor: Any, case: FraudCase, note: str = "") -> FraudCase:
    """Closes an open case, with the reason: a regulator other than the one who opened it (no one
    both opens and closes a case). A closed case takes no new decisions (`case_required`)."""
    _require(actor, "enforcement.add_fraudcase")
    _require_scope(actor, case.organization)
    if actor.pk == case.opened_by_id:
        raise errors.SameRegulator(_("A case is closed by a regulator other than the one who opened it."))
    note = _reason(note, _("Give the reason the case is closed."))
    with transaction.atomic():
        if not FraudCase.objects.filter(pk=case.pk, status=FraudCase.Status.OPEN).update(status=FraudCase.Status.CLOSED):
            raise errors.DecisionNotInState(_("Case %(id)s is already closed.") % {"id": case.pk})
        audit_record(actor=actor, action="fraud_case.close", obj=case, before={"status": FraudCase.Status.OPEN},
                     after={"status": FraudCase.Status.CLOSED, "note": note})
    case.refresh_from_db()
    return case


# --- ranges ---


def _fen(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise InvalidInput(_("Give a positive whole amount."), field=field)
    return value


def _result(organization: Organization, period: CompliancePeriod) -> ComplianceResult:
    result = ComplianceResult.objects.filter(organization=organization, period=period).first()
    if result is None or result.status != ComplianceResult.Status.B or result.shortfall <= 0:
        raise errors.NotNonCompliant(
            _("%(name)s has no shortfall for %(period)s (the deadline job has not found one).") % {
                "name": organization.name, "period": period}, field="organization")
    return result


def fraud_fine_range(gains: int) -> tuple[int, int]:
    """Art. 22: 5 to 10 x the gains; without gains or below the threshold, the fixed range (fen)."""
    if gains and gains >= settings.ENFORCEMENT_FRAUD_GAINS_THRESHOLD:
        low, high = settings.ENFORCEMENT_FRAUD_FINE_MULTIPLE
        return low * gains, high * gains
    return settings.ENFORCEMENT_FRAUD_FINE_FIXED


def holdings_available(organization: Organization, period: CompliancePeriod) -> list[tuple[Asset, int]]:
    """The allowances a forced surrender may take from the company, in the order it takes them: the
    period's own vintages first (those of its years), then its other eligible vintages, newest first
    within each; only the available bucket (never what is reserved for orders, pending or frozen)."""
    years = {str(year) for year in range(period.first_year, period.last_year + 1)} | {period.code}
    holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
    if holding is None:
        return []
    available = dict(Balance.objects.filter(account=holding, asset__in=period.vintages.all(), available__gt=0)
                     .values_list("asset_id", "available"))
    assets = list(period.vintages.filter(pk__in=available))
    own = [a for a in assets if a.vintage in years]
    other = [a for a in assets if a.vintage not in years]
    ordered = sorted(own, key=lambda a: a.code, reverse=True) + sorted(other, key=lambda a: a.code, reverse=True)
    return [(asset, available[asset.pk]) for asset in ordered]


def _check(decision: Decision) -> None:
    """Checks a decision's figures against its kind's range and records the range on it (not saved)."""
    kind, organization, period = decision.kind, decision.organization, decision.period
    if kind in NON_COMPLIANCE_KINDS:
        result = _result(organization, period)
    if kind in FRAUD_KINDS:
        case = decision.case
        if case is None or case.status != FraudCase.Status.OPEN or case.organization_id != organization.pk:
            raise errors.CaseRequired(field="case")
    if kind == Kind.FORCED_SURRENDER:
        quantity = _fen(decision.quantity, "quantity")
        available = sum(amount for _asset, amount in holdings_available(organization, period))
        decision.range_low, decision.range_high = 1, result.shortfall
        if quantity > result.shortfall:
            raise errors.AmountOutOfRange(_("A forced surrender may take at most the shortfall, %(shortfall)s t.") % {
                "shortfall": f"{result.shortfall:,}"}, field="quantity")
        if quantity > available:
            raise InsufficientBalance(_("%(name)s holds %(available)s t of the period's eligible allowances available.") % {
                "name": organization.name, "available": f"{available:,}"}, field="quantity")
    elif kind == Kind.NON_SURRENDER_FINE:
        if not result.fine_basis_high:
            raise errors.NoFineBasis(field="amount")
        _in_range(_fen(decision.amount, "amount"), result.fine_basis_low, result.fine_basis_high, decision)
    elif kind == Kind.PRODUCTION_HALT:
        open_halts = Decision.objects.filter(organization=organization, kind=Kind.PRODUCTION_HALT,
                                             status__in=[Decision.Status.PROPOSED, *Decision.IN_FORCE])
        if open_halts.exclude(pk=decision.pk).exists():
            raise errors.AlreadyHalted(field="organization")
    elif kind == Kind.CONFISCATION:
        if not decision.case.gains:
            raise errors.AmountOutOfRange(_("The case established no gains to confiscate."), field="amount")
        _in_range(_fen(decision.amount, "amount"), decision.case.gains, decision.case.gains, decision)
    elif kind == Kind.FRAUD_FINE:
        _in_range(_fen(decision.amount, "amount"), *fraud_fine_range(decision.case.gains), decision)
    elif kind == Kind.INDIVIDUAL_FINE:
        if not decision.individual_name.strip():
            raise InvalidInput(_("Name the responsible individual."), field="individual_name")
        _in_range(_fen(decision.amount, "amount"), *settings.ENFORCEMENT_INDIVIDUAL_FINE, decision)
    elif kind == Kind.ALLOCATION_CUT:
        if decision.case.subject != FraudCase.Subject.COMPANY:
            raise errors.CaseRequired(_("Only a covered company's allocation can be cut."), field="case")
        if decision.target_period is None or decision.target_period.first_year <= period.last_year:
            raise errors.NoNextPeriod(field="target_period")
        low, high = settings.ENFORCEMENT_ALLOCATION_CUT_PERCENT
        percent = decision.percent
        decision.range_low, decision.range_high = low, high
        if percent is None or not low <= percent <= high:
            raise errors.AmountOutOfRange(_("The cut must be %(low)s to %(high)s percent of the allocation.") % {
                "low": low, "high": high}, field="percent")
    else:
        raise InvalidInput(_("Unknown decision kind %(kind)s.") % {"kind": repr(kind)}, field="kind")


def _in_range(amount: int, low: int, high: int, decision: Decision) -> None:
    decision.range_low, decision.range_high = low, high
    if not low <= amount <= high:
        raise errors.AmountOutOfRange(
            _("The amount must lie between %(low)s and %(high)s CNY.") % {"low": _yuan(low), "high": _yuan(high)},
            field="amount")


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def percent_parse(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(_("Give the share as a number of percent."), field="percent") from None
    if not percent.is_finite() or percent != percent.quantize(Decimal("0.01")):
        raise InvalidInput(_("Give the share as a number of percent, with at most two decimals."), field="percent")
    return percent


# --- decisions ---


def next_period_of(period: CompliancePeriod) -> CompliancePeriod | None:
    return CompliancePeriod.objects.filter(first_year__gt=period.last_year).order_by("first_year").first()


def decision_propose(
    *, actor: Any, kind: str, organization: Organization, period: CompliancePeriod, legal_basis: str, facts: str = "",
    amount: Any = None, quantity: Any = None, percent: Any = None, individual_name: str = "",
    case: FraudCase | None = None, target_period: CompliancePeriod | None = None,
) -> Decision:
    """The maker's proposal, checked against its range; nothing is carried out until a second
    regulator approves it."""
    _require(actor, "enforcement.add_decision")
    _require_scope(actor, organization)
    if kind not in Kind.values:
        raise InvalidInput(_("Unknown decision kind %(kind)s.") % {"kind": repr(kind)}, field="kind")
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise InvalidInput(_("Give the legal basis of the decision."), field="legal_basis")
    if kind in FRAUD_KINDS and case is not None:
        period = case.period
    if kind == Kind.ALLOCATION_CUT and target_period is None:
        target_period = next_period_of(period)
    decision = Decision(
        kind=kind, organization=organization, period=period, case=case if kind in FRAUD_KINDS else None,
        legal_basis=legal_basis[:500], facts=(facts or "").strip(), amount=amount if kind in AMOUNT_KINDS else None,
        quantity=quantity if kind == Kind.FORCED_SURRENDER else None,
        percent=percent_parse(percent) if kind == Kind.ALLOCATION_CUT else None,
        individual_name=(individual_name or "").strip()[:200] if kind == Kind.INDIVIDUAL_FINE else "",
        target_period=target_period if kind == Kind.ALLOCATION_CUT else None, proposed_by=actor,
    )
    with transaction.atomic():
        # One proposal at a time per organization: the halt check and the range see the same state.
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        _check(decision)
        decision.save()
        audit_record(actor=actor, action="decision.propose", obj=decision, after=_facts(decision))
    return decision


def _facts(decision: Decision) -> dict[str, Any]:
    return {"kind": decision.kind, "uscc": decision.organization.uscc, "period": decision.period.code,
            "case": decision.case_id, "legal_basis": decision.legal_basis, "amount": decision.amount,
            "quantity": decision.quantity, "percent": str(decision.percent) if decision.percent is not None else None,
            "individual": decision.individual_name or None, "range": [decision.range_low, decision.range_high],
            "target_period": decision.target_period.code if decision.target_period else None}


def _checker(decision: Decision, actor: Any) -> None:
    _require(actor, "enforcement.approve_decision")
    _require_scope(actor, decision.organization)
    if actor.pk == decision.proposed_by_id:
        raise errors.SameRegulator()


def _transition(decision: Decision, *, from_status: str, **changes: Any) -> None:
    if not Decision.objects.filter(pk=decision.pk, status=from_status).update(**changes):
        raise errors.DecisionNotInState(_("Decision %(id)s is not %(status)s.") % {
            "id": decision.pk, "status": Decision.Status(from_status).label})


def decision_approve(*, actor: Any, decision: Decision, note: str = "") -> Decision:
    """The checker's approval: the range is checked again against today's facts and the decision is
    carried out in the same transaction; only one of two racing approvals wins."""
    _checker(decision, actor)
    note = (note or "").strip()[:500]
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).filter(pk=decision.organization_id).first()
        _transition(decision, from_status=Decision.Status.PROPOSED, status=Decision.Status.APPROVED, decided_by=actor,
                    decided_at=timezone.now(), decision_note=note)
        decision.refresh_from_db()
        _check(decision)
        done: dict[str, Any] = {}
        if decision.kind == Kind.FORCED_SURRENDER:
            done = _forced_surrender(decision, actor)
        elif decision.kind == Kind.ALLOCATION_CUT:
            cut = allocation_cut_enter(organization=decision.organization, period=decision.target_period,
                                       percent=decision.percent, reason=f"{decision.reference}: {decision.legal_basis}"[:500],
                                       actor=actor)
            decision.allocation_cut = cut
            done = {"allocation_cut": cut.pk}
        Decision.objects.filter(pk=decision.pk).update(range_low=decision.range_low, range_high=decision.range_high,
                                                       allocation_cut=decision.allocation_cut)
        audit_record(actor=actor, action="decision.approve", obj=decision, before={"status": Decision.Status.PROPOSED},
                     after={"status": Decision.Status.APPROVED, "note": note, **_facts(decision), **done})
    decision.refresh_from_db()
    return decision


def _forced_surrender(decision: Decision, actor: Any) -> dict[str, Any]:
    """Surrenders the decision's quantity from the company's available eligible allowances (the
    period's own vintages first) into the retirement account: one registry surrender and one
    Surrender row per vintage, named by the decision's reference. The compliance result's shortfall
    falls by as much, and so does what the next period's allocation still has to withhold for it."""
    organization, period, left = decision.organization, decision.period, decision.quantity
    holding = Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)
    surrenders = []
    for asset, available in holdings_available(organization, period):
        if not left:
            break
        take = min(left, available)
        reference = f"{decision.reference}:{asset.code}"
        transfer = allowances_retire(account=holding, asset=asset, amount=take, actor=actor, reference=reference,
                                     audited_by_caller=True)
        surrenders.append(Surrender.objects.create(period=period, organization=organization, asset=asset, quantity=take,
                                                   client_request_id=reference, transfer=transfer, created_by=actor))
        left -= take
    if left:
        raise InsufficientBalance(field="quantity")
    result = ComplianceResult.objects.select_for_update().get(period=period, organization=organization)
    ComplianceResult.objects.filter(pk=result.pk).update(
        surrendered_allowances=result.surrendered_allowances + decision.quantity, shortfall=result.shortfall - decision.quantity)
    following = next_period_of(period)
    reduced = deductions_reduce(organization=organization, period=following, tonnes=decision.quantity,
                                reason=f"{decision.reference}: forced surrender", actor=actor) if following else 0
    return {"surrenders": [{"asset": s.asset.code, "quantity": s.quantity, "transfer": s.transfer_id} for s in surrenders],
            "shortfall_after": result.shortfall - decision.quantity, "deduction_reduced": reduced}


def _reason(note: Any, message: str) -> str:
    """The reason given for a step, stripped and cut to 500 characters; refused when blank."""
    note = (note or "").strip()[:500]
    if not note:
        raise InvalidInput(message, field="note")
    return note


def _step(decision: Decision, actor: Any, action: str, *, from_status: str, to_status: str, note: str,
          **changes: Any) -> Decision:
    """Moves the decision from `from_status` (refused if it has left it: a racing step won) to
    `to_status` with its audit event, in one transaction."""
    with transaction.atomic():
        _transition(decision, from_status=from_status, status=to_status, **changes)
        audit_record(actor=actor, action=action, obj=decision, before={"status": from_status},
                     after={"status": to_status, "note": note})
    decision.refresh_from_db()
    return decision


def decision_reject(*, actor: Any, decision: Decision, note: str) -> Decision:
    _checker(decision, actor)
    note = _reason(note, _("Give the reason for the rejection."))
    return _step(decision, actor, "decision.reject", from_status=Decision.Status.PROPOSED, to_status=Decision.Status.REJECTED,
                 note=note, decided_by=actor, decided_at=timezone.now(), decision_note=note)


def halt_lift_propose(*, actor: Any, decision: Decision, note: str) -> Decision:
    """Proposes lifting an approved production halt (the company has complied), with the reason; the
    halt stays in force until a second regulator approves the lift (`halt_lift`). Audited."""
    _require(actor, "enforcement.approve_decision")
    _require_scope(actor, decision.organization)
    if decision.kind != Kind.PRODUCTION_HALT:
        raise errors.DecisionNotInState(_("Only a production halt can be lifted."))
    note = _reason(note, _("Give the reason the halt is lifted."))
    return _step(decision, actor, "decision.lift_propose", from_status=Decision.Status.APPROVED,
                 to_status=Decision.Status.LIFTING, note=note, lift_proposed_by=actor, lift_proposed_at=timezone.now(),
                 lift_note=note)


def _lift_checker(decision: Decision, actor: Any) -> None:
    _require(actor, "enforcement.approve_decision")
    _require_scope(actor, decision.organization)
    if actor.pk == decision.lift_proposed_by_id:
        raise errors.SameRegulator(_("A lift must be approved or rejected by a regulator other than the one who proposed it."))


def halt_lift(*, actor: Any, decision: Decision, note: str = "") -> Decision:
    """The second regulator's approval of a proposed lift: the halt ends. Audited."""
    _lift_checker(decision, actor)
    return _step(decision, actor, "decision.lift", from_status=Decision.Status.LIFTING, to_status=Decision.Status.LIFTED,
                 note=(note or "").strip()[:500], lifted_by=actor, lifted_at=timezone.now())


def halt_lift_reject(*, actor: Any, decision: Decision, note: str) -> Decision:
    """The second regulator refuses a proposed lift, with the reason: the halt stays in force. Audited."""
    _lift_checker(decision, actor)
    note = _reason(note, _("Give the reason for the rejection."))
    return _step(decision, actor, "decision.lift_reject", from_status=Decision.Status.LIFTING,
                 to_status=Decision.Status.APPROVED, note=note, lift_proposed_by=None, lift_proposed_at=None, lift_note="")


# --- disclosure (Art. 11) ---


def disclosure_submit(*, user: Any, period: CompliancePeriod, emissions: Any, facilities: str, methods: str) -> Disclosure:
    """The company's compliance officer submits (or, when returned or still awaiting confirmation,
    corrects) its disclosure for a period; a published one is final."""
    organization = officer_unit(user, "enforcement.add_disclosure", _("disclose emissions"))
    if organization.kind != Organization.Kind.KEY_EMITTING_UNIT:
        raise NotEligible(_("Only covered companies disclose."))
    if isinstance(emissions, bool) or not isinstance(emissions, int) or not 0 <= emissions <= MAX_AMOUNT:
        raise InvalidInput(_("The emissions must be a whole number of tonnes, 0 or more."), field="emissions")
    facilities, methods = (facilities or "").strip(), (methods or "").strip()
    if not facilities:
        raise InvalidInput(_("List the emitting facilities."), field="facilities")
    if not methods:
        raise InvalidInput(_("Describe the monitoring and calculation methods."), field="methods")
    values = {"emissions": emissions, "facilities": facilities, "methods": methods, "status": Disclosure.Status.SUBMITTED,
              "submitted_by": user, "submitted_at": timezone.now(), "return_note": ""}
    with transaction.atomic():
        existing = Disclosure.objects.select_for_update().filter(period=period, organization=organization).first()
        if existing is not None and existing.status == Disclosure.Status.PUBLISHED:
            raise errors.DisclosureNotInState(_("The %(period)s disclosure is published and final.") % {"period": period})
        if existing is None:
            disclosure = Disclosure.objects.create(period=period, organization=organization, **values)
        else:
            Disclosure.objects.filter(pk=existing.pk).update(**values)
            disclosure = Disclosure.objects.get(pk=existing.pk)
        audit_record(actor=user, action="disclosure.submit", obj=disclosure,
                     before={"status": existing.status, "emissions": existing.emissions} if existing else None,
                     after={"period": period.code, "emissions": emissions, "status": Disclosure.Status.SUBMITTED})
    return disclosure


def disclosure_confirm(*, actor: Any, disclosure: Disclosure) -> Disclosure:
    """A regulator of the company's scope confirms the disclosure: it is published on /disclosure/."""
    return _disclosure_decide(actor, disclosure, "disclosure.confirm", status=Disclosure.Status.PUBLISHED, confirmed_by=actor,
                              confirmed_at=timezone.now())


def disclosure_return(*, actor: Any, disclosure: Disclosure, note: str) -> Disclosure:
    """A regulator returns the disclosure with what the company must correct; it submits it again."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say what the company must correct."), field="note")
    return _disclosure_decide(actor, disclosure, "disclosure.return", status=Disclosure.Status.RETURNED, return_note=note[:500])


def _disclosure_decide(actor: Any, disclosure: Disclosure, action: str, **changes: Any) -> Disclosure:
    _require(actor, "enforcement.confirm_disclosure")
    _require_scope(actor, disclosure.organization)
    with transaction.atomic():
        if not Disclosure.objects.filter(pk=disclosure.pk, status=Disclosure.Status.SUBMITTED).update(**changes):
            raise errors.DisclosureNotInState()
        audit_record(actor=actor, action=action, obj=disclosure, before={"status": Disclosure.Status.SUBMITTED},
                     after={"status": changes["status"], "note": changes.get("return_note", "")})
    disclosure.refresh_from_db()
    return disclosure
