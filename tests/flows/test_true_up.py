"""True-up: after verification the final allocation replaces the estimate; the difference is issued
or clawed back as new transfers, never edits (RULEBOOK.md: Allocation)."""

import io

import pytest

from allocation.models import AllocationPlan
from allocation.services import allocation_import, period_create, plan_approve, plan_submit
from core.errors import InsufficientBalance
from core.models import AuditEvent
from registry.models import Account, Asset, Balance, Transfer

HEADER = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         actor=national_regulator)


def issue(period, rows, *, maker, checker, kind=AllocationPlan.Kind.PRE_ALLOCATION):
    plan = allocation_import(period=period, vintage=Asset.objects.get(code="CEA21"), stream=io.BytesIO((HEADER + rows).encode()),
                             filename="plan.csv", actor=maker, kind=kind)
    plan_submit(plan=plan, actor=maker)
    return plan_approve(plan=plan, actor=checker)


def holding(organization):
    return Balance.objects.get(account__organization=organization, account__kind=Account.Kind.HOLDING, asset__code="CEA21")


def test_a_true_up_tops_up_one_unit_and_claws_back_from_another(
    period, company_a, company_b, national_regulator, second_national_regulator
):
    # Estimates: A 1,000,000 MWh x 0.8218 = 821,800 t, 70 % = 575,260 t; B 1,000,000 x 0.8218, the same.
    issue(period, f"{company_a.uscc},coal_gt300,1000000,0,1\n{company_b.uscc},coal_gt300,1000000,0,1\n",
          maker=national_regulator, checker=second_national_regulator)
    assert holding(company_a).available == holding(company_b).available == 575_260

    # Verified: A produced 1,200,000 MWh -> final 986,160 t, top-up 410,900 t;
    # B produced 600,000 MWh -> final 493,080 t, claw back 82,180 t.
    plan = issue(period, f"{company_a.uscc},coal_gt300,1200000,0,1\n{company_b.uscc},coal_gt300,600000,0,1\n",
                 maker=national_regulator, checker=second_national_regulator, kind=AllocationPlan.Kind.TRUE_UP)
    assert (plan.status, plan.total_issue, plan.total_clawback) == ("issued", 410_900, 82_180)
    assert holding(company_a).available == 986_160
    assert holding(company_b).available == 493_080
    clawback = Transfer.objects.get(kind=Transfer.Kind.CLAWBACK, reference=f"plan:{plan.pk}")
    assert (clawback.amount, clawback.source.organization, clawback.destination.kind) == (82_180, company_b, "national_issuance")
    assert AuditEvent.objects.filter(action="registry.clawback").count() == 1
    # Earlier transfers are untouched: history is only ever added to.
    assert Transfer.objects.filter(kind=Transfer.Kind.ALLOCATION).count() == 3


def test_a_second_true_up_settles_against_everything_issued_so_far(
    period, company_a, national_regulator, second_national_regulator
):
    issue(period, f"{company_a.uscc},gas,100000,0,1\n", maker=national_regulator, checker=second_national_regulator)
    # 100,000 x 0.392 = 39,200 t; 70 % = 27,440 t issued.
    issue(period, f"{company_a.uscc},gas,150000,0,1\n", maker=national_regulator, checker=second_national_regulator,
          kind=AllocationPlan.Kind.TRUE_UP)
    assert holding(company_a).available == 58_800  # 150,000 x 0.392
    again = issue(period, f"{company_a.uscc},gas,150000,0,1\n", maker=national_regulator, checker=second_national_regulator,
                  kind=AllocationPlan.Kind.TRUE_UP)
    assert (again.total_issue, again.total_clawback) == (0, 0)
    assert holding(company_a).available == 58_800


def test_a_claw_back_the_unit_cannot_pay_refuses_the_whole_approval(
    period, company_a, company_b, national_regulator, second_national_regulator
):
    from registry.services import allowances_retire

    issue(period, f"{company_a.uscc},coal_gt300,1000000,0,1\n", maker=national_regulator, checker=second_national_regulator)
    account = Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)
    allowances_retire(account=account, asset=Asset.objects.get(code="CEA21"), amount=575_000, actor=None)
    plan = allocation_import(
        period=period, vintage=Asset.objects.get(code="CEA21"), filename="t.csv", actor=national_regulator,
        stream=io.BytesIO((HEADER + f"{company_a.uscc},coal_gt300,100000,0,1\n{company_b.uscc},gas,1000,0,1\n").encode()),
        kind=AllocationPlan.Kind.TRUE_UP,
    )
    plan_submit(plan=plan, actor=national_regulator)
    with pytest.raises(InsufficientBalance):
        plan_approve(plan=plan, actor=second_national_regulator)
    plan.refresh_from_db()
    assert plan.status == AllocationPlan.Status.SUBMITTED
    assert not Transfer.objects.filter(reference=f"plan:{plan.pk}").exists()
    assert holding(company_b).available == 0
