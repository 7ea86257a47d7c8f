"""Closing an account, maker-checker: one regulator proposes it with the reason, another approves
(the account closes: registry.services.account_close, which cancels what it holds not carried over)
or rejects it with a reason. Nothing closes on one person's word.

The account must be empty (but for allowances not carried over) when the closing is proposed, and is
checked again, under its lock, when it is approved."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import AccountNotEmpty, ClosureDecided, ClosureMakerChecker, ClosurePending, InvalidInput
from registry.models import Account, AccountClosure, Balance
from registry.selectors import accounts_visible_to
from registry.services import account_close, require_account_in_scope, require_permission, require_reason

PERMISSION = "registry.freeze_holdings"


def closure_propose(*, account: Account, reason: str, actor: Any) -> AccountClosure:
    """A regulator proposes closing an account of its scope; another decides."""
    require_permission(actor, PERMISSION)
    require_account_in_scope(actor, account)
    reason = require_reason(reason)[:500]
    if account.kind not in Account.ORGANIZATION_KINDS:
        raise InvalidInput(_("Only a company's holding and trading funds accounts close."), field="account")
    if account.status == Account.Status.CLOSED:
        raise InvalidInput(_("Account %(account)s is already closed.") % {"account": account.number}, field="account")
    held = [balance for balance in Balance.objects.filter(account=account).select_related("asset") if balance.live]
    if held:
        raise AccountNotEmpty(_("Account %(account)s still holds %(assets)s: it closes once they have left it.") % {
            "account": account.number, "assets": ", ".join(balance.asset.code for balance in held)}, field="account")
    try:
        with transaction.atomic():
            closure = AccountClosure.objects.create(account=account, reason=reason, proposed_by=actor)
            audit_record(actor=actor, action="account.close_propose", obj=closure,
                         after={"account": account.number, "status": closure.status, "reason": reason})
    except IntegrityError:
        raise ClosurePending(_("A closing of account %(account)s is already proposed.") % {"account": account.number},
                             field="account") from None
    return closure


def _decide(closure: AccountClosure, actor: Any) -> AccountClosure:
    """The proposed closing, locked, if `actor` may decide it (inside the caller's transaction)."""
    require_permission(actor, PERMISSION)
    locked = AccountClosure.objects.select_for_update(of=("self",)).select_related("account__organization").get(pk=closure.pk)
    require_account_in_scope(actor, locked.account)
    if locked.status != AccountClosure.Status.PROPOSED:
        raise ClosureDecided()
    if locked.proposed_by_id == actor.pk:
        raise ClosureMakerChecker()
    return locked


def closure_approve(*, closure: AccountClosure, actor: Any, note: str = "") -> AccountClosure:
    """A second regulator approves: the account closes now (refused, and the closing stays proposed,
    if value reached the account since the proposal)."""
    with transaction.atomic():
        locked = _decide(closure, actor)
        account_close(account=locked.account, reason=locked.reason, actor=actor)
        locked.status, locked.decided_by, locked.decided_at = AccountClosure.Status.APPROVED, actor, timezone.now()
        locked.decision_note = (note or "").strip()[:500]
        locked.save()
        audit_record(actor=actor, action="account.close_approve", obj=locked, before={"status": AccountClosure.Status.PROPOSED},
                     after={"account": locked.account.number, "status": locked.status, "note": locked.decision_note})
    return locked


def closure_reject(*, closure: AccountClosure, actor: Any, reason: str) -> AccountClosure:
    """A second regulator rejects, with the reason: the account stays as it is."""
    reason = require_reason(reason)[:500]
    with transaction.atomic():
        locked = _decide(closure, actor)
        locked.status, locked.decided_by, locked.decided_at = AccountClosure.Status.REJECTED, actor, timezone.now()
        locked.decision_note = reason
        locked.save()
        audit_record(actor=actor, action="account.close_reject", obj=locked, before={"status": AccountClosure.Status.PROPOSED},
                     after={"account": locked.account.number, "status": locked.status, "reason": reason})
    return locked


def closures_visible_to(user: Any) -> QuerySet[AccountClosure]:
    return AccountClosure.objects.filter(account__in=accounts_visible_to(user)).select_related(
        "account", "account__organization", "proposed_by", "decided_by")


def closures_to_decide(user: Any) -> list[AccountClosure]:
    """The proposed closings of the user's scope that someone else proposed (the regulator's home)."""
    if not user.has_perm(PERMISSION):
        return []
    return list(closures_visible_to(user).filter(status=AccountClosure.Status.PROPOSED).exclude(proposed_by=user).order_by("proposed_at"))
