"""Maker-checker issuance of allocation plans (RULEBOOK.md: actions that create allowances need two
different regulators): one regulator drafts and submits, another approves, and the approval issues
each unit's share exactly once, into its holding account, as new ledger transfers."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from allocation.models import AllocationPlan
from allocation.services import PlanNotInState, SameRegulator, plan_approve, plan_reject, plan_submit
from core.errors import InvalidInput, PermissionDenied
from core.models import AuditEvent
from registry.models import Account, Balance, Transfer
from registry.services import system_account
from tests.allocation.conftest import available, holding, import_csv, nothing_saved
from tests.factories import OrganizationFactory, make_uscc

# 2021 benchmarks, 70 % issued now:
# a: coal > 300 MW, 600,000 x 0.8218 x 0.95 + 12,345 x 0.1105 = 469,790.1225 -> 469,790 ; 70 %: 328,853
# b: gas, 150,000 x 0.392 x 0.9 + 30,010 x 0.0557 = 54,591.557 -> 54,592 ; 70 %: 38,214.4 -> 38,214
# c: coal <= 300 MW, 250,000.5 x 0.8773 x 1.03 = 225,905.2018095 -> 225,905 ; 70 %: 158,133.5 -> 158,134
ISSUE_A, ISSUE_B, ISSUE_C = 328_853, 38_214, 158_134
TOTAL_ISSUE = ISSUE_A + ISSUE_B + ISSUE_C  # 525,201


def plan_rows(company_a, company_b, unit_c) -> list[list[str]]:
    return [
        [company_a.uscc, "coal_gt300", "600000", "12345", "0.95"],
        [company_b.uscc, "gas", "150000", "30010", "0.9"],
        [unit_c.uscc, "coal_le300", "250000.5", "0", "1.03"],
    ]


@pytest.fixture
def unit_c(shandong_units):
    return shandong_units[0]


@pytest.fixture
def draft_plan(period_2021, cea21, company_a, company_b, unit_c, national_regulator) -> AllocationPlan:
    """Drafted by national_regulator: two Shandong units and one Jiangsu unit."""
    return import_csv(period=period_2021, vintage=cea21, rows=plan_rows(company_a, company_b, unit_c), actor=national_regulator)


@pytest.fixture
def submitted_plan(draft_plan, national_regulator) -> AllocationPlan:
    """Drafted and submitted by the same regulator (the maker)."""
    return plan_submit(plan=draft_plan, actor=national_regulator)


@pytest.fixture
def shandong_plan(period_2021, cea21, company_a, unit_c, shandong_regulator) -> AllocationPlan:
    """Drafted by the Shandong regulator for its own units only."""
    return import_csv(period=period_2021, vintage=cea21, actor=shandong_regulator, rows=[
        [company_a.uscc, "coal_gt300", "600000", "12345", "0.95"], [unit_c.uscc, "coal_le300", "250000.5", "0", "1.03"],
    ])


def plan_transfers(plan: AllocationPlan) -> list[Transfer]:
    return list(Transfer.objects.filter(reference=f"plan:{plan.pk}").order_by("pk"))


def events_after(last_id: int) -> list[tuple[str, int | None]]:
    return list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk").values_list("action", "actor_id"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- the happy path ---


def test_approval_by_a_second_regulator_issues_each_units_share_once(
    draft_plan, cea21, company_a, company_b, unit_c, national_regulator, second_national_regulator
):
    national = system_account(Account.Kind.NATIONAL_ISSUANCE)
    national_before = Balance.objects.get(account=national, asset=cea21).available
    assert (available(company_a, cea21), available(company_b, cea21), available(unit_c, cea21)) == (0, 0, 0)

    before_submit = last_event_id()
    plan = plan_submit(plan=draft_plan, actor=national_regulator)
    assert plan.status == AllocationPlan.Status.SUBMITTED and plan.submitted_by == national_regulator
    assert events_after(before_submit) == [("plan.submit", national_regulator.pk)]
    assert plan_transfers(plan) == []  # submitting issues nothing

    before_approve = last_event_id()
    plan = plan_approve(plan=plan, actor=second_national_regulator, reason="Checked against the 2021 estimates")

    assert plan.status == AllocationPlan.Status.ISSUED
    assert plan.decided_by == second_national_regulator and plan.decided_at is not None
    assert plan.decision_reason == "Checked against the 2021 estimates"
    assert plan.total_issue == TOTAL_ISSUE == 525_201
    assert (available(company_a, cea21), available(company_b, cea21), available(unit_c, cea21)) == (ISSUE_A, ISSUE_B, ISSUE_C)
    # Created in the national issuance account and handed on at once: its balance is where it was.
    assert Balance.objects.get(account=national, asset=cea21).available == national_before

    transfers = plan_transfers(plan)
    issuance, *allocations = transfers
    assert (issuance.kind, issuance.amount, issuance.source_id, issuance.destination_id, issuance.asset_id) == (
        Transfer.Kind.ISSUANCE, TOTAL_ISSUE, None, national.pk, cea21.pk
    )
    assert sorted((t.kind, t.source_id, t.destination_id, t.amount) for t in allocations) == sorted([
        (Transfer.Kind.ALLOCATION, national.pk, holding(company_a).pk, ISSUE_A),
        (Transfer.Kind.ALLOCATION, national.pk, holding(company_b).pk, ISSUE_B),
        (Transfer.Kind.ALLOCATION, national.pk, holding(unit_c).pk, ISSUE_C),
    ])
    assert all(t.actor_id == second_national_regulator.pk for t in transfers)

    assert events_after(before_approve) == [
        ("registry.issue_and_allocate", second_national_regulator.pk),
        ("plan.approve", second_national_regulator.pk),
    ]
    issue_event = AuditEvent.objects.get(pk__gt=before_approve, action="registry.issue_and_allocate")
    assert issue_event.after["total"] == TOTAL_ISSUE and issue_event.after["reference"] == f"plan:{plan.pk}"


def test_a_provincial_regulator_proposes_and_a_national_regulator_approves(
    shandong_plan, cea21, company_a, unit_c, shandong_regulator, national_regulator
):
    plan = plan_submit(plan=shandong_plan, actor=shandong_regulator)
    plan = plan_approve(plan=plan, actor=national_regulator)
    assert plan.status == AllocationPlan.Status.ISSUED
    assert (available(company_a, cea21), available(unit_c, cea21)) == (ISSUE_A, ISSUE_C)


def test_the_maker_may_hand_submission_to_a_colleague_but_neither_approves(
    draft_plan, cea21, company_a, national_regulator, second_national_regulator, third_national_regulator
):
    plan = plan_submit(plan=draft_plan, actor=second_national_regulator)
    for maker in (national_regulator, second_national_regulator):  # created it / submitted it
        with nothing_saved(), pytest.raises(SameRegulator) as refused:
            plan_approve(plan=plan, actor=maker)
        assert refused.value.code == "maker_checker"
    plan = plan_approve(plan=plan, actor=third_national_regulator)
    assert plan.status == AllocationPlan.Status.ISSUED and available(company_a, cea21) == ISSUE_A


# --- maker-checker refusals ---


def test_the_regulator_who_drafted_and_submitted_cannot_approve(submitted_plan, national_regulator, cea21, company_a):
    with nothing_saved(), pytest.raises(SameRegulator) as refused:
        plan_approve(plan=submitted_plan, actor=national_regulator, reason="looks fine to me")
    assert refused.value.code == "maker_checker" and refused.value.status == 403
    submitted_plan.refresh_from_db()
    assert submitted_plan.status == AllocationPlan.Status.SUBMITTED and submitted_plan.decided_by is None
    assert plan_transfers(submitted_plan) == [] and available(company_a, cea21) == 0


def test_the_regulator_who_drafted_and_submitted_cannot_reject(submitted_plan, national_regulator):
    with nothing_saved(), pytest.raises(SameRegulator) as refused:
        plan_reject(plan=submitted_plan, actor=national_regulator, reason="changed my mind")
    assert refused.value.code == "maker_checker"
    submitted_plan.refresh_from_db()
    assert submitted_plan.status == AllocationPlan.Status.SUBMITTED


def test_the_submitter_cannot_reject_a_colleagues_draft(draft_plan, second_national_regulator):
    plan = plan_submit(plan=draft_plan, actor=second_national_regulator)
    with nothing_saved(), pytest.raises(SameRegulator):
        plan_reject(plan=plan, actor=second_national_regulator, reason="no")


def test_the_submitter_cannot_approve_through_a_plan_read_before_it_submitted(
    draft_plan, cea21, company_a, second_national_regulator
):
    read_earlier = AllocationPlan.objects.get(pk=draft_plan.pk)  # e.g. a page opened before the submission
    plan_submit(plan=draft_plan, actor=second_national_regulator)
    with nothing_saved(), pytest.raises(SameRegulator):
        plan_approve(plan=read_earlier, actor=second_national_regulator)
    assert available(company_a, cea21) == 0


# --- state ---


def test_approving_twice_issues_once(submitted_plan, cea21, company_a, second_national_regulator, third_national_regulator):
    plan = plan_approve(plan=submitted_plan, actor=second_national_regulator)
    assert len(plan_transfers(plan)) == 1 + 3
    for checker in (second_national_regulator, third_national_regulator):
        with nothing_saved(), pytest.raises(PlanNotInState) as refused:
            plan_approve(plan=AllocationPlan.objects.get(pk=plan.pk), actor=checker)
        assert refused.value.code == "plan_state" and refused.value.status == 409
    assert len(plan_transfers(plan)) == 1 + 3
    assert available(company_a, cea21) == ISSUE_A
    plan.refresh_from_db()
    assert plan.decided_by == second_national_regulator


def test_approving_twice_with_the_same_instance_issues_once(submitted_plan, cea21, company_a, second_national_regulator):
    plan_approve(plan=submitted_plan, actor=second_national_regulator)
    submitted_plan.status = AllocationPlan.Status.SUBMITTED  # as a stale copy would say
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_approve(plan=submitted_plan, actor=second_national_regulator)
    assert available(company_a, cea21) == ISSUE_A


def test_a_draft_cannot_be_approved_or_rejected_before_it_is_submitted(draft_plan, second_national_regulator):
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_approve(plan=draft_plan, actor=second_national_regulator)
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_reject(plan=draft_plan, actor=second_national_regulator, reason="not ready")


def test_an_issued_plan_cannot_be_submitted_again(submitted_plan, cea21, company_a, national_regulator, second_national_regulator):
    plan = plan_approve(plan=submitted_plan, actor=second_national_regulator)
    for actor in (national_regulator, second_national_regulator):
        with nothing_saved(), pytest.raises(PlanNotInState) as refused:
            plan_submit(plan=plan, actor=actor)
        assert refused.value.code == "plan_state"
    plan.refresh_from_db()
    assert plan.status == AllocationPlan.Status.ISSUED and plan.submitted_by == national_regulator
    assert available(company_a, cea21) == ISSUE_A


def test_a_submitted_plan_cannot_be_submitted_again(submitted_plan, second_national_regulator):
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_submit(plan=submitted_plan, actor=second_national_regulator)


# --- rejection ---


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_rejection_needs_a_reason(submitted_plan, second_national_regulator, reason):
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_reject(plan=submitted_plan, actor=second_national_regulator, reason=reason)
    assert refused.value.field == "reason"
    submitted_plan.refresh_from_db()
    assert submitted_plan.status == AllocationPlan.Status.SUBMITTED


def test_a_rejected_plan_issues_nothing_and_cannot_be_approved_later(
    submitted_plan, cea21, company_a, company_b, second_national_regulator, third_national_regulator
):
    transfers_before = Transfer.objects.count()
    before = last_event_id()
    plan = plan_reject(plan=submitted_plan, actor=second_national_regulator, reason="  Heat figures unverified  ")
    assert plan.status == AllocationPlan.Status.REJECTED
    assert plan.decided_by == second_national_regulator and plan.decision_reason == "Heat figures unverified"
    assert events_after(before) == [("plan.reject", second_national_regulator.pk)]
    assert Transfer.objects.count() == transfers_before
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_approve(plan=plan, actor=third_national_regulator)
    with nothing_saved(), pytest.raises(PlanNotInState):
        plan_submit(plan=plan, actor=third_national_regulator)
    assert (available(company_a, cea21), available(company_b, cea21)) == (0, 0)


# --- who may do what ---


def test_a_provincial_regulator_cannot_approve_or_reject(
    period_2021, cea21, company_a, unit_c, shandong_regulator, national_regulator
):
    # A plan of Shandong units only, drafted and submitted by the ministry: the Shandong regulator is no maker.
    plan = import_csv(period=period_2021, vintage=cea21, actor=national_regulator, rows=[
        [company_a.uscc, "coal_gt300", "600000", "12345", "0.95"], [unit_c.uscc, "coal_le300", "250000.5", "0", "1.03"],
    ])
    plan = plan_submit(plan=plan, actor=national_regulator)
    with nothing_saved(), pytest.raises(PermissionDenied) as refused:
        plan_approve(plan=plan, actor=shandong_regulator)
    assert refused.value.code == "permission_denied"
    with nothing_saved(), pytest.raises(PermissionDenied):
        plan_reject(plan=plan, actor=shandong_regulator, reason="no")
    assert available(company_a, cea21) == 0


def test_a_provincial_regulator_cannot_submit_a_plan_with_another_provinces_unit(draft_plan, shandong_regulator):
    with nothing_saved(), pytest.raises(PermissionDenied) as refused:
        plan_submit(plan=draft_plan, actor=shandong_regulator)
    assert refused.value.code == "permission_denied"
    draft_plan.refresh_from_db()
    assert draft_plan.status == AllocationPlan.Status.DRAFT and draft_plan.submitted_by is None


@pytest.mark.parametrize("who", ["trader_a", "auditor", "exchange_operator"])
def test_only_regulators_take_part(request, period_2021, cea21, company_a, company_b, unit_c, submitted_plan, who):
    actor = request.getfixturevalue(who)
    with nothing_saved(), pytest.raises(PermissionDenied) as refused:
        import_csv(period=period_2021, vintage=cea21, rows=plan_rows(company_a, company_b, unit_c), actor=actor)
    assert refused.value.code == "permission_denied"
    with nothing_saved(), pytest.raises(PermissionDenied):
        plan_submit(plan=submitted_plan, actor=actor)
    with nothing_saved(), pytest.raises(PermissionDenied):
        plan_approve(plan=submitted_plan, actor=actor)
    with nothing_saved(), pytest.raises(PermissionDenied):
        plan_reject(plan=submitted_plan, actor=actor, reason="no")


def test_a_failed_approval_issues_nothing_and_leaves_the_plan_submitted(
    period_2021, cea21, company_a, national_regulator, second_national_regulator
):
    no_accounts = OrganizationFactory(province="37", uscc=make_uscc("37"), with_accounts=False)
    plan = import_csv(period=period_2021, vintage=cea21, actor=national_regulator, rows=[
        [company_a.uscc, "coal_gt300", "1000", "0", "1"], [no_accounts.uscc, "gas", "1000", "0", "1"],
    ])
    plan = plan_submit(plan=plan, actor=national_regulator)
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_approve(plan=plan, actor=second_national_regulator)
    assert refused.value.field == "plan"
    plan.refresh_from_db()
    assert plan.status == AllocationPlan.Status.SUBMITTED and plan.decided_by is None
    assert available(company_a, cea21) == 0


def test_a_true_up_drafted_while_a_pre_allocation_awaits_approval_does_not_over_issue(
    period_2021, cea21, company_a, national_regulator, second_national_regulator
):
    row = [[company_a.uscc, "coal_gt300", "1000", "0", "1"]]  # 1,000 x 0.8218 = 821.8 -> final allocation 822 t
    pre = plan_submit(plan=import_csv(period=period_2021, vintage=cea21, rows=row, actor=national_regulator),
                      actor=national_regulator)  # 70 %: 575.4 -> 575 t, not yet approved
    true_up = import_csv(period=period_2021, vintage=cea21, rows=row, actor=national_regulator, kind=AllocationPlan.Kind.TRUE_UP)
    true_up = plan_submit(plan=true_up, actor=national_regulator)
    plan_approve(plan=pre, actor=second_national_regulator)
    with pytest.raises(PlanNotInState):  # the true-up was worked out before the pre-allocation counted
        plan_approve(plan=true_up, actor=second_national_regulator)
    assert available(company_a, cea21) == 575
    again = import_csv(period=period_2021, vintage=cea21, rows=row, actor=national_regulator, kind=AllocationPlan.Kind.TRUE_UP)
    plan_approve(plan=plan_submit(plan=again, actor=national_regulator), actor=second_national_regulator)
    assert available(company_a, cea21) == 822  # not 575 + 822


# --- two checkers at once ---


def run_in_threads(work, count: int) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_checkers_approving_at_once_issue_exactly_once(
    period_2021, cea21, company_a, company_b, unit_c, national_regulator, second_national_regulator, third_national_regulator
):
    plan = import_csv(period=period_2021, vintage=cea21, rows=plan_rows(company_a, company_b, unit_c), actor=national_regulator)
    plan = plan_submit(plan=plan, actor=national_regulator)
    checkers = [second_national_regulator, third_national_regulator]

    def approve(index: int) -> int:
        fresh = AllocationPlan.objects.get(pk=plan.pk)  # each request reads the plan itself
        return plan_approve(plan=fresh, actor=checkers[index], reason=f"checker {index}").decided_by_id

    results, errors = run_in_threads(approve, 2)

    assert len(errors) == 1 and isinstance(errors[0], PlanNotInState), errors
    (winner,) = [result for result in results if result is not None]
    plan.refresh_from_db()
    assert plan.status == AllocationPlan.Status.ISSUED and plan.decided_by_id == winner
    transfers = plan_transfers(plan)
    assert [t.kind for t in transfers].count(Transfer.Kind.ISSUANCE) == 1 and len(transfers) == 1 + 3
    assert (available(company_a, cea21), available(company_b, cea21), available(unit_c, cea21)) == (ISSUE_A, ISSUE_B, ISSUE_C)
    assert AuditEvent.objects.filter(action="plan.approve", object_id=str(plan.pk)).count() == 1
    assert AuditEvent.objects.filter(action="registry.issue_and_allocate").count() == 1
    assert plan.issue_percent == Decimal("70")
