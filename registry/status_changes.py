"""Freezing, unfreezing and closing an account, and freezing or unfreezing part of a holding (a court's
or a regulator's freeze of so many tonnes or yuan), maker-checker: one regulator proposes the change
with the reason, another approves it (registry.services.account_freeze, account_unfreeze,
account_close, holdings_freeze or holdings_unfreeze then does it) or rejects it with a reason. No
account and no holding changes on one person's word.

The account's status must allow the change when it is proposed, and is checked again, under its lock,
when the change is approved. A closing account must be empty (but for allowances not carried over,
which the closing cancels), at both moments too; a holding's freeze needs that much available (its
unfreeze, that much frozen) at both moments."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import (
    AccountNotEmpty,
    InsufficientBalance,
    InvalidInput,
    StatusChangeDecided,
    StatusChangeMakerChecker,
    StatusChangePending,
)
from registry import services
from registry.models import Account, AccountStatusChange, Asset, Balance
from registry.selectors import accounts_visible_to

PERMISSION = "registry.freeze_holdings"
Action = AccountStatusChange.Action

# What each change does on approval (with the reason proposed, by the approver).
_APPLY = {Action.FREEZE: services.account_freeze, Action.UNFREEZE: services.account_unfreeze, Action.CLOSE: services.account_close}
# A holding's freeze or unfreeze: the bucket the amount leaves, and the service that moves it.
_HOLDING = {Action.FREEZE_HOLDING: ("available", services.holdings_freeze),
            Action.UNFREEZE_HOLDING: ("frozen", services.holdings_unfreeze)}


def change_propose(*, account: Account, action: str, reason: str, actor: Any, asset: Asset | None = None,
                   amount: int | None = None) -> AccountStatusChange:
    """A regulator proposes freezing, unfreezing or closing an account of its scope, or freezing or
    unfreezing `amount` (the asset's smallest unit) of its `asset`; another decides."""
    services.require_permission(actor, PERMISSION)
    services.require_account_in_scope(actor, account)
    reason = services.require_reason(reason)[:500]
    action = Action(action)
    if account.kind not in Account.ORGANIZATION_KINDS:
        raise InvalidInput(_("Only a company's holding and trading funds accounts are frozen or closed."), field="account")
    if action in _HOLDING:
        _check_holding(account, action, asset, amount)
    elif asset is not None or amount is not None:
        raise InvalidInput(_("An account's freeze, unfreeze or closing names no asset or amount."), field="amount")
    elif account.status not in services.STATUS_TRANSITIONS[f"account.{action}"][0]:  # (the statuses it may start from)
        raise InvalidInput(services.STATUS_REFUSALS[f"account.{action}"] % {
            "account": account.number, "status": str(account.get_status_display()).lower()}, field="account")
    if action == Action.CLOSE:
        held = [balance for balance in Balance.objects.filter(account=account).select_related("asset") if balance.live]
        if held:
            raise AccountNotEmpty(_("Account %(account)s still holds %(assets)s: it closes once they have left it.") % {
                "account": account.number, "assets": ", ".join(balance.asset.code for balance in held)}, field="account")
    try:
        with transaction.atomic():
            change = AccountStatusChange.objects.create(account=account, action=action, asset=asset, amount=amount, reason=reason,
                                                        proposed_by=actor)
            audit_record(actor=actor, action=f"account.{action}_propose", obj=change, after=_described(change))
    except IntegrityError:
        raise StatusChangePending(_("A change of account %(account)s is already proposed.") % {"account": account.number},
                                  field="account") from None
    return change


def _check_holding(account: Account, action: str, asset: Asset | None, amount: int | None) -> None:
    """A holding's freeze or unfreeze names the asset and a positive whole amount that the account
    has in the bucket it leaves (checked again when it is approved)."""
    if asset is None:
        raise InvalidInput(_("Name the asset whose holding is frozen or unfrozen."), field="asset")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(_("The amount must be positive."), field="amount")
    if account.status == Account.Status.CLOSED:
        refusal = "account.freeze" if action == Action.FREEZE_HOLDING else "account.unfreeze"
        raise InvalidInput(services.STATUS_REFUSALS[refusal] % {
            "account": account.number, "status": str(account.get_status_display()).lower()}, field="account")
    bucket = _HOLDING[action][0]
    balance = Balance.objects.filter(account=account, asset=asset).first()
    held = getattr(balance, bucket) if balance else 0
    if held < amount:
        message = (_("Account %(account)s has %(held)s %(asset)s available: it cannot freeze %(amount)s.")
                   if bucket == "available" else
                   _("Account %(account)s has %(held)s %(asset)s frozen: it cannot unfreeze %(amount)s."))
        raise InsufficientBalance(message % {"account": account.number, "held": asset.format(held), "asset": asset.code,
                                             "amount": asset.format(amount)}, field="amount")


def _described(change: AccountStatusChange, **more: Any) -> dict[str, Any]:
    """What the audit trail records of a change."""
    described = {"account": change.account.number, "status": change.status, "reason": change.reason, **more}
    if change.asset_id:
        described.update(asset=change.asset.code, amount=change.amount)
    return described


def _decide(change: AccountStatusChange, actor: Any) -> AccountStatusChange:
    """The proposed change, locked, if `actor` may decide it (inside the caller's transaction)."""
    services.require_permission(actor, PERMISSION)
    locked = AccountStatusChange.objects.select_for_update(of=("self",)).select_related("account__organization", "asset").get(pk=change.pk)
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
        if locked.action in _HOLDING:
            _HOLDING[locked.action][1](account=locked.account, asset=locked.asset, amount=locked.amount, reason=locked.reason,
                                       actor=actor)
        else:
            _APPLY[locked.action](account=locked.account, reason=locked.reason, actor=actor)
        locked.status, locked.decided_by, locked.decided_at = AccountStatusChange.Status.APPROVED, actor, timezone.now()
        locked.decision_note = (note or "").strip()[:500]
        locked.save()
        audit_record(actor=actor, action=f"account.{locked.action}_approve", obj=locked,
                     before={"status": AccountStatusChange.Status.PROPOSED}, after=_described(locked, note=locked.decision_note))
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
                     before={"status": AccountStatusChange.Status.PROPOSED}, after=_described(locked, note=reason))
    return locked


def changes_visible_to(user: Any) -> QuerySet[AccountStatusChange]:
    return AccountStatusChange.objects.filter(account__in=accounts_visible_to(user)).select_related(
        "account", "account__organization", "asset", "proposed_by", "decided_by")


def changes_to_decide(user: Any) -> list[AccountStatusChange]:
    """The proposed changes of the user's scope that someone else proposed (the regulator's home)."""
    if not user.has_perm(PERMISSION):
        return []
    return list(changes_visible_to(user).filter(status=AccountStatusChange.Status.PROPOSED).exclude(proposed_by=user)
                .order_by("proposed_at"))
