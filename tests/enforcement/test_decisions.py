"""Enforcement decisions (RULEBOOK.md: 2024-2026 rules, Enforcement): each kind's range, the
maker-checker, the scope of a provincial regulator, and what approval does to the ledger, the
compliance result and the next period's plan. Figures: see conftest.py."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from allocation.models import AllocationCut, Deduction
from compliance.models import ComplianceResult, Surrender
from core.errors import DomainError
from core.models import AuditEvent
from enforcement.models import Decision, FraudCase
from enforcement.selectors import halts_in_force
from enforcement.services import (
    case_open,
    decision_approve,
    decision_propose,
    decision_reject,
    halt_lift,
    halt_lift_propose,
    halt_lift_reject,
)
from registry.models import Transfer
from tests.compliance.helpers import balance, holding_account, officer_of, plan_issue
from tests.enforcement.conftest import FINE_HIGH, FINE_LOW, SHORTFALL
from tests.factories import OrganizationFactory

BASIS = "Interim Regulations on the Administration of Carbon Emission Trading, Art. 21"
FRAUD_BASIS = "Interim Regulations on the Administration of Carbon Emission Trading, Art. 22"


def refused(code, field, call, **kwargs):
    before = (Decision.objects.count(), AuditEvent.objects.count(), Transfer.objects.count())
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert (Decision.objects.count(), AuditEvent.objects.count(), Transfer.objects.count()) == before
    return caught.value


def propose(actor, kind, organization, period, **kwargs):
    return decision_propose(actor=actor, kind=kind, organization=organization, period=period, legal_basis=BASIS, **kwargs)


# --- the non-surrender fine ---


@pytest.mark.parametrize("amount", [FINE_LOW - 1, FINE_HIGH + 1])
def test_a_fine_outside_5_to_10_times_the_price_times_the_shortfall_is_refused(closed, company_b, national_regulator, amount):
    error = refused("amount_out_of_range", "amount", propose, actor=national_regulator, kind="non_surrender_fine",
                    organization=company_b, period=closed, amount=amount)
    assert "8,257,800.00" in error.message and "16,515,600.00" in error.message


@pytest.mark.parametrize("amount", [FINE_LOW, FINE_HIGH])
def test_a_fine_within_the_range_is_proposed_with_the_range_recorded(closed, company_b, national_regulator, amount):
    decision = propose(national_regulator, "non_surrender_fine", company_b, closed, amount=amount)
    assert (decision.status, decision.amount, decision.range_low, decision.range_high) == ("proposed", amount, FINE_LOW, FINE_HIGH)
    event = AuditEvent.objects.get(action="decision.propose", object_id=str(decision.pk))
    assert event.after["amount"] == amount and event.after["legal_basis"] == BASIS


def test_a_compliant_company_cannot_be_fined_for_not_surrendering(closed, company_a, national_regulator):
    refused("not_non_compliant", "organization", propose, actor=national_regulator, kind="non_surrender_fine",
            organization=company_a, period=closed, amount=FINE_LOW)


def test_the_proposer_cannot_approve_a_second_regulator_does(closed, company_b, national_regulator, second_national_regulator):
    decision = propose(national_regulator, "non_surrender_fine", company_b, closed, amount=FINE_LOW)
    refused("decision_maker_checker", None, decision_approve, actor=national_regulator, decision=decision)
    approved = decision_approve(actor=second_national_regulator, decision=decision, note="Agreed")
    assert (approved.status, approved.decided_by, approved.decision_note) == ("approved", second_national_regulator, "Agreed")
    assert AuditEvent.objects.filter(action="decision.approve", object_id=str(decision.pk), actor=second_national_regulator).exists()
    refused("decision_state", None, decision_approve, actor=second_national_regulator, decision=decision)


def test_a_rejection_needs_a_reason_and_ends_the_decision(closed, company_b, national_regulator, second_national_regulator):
    decision = propose(national_regulator, "non_surrender_fine", company_b, closed, amount=FINE_LOW)
    refused("invalid", "note", decision_reject, actor=second_national_regulator, decision=decision, note=" ")
    decision_reject(actor=second_national_regulator, decision=decision, note="The price is disputed")
    refused("decision_state", None, decision_approve, actor=second_national_regulator, decision=decision)
    assert Decision.objects.get(pk=decision.pk).status == "rejected"


def test_a_provincial_regulator_acts_only_within_its_province(closed, company_b, shandong_regulator, jiangsu_regulator,
                                                               national_regulator):
    refused("permission_denied", None, propose, actor=shandong_regulator, kind="non_surrender_fine", organization=company_b,
            period=closed, amount=FINE_LOW)
    decision = propose(jiangsu_regulator, "non_surrender_fine", company_b, closed, amount=FINE_LOW)
    refused("permission_denied", None, decision_approve, actor=shandong_regulator, decision=decision)
    assert decision_approve(actor=national_regulator, decision=decision).status == "approved"


def test_a_company_user_cannot_propose(closed, company_b):
    refused("permission_denied", None, propose, actor=officer_of(company_b), kind="non_surrender_fine",
            organization=company_b, period=closed, amount=FINE_LOW)


# --- forced surrender ---


def test_a_forced_surrender_cannot_exceed_the_shortfall(closed, company_b, national_regulator):
    refused("amount_out_of_range", "quantity", propose, actor=national_regulator, kind="forced_surrender",
            organization=company_b, period=closed, quantity=SHORTFALL + 1)


def test_a_forced_surrender_cannot_exceed_the_available_eligible_holdings(closed, company_b, national_regulator):
    # 7,526 CEA21 + 4,000 CEA19-20 = 11,526 t available.
    refused("insufficient_balance", "quantity", propose, actor=national_regulator, kind="forced_surrender",
            organization=company_b, period=closed, quantity=11_527)


def test_approval_surrenders_current_vintages_first_and_lowers_the_shortfall_and_the_deduction(
    closed, next_period, company_b, national_regulator, second_national_regulator
):
    holding = holding_account(company_b)
    assert Deduction.objects.get(organization=company_b, period=next_period).remaining == SHORTFALL
    decision = propose(national_regulator, "forced_surrender", company_b, closed, quantity=9_000)
    assert balance(holding, "CEA21").available == 7_526  # nothing moves before approval

    decision_approve(actor=second_national_regulator, decision=decision)

    assert balance(holding, "CEA21").available == 0
    assert balance(holding, "CEA19-20").available == 4_000 - 1_474
    surrenders = list(Surrender.objects.filter(client_request_id__startswith=decision.reference).order_by("id")
                      .values_list("asset__code", "quantity", "transfer__reference", "transfer__kind"))
    assert surrenders == [("CEA21", 7_526, f"{decision.reference}:CEA21", "surrender"),
                          ("CEA19-20", 1_474, f"{decision.reference}:CEA19-20", "surrender")]
    result = ComplianceResult.objects.get(organization=company_b, period=closed)
    assert (result.surrendered_allowances, result.shortfall, result.status) == (59_000, SHORTFALL - 9_000, "B")
    assert Deduction.objects.get(organization=company_b, period=next_period).remaining == SHORTFALL - 9_000
    event = AuditEvent.objects.get(action="decision.approve", object_id=str(decision.pk))
    assert event.after["surrenders"][0]["quantity"] == 7_526 and event.after["deduction_reduced"] == 9_000


def test_a_forced_surrender_is_checked_again_at_approval(closed, company_b, national_regulator, second_national_regulator):
    first = propose(national_regulator, "forced_surrender", company_b, closed, quantity=8_000)
    second = propose(national_regulator, "forced_surrender", company_b, closed, quantity=8_000)
    decision_approve(actor=second_national_regulator, decision=first)
    transfers = Transfer.objects.count()
    with pytest.raises(DomainError) as caught:
        decision_approve(actor=second_national_regulator, decision=second)
    assert (caught.value.code, caught.value.field) == ("insufficient_balance", "quantity")
    assert Transfer.objects.count() == transfers
    assert Decision.objects.get(pk=second.pk).status == "proposed"  # the refused approval left nothing behind


# --- production halt ---


def test_a_production_halt_is_a_flag_in_force_until_lifted(closed, company_b, national_regulator, second_national_regulator):
    decision = propose(national_regulator, "production_halt", company_b, closed)
    assert company_b.pk not in halts_in_force()
    refused("already_halted", "organization", propose, actor=national_regulator, kind="production_halt",
            organization=company_b, period=closed)
    decision_approve(actor=second_national_regulator, decision=decision)
    assert halts_in_force()[company_b.pk].pk == decision.pk
    refused("invalid", "note", halt_lift_propose, actor=second_national_regulator, decision=decision, note="")
    halt_lift_propose(actor=second_national_regulator, decision=decision, note="Surrendered the shortfall")
    assert halts_in_force()[company_b.pk].pk == decision.pk  # in force until a second regulator approves the lift
    refused("already_halted", "organization", propose, actor=national_regulator, kind="production_halt",
            organization=company_b, period=closed)
    halt_lift(actor=national_regulator, decision=decision)
    assert company_b.pk not in halts_in_force()
    lifted = Decision.objects.get(pk=decision.pk)
    assert (lifted.status, lifted.lift_proposed_by, lifted.lifted_by, lifted.lift_note) == (
        "lifted", second_national_regulator, national_regulator, "Surrendered the shortfall")
    assert [event.action for event in AuditEvent.objects.filter(object_id=str(decision.pk), action__startswith="decision.lift")
            .order_by("id")] == ["decision.lift_propose", "decision.lift"]


def test_a_halts_lift_needs_a_second_regulator_and_a_rejected_lift_leaves_the_halt(
        closed, company_b, national_regulator, second_national_regulator):
    decision = propose(national_regulator, "production_halt", company_b, closed)
    refused("decision_state", None, halt_lift_propose, actor=second_national_regulator, decision=decision,
            note="Too early: not yet approved")
    decision_approve(actor=second_national_regulator, decision=decision)
    refused("decision_state", None, halt_lift, actor=national_regulator, decision=decision)  # nothing proposed
    halt_lift_propose(actor=national_regulator, decision=decision, note="Complied")
    for call in (halt_lift, halt_lift_reject):  # the lift's proposer can neither approve nor reject it
        refused("decision_maker_checker", None, call, actor=national_regulator, decision=decision, note="Mine")
    refused("invalid", "note", halt_lift_reject, actor=second_national_regulator, decision=decision, note=" ")
    halt_lift_reject(actor=second_national_regulator, decision=decision, note="The shortfall is still open")
    rejected = Decision.objects.get(pk=decision.pk)
    assert (rejected.status, rejected.lift_proposed_by, rejected.lift_note) == ("approved", None, "")
    assert halts_in_force()[company_b.pk].pk == decision.pk
    assert AuditEvent.objects.get(action="decision.lift_reject", object_id=str(decision.pk)).actor == second_national_regulator
    # Proposed again, approved by the other regulator: lifted.
    halt_lift_propose(actor=second_national_regulator, decision=decision, note="Now complied")
    halt_lift(actor=national_regulator, decision=decision, note="Checked")
    assert company_b.pk not in halts_in_force()


# --- data fraud (Art. 22) ---


@pytest.fixture
def case_no_gains(closed, company_b, national_regulator):
    return case_open(actor=national_regulator, organization=company_b, subject="company", period=closed,
                     summary="Coal samples replaced before testing", gains=0)


@pytest.fixture
def case_with_gains(closed, company_b, national_regulator):
    return case_open(actor=national_regulator, organization=company_b, subject="company", period=closed,
                     summary="Emission factor falsified", gains=1_000_000_00)  # 1,000,000 CNY


def fraud(actor, kind, case, **kwargs):
    return decision_propose(actor=actor, kind=kind, organization=case.organization, period=case.period,
                            legal_basis=FRAUD_BASIS, case=case, **kwargs)


@pytest.mark.parametrize(("gains", "amount", "ok"), [
    # Without gains: 500,000 to 2,000,000 CNY.
    (0, 500_000_00 - 1, False), (0, 500_000_00, True), (0, 2_000_000_00, True), (0, 2_000_000_00 + 1, False),
    # Gains of 1,000,000 CNY: 5 to 10 x the gains.
    (1_000_000_00, 5_000_000_00 - 1, False), (1_000_000_00, 5_000_000_00, True), (1_000_000_00, 10_000_000_00, True),
    (1_000_000_00, 10_000_000_00 + 1, False),
    # Gains below 500,000 CNY: the fixed range.
    (200_000_00, 500_000_00, True), (200_000_00, 2_000_000_00 + 1, False),
])
def test_the_fraud_fine_range_follows_the_gains(closed, company_b, national_regulator, gains, amount, ok):
    case = case_open(actor=national_regulator, organization=company_b, subject="company", period=closed,
                     summary="Emission factor falsified", gains=gains)
    if ok:
        assert fraud(national_regulator, "fraud_fine", case, amount=amount).amount == amount
    else:
        refused("amount_out_of_range", "amount", fraud, actor=national_regulator, kind="fraud_fine", case=case, amount=amount)


def test_confiscation_takes_exactly_the_gains(case_with_gains, case_no_gains, national_regulator):
    refused("amount_out_of_range", "amount", fraud, actor=national_regulator, kind="confiscation", case=case_with_gains,
            amount=999_999_99)
    refused("amount_out_of_range", "amount", fraud, actor=national_regulator, kind="confiscation", case=case_no_gains,
            amount=1)
    assert fraud(national_regulator, "confiscation", case_with_gains, amount=1_000_000_00).status == "proposed"


@pytest.mark.parametrize(("amount", "ok"), [(50_000_00 - 1, False), (50_000_00, True), (200_000_00, True),
                                            (200_000_00 + 1, False)])
def test_a_responsible_individual_is_fined_50000_to_200000_cny(case_no_gains, national_regulator, amount, ok):
    if ok:
        assert fraud(national_regulator, "individual_fine", case_no_gains, amount=amount,
                     individual_name="Zhang San").individual_name == "Zhang San"
    else:
        refused("amount_out_of_range", "amount", fraud, actor=national_regulator, kind="individual_fine",
                case=case_no_gains, amount=amount, individual_name="Zhang San")


def test_an_individual_fine_names_the_individual(case_no_gains, national_regulator):
    refused("invalid", "individual_name", fraud, actor=national_regulator, kind="individual_fine", case=case_no_gains,
            amount=100_000_00)


def test_a_fraud_decision_needs_an_open_case_against_the_organization(closed, company_a, case_no_gains, national_regulator):
    refused("case_required", "case", decision_propose, actor=national_regulator, kind="fraud_fine", organization=case_no_gains.organization,
            period=closed, legal_basis=FRAUD_BASIS, amount=500_000_00)
    refused("case_required", "case", decision_propose, actor=national_regulator, kind="fraud_fine", organization=company_a,
            period=closed, legal_basis=FRAUD_BASIS, case=case_no_gains, amount=500_000_00)


def test_a_verifier_can_be_fined_but_its_allocation_not_cut(closed, national_regulator):
    body = OrganizationFactory(name="Verification Centre", kind="institution", sector="services", province="32")
    case = case_open(actor=national_regulator, organization=body, subject="verifier", period=closed, summary="Forged report")
    assert fraud(national_regulator, "fraud_fine", case, amount=600_000_00).organization == body
    refused("case_required", "case", fraud, actor=national_regulator, kind="allocation_cut", case=case, percent="60")


@pytest.mark.parametrize("percent", ["49.99", "100.01", "abc"])
def test_an_allocation_cut_is_50_to_100_percent(case_no_gains, national_regulator, percent):
    code = "invalid" if percent == "abc" else "amount_out_of_range"
    refused(code, "percent", fraud, actor=national_regulator, kind="allocation_cut", case=case_no_gains, percent=percent)


def test_an_approved_cut_is_withheld_when_the_next_plan_is_approved(
    case_no_gains, next_period, company_a, company_b, national_regulator, second_national_regulator
):
    decision = fraud(national_regulator, "allocation_cut", case_no_gains, percent="60")
    assert decision.target_period == next_period
    decision_approve(actor=second_national_regulator, decision=decision)
    cut = AllocationCut.objects.get(organization=company_b, period=next_period)
    assert cut.percent == Decimal("60.00") and Decision.objects.get(pk=decision.pk).allocation_cut == cut

    plan = plan_issue(next_period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000)],
                      maker=national_regulator, checker=second_national_regulator, vintage="CEA22")

    line_a, line_b = plan.lines.get(organization=company_a), plan.lines.get(organization=company_b)
    share = line_a.issue_amount  # company_a: no cut, no deduction: 70 % of the computed allocation
    cut_tonnes = (share * 60 + 50) // 100
    withheld = min(SHORTFALL, share - cut_tonnes)
    assert (line_b.issue_amount, line_b.deduction_amount) == (share - cut_tonnes - withheld, cut_tonnes + withheld)
    assert balance(holding_account(company_b), "CEA22").available == share - cut_tonnes - withheld
    assert Deduction.objects.get(organization=company_b, period=next_period).remaining == SHORTFALL - withheld


# --- records kept ---


@pytest.mark.django_db(transaction=True)
def test_decisions_cases_and_reports_refuse_delete(closed, company_b, national_regulator):
    decision = propose(national_regulator, "production_halt", company_b, closed)
    case = case_open(actor=national_regulator, organization=company_b, subject="company", period=closed, summary="x")
    for model, pk in ((Decision, decision.pk), (FraudCase, case.pk), (ComplianceResult, None), (Surrender, None)):
        rows = model.objects.filter(pk=pk) if pk else model.objects.all()
        with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
            rows.delete()
    assert Decision.objects.filter(pk=decision.pk).exists()
