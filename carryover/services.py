"""Writes of the carry-over cap (RULEBOOK.md, "2024-2026 rules"): compute, submit, approve, reject.

One national regulator computes a closed window's statements and submits them; another approves
(maker-checker). The approval reads the holdings again under the balance locks and moves what
exceeds each company's cap from `available` to `not_carried` in its own holding account (Transfer kind
`carry_over`, oldest vintage first): the allowances stay the company's and visible, but no service
moves anything out of `not_carried`, so they can be neither sold, transferred nor surrendered.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carryover import errors
from carryover.models import CarryOverLine, CarryOverWindow
from carryover.selectors import (
    carry_over_cap,
    transfer_reference,
    window_figures,
    window_parameters,
    window_periods,
    window_vintages,
)
from core.audit import audit_record
from core.db import rows_update
from core.errors import InvalidInput, PermissionDenied
from registry.models import Account, Bucket, Transfer
from registry.services import Movement, balances_lock, ledger_post

LINES_PER_INSERT = 2000


def _require(actor: Any, permission: str) -> None:
    if not (getattr(actor, "pk", None) and actor.is_active and actor.has_perm(permission)):
        raise PermissionDenied()


def _locked_window(window: CarryOverWindow, *, status: str) -> CarryOverWindow:
    locked = CarryOverWindow.objects.select_for_update(no_key=True).get(pk=window.pk)
    if locked.status != status:
        raise errors.WindowNotInState(_("Carry-over %(code)s is %(status)s.") % {
            "code": locked.code, "status": str(locked.get_status_display()).lower()})
    return locked


def carryover_compute(*, window: CarryOverWindow, actor: Any) -> CarryOverWindow:
    """Computes every key emitting unit's statement for a closed window (its periods all closed),
    replacing an earlier draft computation. Nothing moves in the ledger until a second regulator approves."""
    _require(actor, "carryover.add_carryoverwindow")
    periods = list(window_periods(window))
    if not periods:
        raise InvalidInput(_("No compliance period lies within %(first)s-%(last)s.") % {
            "first": window.first_year, "last": window.last_year}, field="window")
    still_open = [period.code for period in periods if period.status != period.Status.CLOSED]
    if still_open:
        raise errors.WindowStillOpen(_("The window has not closed: %(periods)s not yet closed by the deadline job.") % {
            "periods": ", ".join(still_open)}, field="window")
    vintages = window_vintages(window)
    with transaction.atomic():
        window = _locked_window(window, status=CarryOverWindow.Status.DRAFT)
        figures = window_figures(window, vintages)
        lines = []
        for company in figures.values():
            cap = carry_over_cap(base_tonnes=window.base_tonnes, sales_multiplier=window.sales_multiplier,
                                 net_sales=company.net_sales)
            lines.append(CarryOverLine(
                window=window, organization_id=company.organization_id, sold=company.sold, bought=company.bought,
                net_sales=company.net_sales, cap=cap, holding=company.holding, excess=max(0, company.holding - cap)))
        window.lines.all().delete()
        CarryOverLine.objects.bulk_create(lines, batch_size=LINES_PER_INSERT)
        window.computed_by, window.computed_at = actor, timezone.now()
        window.computed_parameters = window_parameters(window)
        window.save(update_fields=["computed_by", "computed_at", "computed_parameters"])
        audit_record(actor=actor, action="carryover.compute", obj=window, after={
            **window.computed_parameters, "vintages": [asset.code for asset in vintages], "companies": len(lines),
            "above_cap": sum(1 for line in lines if line.excess), "excess": sum(line.excess for line in lines)})
    return window


def carryover_submit(*, window: CarryOverWindow, actor: Any, reason: str = "") -> CarryOverWindow:
    """The maker submits the computed statements for a second regulator's approval."""
    _require(actor, "carryover.add_carryoverwindow")
    reason = (reason or "").strip()[:500]
    with transaction.atomic():
        window = _locked_window(window, status=CarryOverWindow.Status.DRAFT)
        if window.computed_at is None:
            raise errors.WindowNotInState(_("Compute the statements before submitting them."), field="window")
        if window.computed_parameters != window_parameters(window):
            raise errors.ComputationStale(field="window")
        window.status, window.submitted_by, window.submission_reason = CarryOverWindow.Status.SUBMITTED, actor, reason
        window.save(update_fields=["status", "submitted_by", "submission_reason"])
        audit_record(actor=actor, action="carryover.submit", obj=window, before={"status": CarryOverWindow.Status.DRAFT},
                     after={"status": window.status, "reason": reason})
    return window


def _check_checker(window: CarryOverWindow, actor: Any) -> None:
    if actor.pk in (window.computed_by_id, window.submitted_by_id):
        raise errors.SameRegulator()


def carryover_reject(*, window: CarryOverWindow, actor: Any, reason: str) -> CarryOverWindow:
    """A checker sends a submitted computation back to draft, with the reason (the maker may compute again)."""
    _require(actor, "carryover.approve_carryoverwindow")
    reason = (reason or "").strip()[:500]
    if not reason:
        raise InvalidInput(_("Give the reason for this action."), field="reason")
    with transaction.atomic():
        window = _locked_window(window, status=CarryOverWindow.Status.SUBMITTED)
        _check_checker(window, actor)
        window.status, window.decision_reason = CarryOverWindow.Status.DRAFT, reason
        window.save(update_fields=["status", "decision_reason"])
        audit_record(actor=actor, action="carryover.reject", obj=window, before={"status": CarryOverWindow.Status.SUBMITTED},
                     after={"status": window.status, "reason": reason})
    return window


def carryover_approve(*, window: CarryOverWindow, actor: Any, reason: str = "") -> CarryOverWindow:
    """The checker's approval: in one transaction, reads each company's holding of the window's
    vintages again under the balance locks and marks what exceeds its cap as not carried over
    (available -> not_carried, oldest vintage first). Only available allowances can be marked: what
    open orders reserve, what is pending T+1 or frozen stays unmarked, and the line says how much."""
    _require(actor, "carryover.approve_carryoverwindow")
    reason = (reason or "").strip()[:500]
    with transaction.atomic():
        window = _locked_window(window, status=CarryOverWindow.Status.SUBMITTED)
        _check_checker(window, actor)
        vintages = window_vintages(window)
        lines = list(window.lines.all())
        accounts = dict(Account.objects.filter(kind=Account.Kind.HOLDING, organization_id__in=[line.organization_id for line in lines])
                        .values_list("organization_id", "pk"))
        keys = [(account_id, asset.pk) for account_id in accounts.values() for asset in vintages]
        locked = balances_lock(keys) if keys else {}
        reference = transfer_reference(window)
        memo = _("Above the carry-over cap of %(code)s") % {"code": window.code}
        movements = []
        for line in lines:
            account_id = accounts.get(line.organization_id)
            balances = [locked[(account_id, asset.pk)] for asset in vintages] if account_id else []
            line.holding_at_approval = sum(b.available + b.reserved + b.pending + b.frozen for b in balances)
            to_mark = max(0, line.holding_at_approval - line.cap)
            line.not_carried = 0
            for balance, asset in zip(balances, vintages, strict=True):
                amount = min(balance.available, to_mark - line.not_carried)
                if amount <= 0 or balance.account.status == Account.Status.CLOSED:
                    continue
                movements.append(Movement(kind=Transfer.Kind.CARRY_OVER, asset=asset, amount=amount, source=balance.account,
                                          source_bucket=Bucket.AVAILABLE, destination=balance.account,
                                          destination_bucket=Bucket.NOT_CARRIED, reference=reference, memo=memo))
                line.not_carried += amount
            line.unmarked = to_mark - line.not_carried
        ledger_post(movements, actor=actor, locked=locked)
        for start in range(0, len(lines), LINES_PER_INSERT):  # (one UPDATE per chunk: bulk_update took 8 s for 5,000)
            rows_update(lines[start : start + LINES_PER_INSERT], ["holding_at_approval", "not_carried", "unmarked"])
        window.status, window.decided_by, window.decided_at = CarryOverWindow.Status.APPROVED, actor, timezone.now()
        window.decision_reason = reason
        window.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit_record(actor=actor, action="carryover.approve", obj=window, before={"status": CarryOverWindow.Status.SUBMITTED},
                     after={"status": window.status, "reason": reason, "transfers": len(movements),
                            "not_carried": sum(line.not_carried for line in lines),
                            "unmarked": sum(line.unmarked for line in lines),
                            "companies_marked": sum(1 for line in lines if line.not_carried)})
    return window
