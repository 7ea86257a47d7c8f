"""Freezing, unfreezing and closing an account, maker-checker: one regulator proposes the change with
the reason, another approves it (registry.services.account_freeze, account_unfreeze or account_close
then does it) or rejects it with a reason. No account's status changes on one person's word.

The account's status must allow the change when it is proposed, and is checked again, under its lock,
when the change is approved. A closing account must be empty (but for allowances not carried over,
which the closing cancels), at both moments too."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import (
    AccountNotEmpty,
    InvalidInput,
    StatusChangeDecided,
    StatusChangeMakerChecker,
    StatusChangePending,
)
from registry import services
from registry.models import Account, AccountStatusChange, Balance
from registry.selectors import accounts_visible_to

PERMISSION = "registry.freeze_holdings"
Action = AccountStatusChange.Action

# What each change does on approval (with the reason proposed, by the approver).
_APPLY = {Action.FREEZE: services.account_freeze, Action.UNFREEZE: services.account_unfreeze, Action.CLOSE: services.account_close}


def change_propose(*, account: Account, action: str, reason: str, actor: Any) -> AccountStatusChange:
    """A regulator proposes freezing, unfreezing or closing an account of its scope; another decides."""
    services.require_permission(actor, PERMISSION)
    services.require_account_in_scope(actor, account)
    reason = services.require_reason(reason)[:500]
    action = Action(action)
    if account.kind not in Account.ORGANIZATION_KINDS:
        raise InvalidInput(_("Only a company's holding and trading funds accounts are frozen or closed."), field="account")
    if account.status not in services.STATUS_TRANSITIONS[f"account.{action}"][0]:  # (the statuses it may start from)
        raise InvalidInput(services.STATUS_REFUSALS[f"account.{action}"] % {
            "account": account.number, "status": str(account.get_status_display()).lower()}, field="account")
    if action == Action.CLOSE:
        held = [balance for balance in Balance.objects.filter(account=account).select_related("asset") if balance.live]
        if held:
            raise AccountNotEmpty(_("Account %(account)s still holds %(assets)s: it closes once they have left it.") % {
                "account": account.number, "assets": ", ".join(balance.asset.code for balance in held)}, field="account")
    try:
        with transaction.atomic():
            change = AccountStatusChange.objects.create(account=account, action=action, reason=reason, proposed_by=actor)
            audit_record(actor=actor, action=f"account.{action}_propose", obj=change,
                         after={"account": account.number, "status": change.status, "reason": reason})
    except IntegrityError:
        raise StatusChangePending(_("A change of account %(account)s is already proposed.") % {"account": account.number},
                                  field="account") from None
    return change


def _decide(change: AccountStatusChange, actor: Any) -> AccountStatusChange:
    """The proposed change, locked, if `actor` may decide it (inside the caller's transaction)."""
    services.require_permission(actor, PERMISSION)
    locked = AccountStatusChange.objects.select_for_update(of=("self",)).select_related("account__organization").get(pk=change.pk)
    services.require_account_in_scope(actor, locked.account)
    if locked.status != AccountStatusChange.Status.PROPOSED:
        raise StatusChangeDecided()
    if locked.proposed_by_id == actor.pk:
        raise StatusChangeMakerChecker()
    return locked


def change_approve(*, change: AccountStatusChange, actor: Any, note: str = "") -> AccountStatusChange:
    """A second regulator approves: the account is frozen, unfrozen or closed now (refused, and the
    change stays proposed, if the account's status or holdings no longer allow it)."""
    with transaction.atomic():
        locked = _decide(change, actor)
        _APPLY[locked.action](account=locked.account, reason=locked.reason, actor=actor)
        locked.status, locked.decided_by, locked.decided_at = AccountStatusChange.Status.APPROVED, actor, timezone.now()
        locked.decision_note = (note or "").strip()[:500]
        locked.save()
        audit_record(actor=actor, action=f"account.{locked.action}_approve", obj=locked,
                     before={"status": AccountStatusChange.Status.PROPOSED},
                     after={"account": locked.account.number, "status": locked.status, "note": locked.decision_note})
    return locked


def change_reject(*, change: AccountStatusChange, actor: Any, reason: str) -> AccountStatusChange:
    """A second regulator rejects, with the reason: the account stays as it is."""
    reason = services.require_reason(reason)[:500]
    with transaction.atomic():
        locked = _decide(change, actor)
        locked.status, locked.decided_by, locked.decided_at = AccountStatusChange.Status.REJECTED, actor, timezone.now()
        locked.decision_note = reason
        locked.save()
        audit_record(actor=actor, action=f"account.{locked.action}_reject", obj=locked,
                     before={"status": AccountStatusChange.Status.PROPOSED},
                     after={"account": locked.account.number, "status": locked.status, "reason": reason})
    return locked


def changes_visible_to(user: Any) -> QuerySet[AccountStatusChange]:
    return AccountStatusChange.objects.filter(account__in=accounts_visible_to(user)).select_related(
        "account", "account__organization", "proposed_by", "decided_by")


def changes_to_decide(user: Any) -> list[AccountStatusChange]:
    """The proposed changes of the user's scope that someone else proposed (the regulator's home)."""
    if not user.has_perm(PERMISSION):
        return []
    return list(changes_visible_to(user).filter(status=AccountStatusChange.Status.PROPOSED).exclude(proposed_by=user)
                .order_by("proposed_at"))
