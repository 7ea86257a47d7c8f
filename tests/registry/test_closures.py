"""Closing an account is maker-checker (registry.closures): one regulator proposes it with the reason,
another approves (the account closes) or rejects it. Refusals are coded and change nothing."""

import pytest

from core.errors import (
    AccountNotEmpty,
    ClosureDecided,
    ClosureMakerChecker,
    ClosurePending,
    InvalidInput,
    PermissionDenied,
)
from core.models import AuditEvent
from registry.closures import closure_approve, closure_propose, closure_reject, closures_to_decide
from registry.models import Account, AccountClosure, Bucket, Transfer
from registry.services import Movement, ledger_post, transfer_create
from tests.registry.helpers import allowances_give, refused


def test_a_second_regulator_approves_a_proposed_closing_and_the_account_closes(
        holding_a, national_regulator, second_national_regulator):
    closing = closure_propose(account=holding_a, reason="  the plant shut down ", actor=national_regulator)
    assert (closing.status, closing.reason) == (AccountClosure.Status.PROPOSED, "the plant shut down")
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # nothing closes on one person's word
    assert closures_to_decide(national_regulator) == [] and closures_to_decide(second_national_regulator) == [closing]

    closure_approve(closure=closing, actor=second_national_regulator, note="checked the shutdown notice")

    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.CLOSED, "the plant shut down")
    closing.refresh_from_db()
    assert (closing.status, closing.decided_by, closing.decision_note) == (
        AccountClosure.Status.APPROVED, second_national_regulator, "checked the shutdown notice")
    assert list(AuditEvent.objects.filter(action__startswith="account.close").order_by("id").values_list("action", "actor_id")) == [
        ("account.close_propose", national_regulator.pk), ("account.close", second_national_regulator.pk),
        ("account.close_approve", second_national_regulator.pk)]
    assert closures_to_decide(second_national_regulator) == []


def test_the_proposer_cannot_decide_its_own_closing(holding_a, national_regulator):
    closing = closure_propose(account=holding_a, reason="merged", actor=national_regulator)
    with refused(ClosureMakerChecker, code="closure_maker_checker"):
        closure_approve(closure=closing, actor=national_regulator)
    with refused(ClosureMakerChecker, code="closure_maker_checker"):
        closure_reject(closure=closing, actor=national_regulator, reason="changed my mind")
    assert AccountClosure.objects.get().status == AccountClosure.Status.PROPOSED


def test_a_rejected_closing_leaves_the_account_open_and_may_be_proposed_again(
        holding_a, national_regulator, second_national_regulator):
    closing = closure_propose(account=holding_a, reason="merged", actor=national_regulator)
    with refused(ClosurePending, code="closure_pending", field="account"):
        closure_propose(account=holding_a, reason="again", actor=second_national_regulator)
    with pytest.raises(InvalidInput) as missing:
        closure_reject(closure=closing, actor=second_national_regulator, reason=" ")
    assert missing.value.field == "reason"
    closure_reject(closure=closing, actor=second_national_regulator, reason="the merger was called off")
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN
    with refused(ClosureDecided, code="closure_decided"):
        closure_approve(closure=closing, actor=second_national_regulator)
    closure_propose(account=holding_a, reason="merged after all", actor=second_national_regulator)
    assert list(AccountClosure.objects.order_by("id").values_list("status", flat=True)) == ["rejected", "proposed"]


def test_an_account_holding_value_is_not_proposed_and_value_arriving_later_stops_the_approval(
        holding_a, holding_b, cea, national_regulator, second_national_regulator):
    allowances_give(account=holding_b, asset=cea, amount=10, regulator=national_regulator)
    allowances_give(account=holding_a, asset=cea, amount=5, regulator=national_regulator)
    with refused(AccountNotEmpty, code="account_not_empty", field="account") as held:
        closure_propose(account=holding_a, reason="shut down", actor=national_regulator)
    assert "CEA21" in held.value.message
    transfer_create(source=holding_a, destination=holding_b, asset=cea, amount=5, actor=national_regulator)
    closing = closure_propose(account=holding_a, reason="shut down", actor=national_regulator)

    transfer_create(source=holding_b, destination=holding_a, asset=cea, amount=1, actor=national_regulator)
    with refused(AccountNotEmpty, code="account_not_empty"):
        closure_approve(closure=closing, actor=second_national_regulator)
    closing.refresh_from_db()
    assert closing.status == AccountClosure.Status.PROPOSED and Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN


def test_only_regulators_of_the_accounts_scope_propose_and_decide(
        holding_a, holding_b, national_regulator, shandong_regulator, trader_a, national_account):
    with refused(PermissionDenied):
        closure_propose(account=holding_a, reason="x", actor=trader_a)
    with refused(PermissionDenied):
        closure_propose(account=holding_b, reason="x", actor=shandong_regulator)  # company B is in Jiangsu
    with refused(InvalidInput, field="account"):
        closure_propose(account=national_account, reason="x", actor=national_regulator)
    closing = closure_propose(account=holding_b, reason="x", actor=national_regulator)
    assert closures_to_decide(shandong_regulator) == []
    with refused(PermissionDenied):
        closure_approve(closure=closing, actor=shandong_regulator)


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
    assert proposed.status_code == 200 and AccountClosure.objects.get().proposed_by == national_regulator
    checker = login(Client(), second_national_regulator)
    assert f"Approve or reject closing account {holding_a.number}" in checker.get("/regulator/").content.decode()
    listed = checker.get("/admin/registry/accountclosure/").content.decode()
    assert "40 CEA21 not carried over (cancelled at approval)" in listed  # what the approval does, before it
    refused_own = maker.post("/admin/registry/accountclosure/", {"action": "approve_closings", "_selected_action": [
        AccountClosure.objects.get().pk], "confirm": "1", "reason": "mine"}, follow=True)
    assert "other than the one who proposed it" in refused_own.content.decode()
    approved = checker.post("/admin/registry/accountclosure/", {"action": "approve_closings", "_selected_action": [
        AccountClosure.objects.get().pk], "confirm": "1", "reason": "checked"}, follow=True)
    assert approved.status_code == 200
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.CLOSED
    assert "40 CEA21" not in checker.get("/admin/registry/accountclosure/").content.decode()  # cancelled: it holds nothing
