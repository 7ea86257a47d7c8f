"""A unit's earlier shortfall is withheld from its next allocation, in equal quantity, when the
plan that includes it is approved."""

import io

import pytest

from allocation.models import AllocationPlan, Deduction
from allocation.services import allocation_import, deduction_enter, period_create, plan_approve, plan_submit
from core.errors import InvalidInput, PermissionDenied
from core.models import AuditEvent
from registry.models import Account, Asset, Balance

HEADER = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"


@pytest.fixture
def period(national_regulator):
    return period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                         actor=national_regulator)


def draft(period, rows, actor):
    return allocation_import(period=period, vintage=Asset.objects.get(code="CEA22"), stream=io.BytesIO((HEADER + rows).encode()),
                             filename="plan.csv", actor=actor)


def held(organization):
    return Balance.objects.get(account__organization=organization, account__kind=Account.Kind.HOLDING, asset__code="CEA22").available


def test_a_shortfall_is_withheld_from_the_next_allocation(period, company_a, company_b, national_regulator, second_national_regulator):
    deduction_enter(organization=company_a, period=period, tonnes=10_000, reason="2021 shortfall", actor=national_regulator)
    assert AuditEvent.objects.filter(action="deduction.enter").count() == 1
    # 100,000 MWh x 0.8177 = 81,770 t; 70 % = 57,239 t; less the 10,000 t shortfall = 47,239 t.
    plan = draft(period, f"{company_a.uscc},coal_gt300,100000,0,1\n{company_b.uscc},coal_gt300,100000,0,1\n", national_regulator)
    line = plan.lines.get(organization=company_a)
    assert (line.deduction_amount, line.issue_amount) == (10_000, 47_239)
    assert Deduction.objects.get().remaining == 10_000  # nothing applied before approval
    plan_submit(plan=plan, actor=national_regulator)
    plan_approve(plan=plan, actor=second_national_regulator)
    assert (held(company_a), held(company_b)) == (47_239, 57_239)
    assert Deduction.objects.get().remaining == 0


def test_a_deduction_larger_than_the_issue_carries_the_rest(period, company_a, national_regulator, second_national_regulator):
    deduction_enter(organization=company_a, period=period, tonnes=60_000, reason="2021 shortfall", actor=national_regulator)
    plan = draft(period, f"{company_a.uscc},coal_gt300,100000,0,1\n", national_regulator)
    assert plan.lines.get().deduction_amount == 57_239
    plan_submit(plan=plan, actor=national_regulator)
    plan_approve(plan=plan, actor=second_national_regulator)
    assert held(company_a) == 0
    assert Deduction.objects.get().remaining == 60_000 - 57_239
    true_up = allocation_import(period=period, vintage=Asset.objects.get(code="CEA22"), filename="t.csv", actor=national_regulator,
                                stream=io.BytesIO((HEADER + f"{company_a.uscc},coal_gt300,100000,0,1\n").encode()),
                                kind=AllocationPlan.Kind.TRUE_UP)
    # Final 81,770 t; 57,239 t counted as given (withheld or issued): 24,531 t due, less the 2,761 t still owed.
    line = true_up.lines.get()
    assert (line.deduction_amount, line.issue_amount) == (2_761, 81_770 - 57_239 - 2_761)


def test_a_deduction_needs_positive_tonnes_a_reason_and_a_regulator(period, company_a, trader_a, national_regulator):
    with pytest.raises(InvalidInput):
        deduction_enter(organization=company_a, period=period, tonnes=0, reason="x", actor=national_regulator)
    with pytest.raises(InvalidInput):
        deduction_enter(organization=company_a, period=period, tonnes=5, reason=" ", actor=national_regulator)
    with pytest.raises(PermissionDenied):
        deduction_enter(organization=company_a, period=period, tonnes=5, reason="x", actor=trader_a)
    assert not Deduction.objects.exists()
