"""Freezing, unfreezing and closing an account are maker-checker (registry.status_changes): one
regulator proposes the change with the reason, another approves (the change is made) or rejects it.
Refusals are coded and change nothing."""

import pytest

from core.errors import (
    AccountNotEmpty,
    InvalidInput,
    PermissionDenied,
    StatusChangeDecided,
    StatusChangeMakerChecker,
    StatusChangePending,
)
from core.models import AuditEvent
from registry.models import Account, AccountStatusChange, Bucket, Transfer
from registry.services import Movement, ledger_post, transfer_create
from registry.status_changes import change_approve, change_propose, change_reject, changes_to_decide
from tests.registry.helpers import allowances_give, refused


def test_a_second_regulator_approves_a_proposed_closing_and_the_account_closes(
        holding_a, national_regulator, second_national_regulator):
    closing = change_propose(account=holding_a, action="close", reason="  the plant shut down ", actor=national_regulator)
    assert (closing.status, closing.reason) == (AccountStatusChange.Status.PROPOSED, "the plant shut down")
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # nothing closes on one person's word
    assert changes_to_decide(national_regulator) == [] and changes_to_decide(second_national_regulator) == [closing]

    change_approve(change=closing, actor=second_national_regulator, note="checked the shutdown notice")

    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.CLOSED, "the plant shut down")
    closing.refresh_from_db()
    assert (closing.status, closing.decided_by, closing.decision_note) == (
        AccountStatusChange.Status.APPROVED, second_national_regulator, "checked the shutdown notice")
    assert list(AuditEvent.objects.filter(action__startswith="account.close").order_by("id").values_list("action", "actor_id")) == [
        ("account.close_propose", national_regulator.pk), ("account.close", second_national_regulator.pk),
        ("account.close_approve", second_national_regulator.pk)]
    assert changes_to_decide(second_national_regulator) == []


def test_the_proposer_cannot_decide_its_own_closing(holding_a, national_regulator):
    closing = change_propose(account=holding_a, action="close", reason="merged", actor=national_regulator)
    with refused(StatusChangeMakerChecker, code="status_change_maker_checker"):
        change_approve(change=closing, actor=national_regulator)
    with refused(StatusChangeMakerChecker, code="status_change_maker_checker"):
        change_reject(change=closing, actor=national_regulator, reason="changed my mind")
    assert AccountStatusChange.objects.get().status == AccountStatusChange.Status.PROPOSED


def test_a_rejected_closing_leaves_the_account_open_and_may_be_proposed_again(
        holding_a, national_regulator, second_national_regulator):
    closing = change_propose(account=holding_a, action="close", reason="merged", actor=national_regulator)
    with refused(StatusChangePending, code="status_change_pending", field="account"):
        change_propose(account=holding_a, action="close", reason="again", actor=second_national_regulator)
    with pytest.raises(InvalidInput) as missing:
        change_reject(change=closing, actor=second_national_regulator, reason=" ")
    assert missing.value.field == "reason"
    change_reject(change=closing, actor=second_national_regulator, reason="the merger was called off")
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN
    with refused(StatusChangeDecided, code="status_change_decided"):
        change_approve(change=closing, actor=second_national_regulator)
    change_propose(account=holding_a, action="close", reason="merged after all", actor=second_national_regulator)
    assert list(AccountStatusChange.objects.order_by("id").values_list("status", flat=True)) == ["rejected", "proposed"]


def test_an_account_holding_value_is_not_proposed_and_value_arriving_later_stops_the_approval(
        holding_a, holding_b, cea, national_regulator, second_national_regulator):
    allowances_give(account=holding_b, asset=cea, amount=10, regulator=national_regulator)
    allowances_give(account=holding_a, asset=cea, amount=5, regulator=national_regulator)
    with refused(AccountNotEmpty, code="account_not_empty", field="account") as held:
        change_propose(account=holding_a, action="close", reason="shut down", actor=national_regulator)
    assert "CEA21" in held.value.message
    transfer_create(source=holding_a, destination=holding_b, asset=cea, amount=5, actor=national_regulator)
    closing = change_propose(account=holding_a, action="close", reason="shut down", actor=national_regulator)

    transfer_create(source=holding_b, destination=holding_a, asset=cea, amount=1, actor=national_regulator)
    with refused(AccountNotEmpty, code="account_not_empty"):
        change_approve(change=closing, actor=second_national_regulator)
    closing.refresh_from_db()
    assert closing.status == AccountStatusChange.Status.PROPOSED and Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN


def test_only_regulators_of_the_accounts_scope_propose_and_decide(
        holding_a, holding_b, national_regulator, shandong_regulator, trader_a, national_account):
    with refused(PermissionDenied):
        change_propose(account=holding_a, action="close", reason="x", actor=trader_a)
    with refused(PermissionDenied):
        change_propose(account=holding_b, action="close", reason="x", actor=shandong_regulator)  # company B is in Jiangsu
    with refused(InvalidInput, field="account"):
        change_propose(account=national_account, action="close", reason="x", actor=national_regulator)
    closing = change_propose(account=holding_b, action="close", reason="x", actor=national_regulator)
    assert changes_to_decide(shandong_regulator) == []
    with refused(PermissionDenied):
        change_approve(change=closing, actor=shandong_regulator)


def test_a_closing_is_proposed_and_approved_through_the_admin(holding_a, cea, national_regulator, second_national_regulator):
    from django.test import Client

    from tests.auth import login

    for regulator in (national_regulator, second_national_regulator):
        regulator.is_staff = True
        regulator.save()
    allowances_give(account=holding_a, asset=cea, amount=40, regulator=national_regulator)
    ledger_post([Movement(kind=Transfer.Kind.CARRY_OVER, asset=cea, amount=40, source=holding_a, source_bucket=Bucket.AVAILABLE,
                          destination=holding_a, destination_bucket=Bucket.NOT_CARRIED)])
    maker = login(Client(), national_regulator)
    proposed = maker.post("/admin/registry/account/", {"action": "propose_closing", "_selected_action": [holding_a.pk],
                                                       "confirm": "1", "reason": "deregistered"}, follow=True)
    assert proposed.status_code == 200 and AccountStatusChange.objects.get().proposed_by == national_regulator
    checker = login(Client(), second_national_regulator)
    assert f"Approve or reject closing account {holding_a.number}" in checker.get("/regulator/").content.decode()
    listed = checker.get("/admin/registry/accountstatuschange/").content.decode()
    assert "40 CEA21 not carried over (cancelled at approval)" in listed  # what the approval does, before it
    refused_own = maker.post("/admin/registry/accountstatuschange/", {"action": "approve_changes", "_selected_action": [
        AccountStatusChange.objects.get().pk], "confirm": "1", "reason": "mine"}, follow=True)
    assert "other than the one who proposed it" in refused_own.content.decode()
    approved = checker.post("/admin/registry/accountstatuschange/", {"action": "approve_changes", "_selected_action": [
        AccountStatusChange.objects.get().pk], "confirm": "1", "reason": "checked"}, follow=True)
    assert approved.status_code == 200
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.CLOSED
    assert "40 CEA21" not in checker.get("/admin/registry/accountstatuschange/").content.decode()  # cancelled: it holds nothing


def test_freezing_and_unfreezing_are_proposed_by_one_regulator_and_made_by_another(
        holding_a, national_regulator, second_national_regulator):
    freezing = change_propose(account=holding_a, action="freeze", reason=" court order 2026-17 ", actor=national_regulator)
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # nothing frozen on one person's word
    assert changes_to_decide(second_national_regulator) == [freezing]
    with refused(StatusChangeMakerChecker, code="status_change_maker_checker"):
        change_approve(change=freezing, actor=national_regulator)
    with refused(InvalidInput, field="account"):  # an open account is not unfrozen
        change_propose(account=holding_a, action="unfreeze", reason="x", actor=second_national_regulator)

    change_approve(change=freezing, actor=second_national_regulator)
    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.FROZEN, "court order 2026-17")

    unfreezing = change_propose(account=stored, action="unfreeze", reason="order lifted", actor=second_national_regulator)
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.FROZEN
    change_approve(change=unfreezing, actor=national_regulator, note="saw the court's ruling")
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN
    assert list(AuditEvent.objects.filter(action__regex=r"^account\.(un)?freeze").order_by("id").values_list("action", "actor_id")) == [
        ("account.freeze_propose", national_regulator.pk), ("account.freeze", second_national_regulator.pk),
        ("account.freeze_approve", second_national_regulator.pk), ("account.unfreeze_propose", second_national_regulator.pk),
        ("account.unfreeze", national_regulator.pk), ("account.unfreeze_approve", national_regulator.pk)]


def test_an_approval_is_refused_when_the_accounts_status_changed_since_the_proposal(
        holding_a, national_regulator, second_national_regulator):
    freezing = change_propose(account=holding_a, action="freeze", reason="inquiry", actor=national_regulator)
    rejected = change_reject(change=freezing, actor=second_national_regulator, reason="not yet")
    assert rejected.status == AccountStatusChange.Status.REJECTED
    freezing = change_propose(account=holding_a, action="freeze", reason="inquiry", actor=national_regulator)
    Account.objects.filter(pk=holding_a.pk).update(status=Account.Status.FROZEN)  # frozen meanwhile, some other way
    with refused(InvalidInput, field="account"):
        change_approve(change=freezing, actor=second_national_regulator)
    freezing.refresh_from_db()
    assert freezing.status == AccountStatusChange.Status.PROPOSED


def test_a_freezing_is_proposed_through_the_admin_and_approved_by_another_regulator(
        holding_a, national_regulator, second_national_regulator):
    from django.test import Client

    from tests.auth import login

    for regulator in (national_regulator, second_national_regulator):
        regulator.is_staff = True
        regulator.save()
    maker = login(Client(), national_regulator)
    page = maker.get("/admin/registry/account/").content.decode()
    assert "propose_freezing" in page and "freeze_accounts" not in page  # no way to freeze alone
    maker.post("/admin/registry/account/", {"action": "propose_freezing", "_selected_action": [holding_a.pk],
                                            "confirm": "1", "reason": "Court order 2026-17"}, follow=True)
    change = AccountStatusChange.objects.get()
    assert (change.action, change.proposed_by) == ("freeze", national_regulator)
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN
    checker = login(Client(), second_national_regulator)
    assert f"Approve or reject freezing account {holding_a.number}" in checker.get("/regulator/").content.decode()
    checker.post("/admin/registry/accountstatuschange/", {"action": "approve_changes", "_selected_action": [change.pk],
                                                         "confirm": "1", "reason": "checked the order"}, follow=True)
    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.FROZEN, "Court order 2026-17")


# --- part of a holding ---


def _held(account, asset) -> tuple[int, int]:
    from registry.models import Balance

    balance = Balance.objects.get(account=account, asset=asset)
    return balance.available, balance.frozen


def test_part_of_a_holding_is_frozen_and_unfrozen_by_two_regulators(holding_a, cea, national_regulator, second_national_regulator):
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    freezing = change_propose(account=holding_a, action="freeze_holding", asset=cea, amount=40, reason=" court order 2026-31 ",
                              actor=national_regulator)
    assert _held(holding_a, cea) == (100, 0)  # nothing frozen on one person's word
    assert str(freezing) == f"Freeze part of a holding: 40 CEA21 in {holding_a.number} (Proposed, awaiting a second regulator)"
    with refused(StatusChangeMakerChecker, code="status_change_maker_checker"):
        change_approve(change=freezing, actor=national_regulator)

    change_approve(change=freezing, actor=second_national_regulator, note="read the order")
    assert _held(holding_a, cea) == (60, 40)
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # the rest trades on
    frozen = Transfer.objects.get(kind=Transfer.Kind.FREEZE)
    assert (frozen.amount, frozen.memo, frozen.source_bucket, frozen.destination_bucket) == (
        40, "court order 2026-31", Bucket.AVAILABLE, Bucket.FROZEN)

    unfreezing = change_propose(account=holding_a, action="unfreeze_holding", asset=cea, amount=15, reason="order partly lifted",
                                actor=second_national_regulator)
    change_approve(change=unfreezing, actor=national_regulator)
    assert _held(holding_a, cea) == (75, 25)
    assert list(AuditEvent.objects.filter(action__regex=r"^(account\.(un)?freeze_holding|registry\.(un)?freeze)").order_by("id")
                .values_list("action", "actor_id")) == [
        ("account.freeze_holding_propose", national_regulator.pk), ("registry.freeze", second_national_regulator.pk),
        ("account.freeze_holding_approve", second_national_regulator.pk),
        ("account.unfreeze_holding_propose", second_national_regulator.pk), ("registry.unfreeze", national_regulator.pk),
        ("account.unfreeze_holding_approve", national_regulator.pk)]
    proposed = AuditEvent.objects.get(action="account.freeze_holding_propose").after
    assert (proposed["asset"], proposed["amount"], proposed["reason"]) == ("CEA21", 40, "court order 2026-31")


@pytest.mark.parametrize("amount", [0, -5, True, "40", 2.5, None])
def test_a_holdings_freeze_needs_a_positive_whole_amount(holding_a, cea, national_regulator, amount):
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    with refused(InvalidInput, code="invalid", field="amount"):
        change_propose(account=holding_a, action="freeze_holding", asset=cea, amount=amount, reason="x", actor=national_regulator)
    assert not AccountStatusChange.objects.exists()


def test_a_holdings_freeze_names_the_asset_and_no_more_than_the_account_has(holding_a, cea, national_regulator):
    from core.errors import InsufficientBalance

    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    with refused(InvalidInput, field="asset"):
        change_propose(account=holding_a, action="freeze_holding", amount=10, reason="x", actor=national_regulator)
    with refused(InsufficientBalance, code="insufficient_balance", field="amount") as over:
        change_propose(account=holding_a, action="freeze_holding", asset=cea, amount=101, reason="x", actor=national_regulator)
    assert "100 CEA21 available" in over.value.message
    with refused(InsufficientBalance, code="insufficient_balance", field="amount"):  # nothing frozen to unfreeze
        change_propose(account=holding_a, action="unfreeze_holding", asset=cea, amount=1, reason="x", actor=national_regulator)
    with refused(InvalidInput, field="amount"):  # an account's own freeze names no amount
        change_propose(account=holding_a, action="freeze", asset=cea, amount=10, reason="x", actor=national_regulator)
    assert not AccountStatusChange.objects.exists()


def test_a_holdings_freeze_is_refused_at_approval_when_the_allowances_left_meanwhile(
        holding_a, holding_b, cea, national_regulator, second_national_regulator):
    from core.errors import InsufficientBalance

    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    freezing = change_propose(account=holding_a, action="freeze_holding", asset=cea, amount=40, reason="inquiry",
                              actor=national_regulator)
    transfer_create(source=holding_a, destination=holding_b, asset=cea, amount=70, actor=national_regulator)
    with refused(InsufficientBalance, code="insufficient_balance"):
        change_approve(change=freezing, actor=second_national_regulator)
    freezing.refresh_from_db()
    assert freezing.status == AccountStatusChange.Status.PROPOSED and _held(holding_a, cea) == (30, 0)
    assert not Transfer.objects.filter(kind=Transfer.Kind.FREEZE).exists()


def test_the_database_refuses_a_holdings_change_without_an_amount(holding_a, national_regulator):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountStatusChange.objects.create(account=holding_a, action="freeze_holding", reason="x", proposed_by=national_regulator)


def test_part_of_a_holding_is_frozen_through_the_admin(holding_a, cea, national_regulator, second_national_regulator):
    from django.test import Client

    from tests.auth import login

    for regulator in (national_regulator, second_national_regulator):
        regulator.is_staff = True
        regulator.save()
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    maker = login(Client(), national_regulator)
    action = {"action": "propose_freezing_holding", "_selected_action": [holding_a.pk], "confirm": "1", "asset": cea.pk,
              "reason": "Court order 2026-31"}
    again = maker.post("/admin/registry/account/", {**action, "amount": "4.5"}).content.decode()
    assert "&#x27;4.5&#x27; is not a whole number." in again and not AccountStatusChange.objects.exists()  # the form again, with the error
    maker.post("/admin/registry/account/", {**action, "amount": "４０"}, follow=True)  # full-width digits, as an input method types them
    change = AccountStatusChange.objects.get()
    assert (change.action, change.asset, change.amount, change.proposed_by) == ("freeze_holding", cea, 40, national_regulator)

    checker = login(Client(), second_national_regulator)
    assert f"Approve or reject freezing 40 CEA21 in account {holding_a.number}" in checker.get("/regulator/").content.decode()
    assert "100 available, 0 frozen" in checker.get("/admin/registry/accountstatuschange/").content.decode()
    checker.post("/admin/registry/accountstatuschange/", {"action": "approve_changes", "_selected_action": [change.pk],
                                                         "confirm": "1", "reason": "checked the order"}, follow=True)
    assert _held(holding_a, cea) == (60, 40)
    assert "60 available, 40 frozen" in checker.get("/admin/registry/accountstatuschange/").content.decode()
