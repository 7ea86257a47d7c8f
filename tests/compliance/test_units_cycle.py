"""A company with three units of two sectors through a whole cycle (issue 19, "Done when"), and verified
emissions per gas (item 3).

By hand (period 2024, CEA24): Hunan Power & Aluminium has P1 (coal above 300 MW), P2 (gas) and A1 (a
potline, aluminium).
- Verified: P1 90,000 t; P2 50,000 t; A1 per gas: 100,000 t CO2 + 2 t CF4 x 6,630 + 0.4 t C2F6 x 11,100
  = 100,000 + 13,260 + 4,440 = 117,700 tCO2e. The company: 257,700 t.
- Allocation (one plan, issued at 100 %): P1 100,000 MWh x 0.8177 = 81,770 t; P2 100,000 MWh x 0.3901 =
  39,010 t; A1 (method verified, 2024) = its verified 117,700 t. The company: 238,480 CEA24.
- Obligations, each unit on its own: P1 min(90,000, 81,770 + 20 % x 90,000 = 99,770) = 90,000; P2 (gas)
  min(50,000, 39,010) = 39,010; A1 min(117,700, 117,700 + 23,540) = 117,700. The company: 246,710 t.
- It surrenders all it holds, 238,480 t: shortfall 8,230 t, status B."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation.models import AllocationPlan, EmittingUnit
from allocation.services import allocation_import, period_create, plan_approve, plan_submit
from compliance.models import ComplianceResult, VerifiedEmission
from compliance.selectors import obligation_of
from compliance.services import compliance_deadline_run, surrender_create, verified_emissions_import
from core.errors import ImportRefused
from registry.models import Asset
from reports.selectors import compliance_table
from tests.compliance.helpers import balance, holding_account, officer_of, state
from tests.factories import OrganizationFactory, make_uscc

GASES = "uscc,unit_code,sector,verified_emissions,co2_t,cf4_t,c2f6_t\n"


@pytest.fixture
def period(national_regulator):
    return period_create(code="2024", first_year=2024, last_year=2024, vintages=[Asset.objects.get(code="CEA24")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=30), actor=national_regulator)


@pytest.fixture
def company(db):
    return OrganizationFactory(name="Hunan Power & Aluminium Co., Ltd.", province="43", uscc=make_uscc("43"))


def verify(period, body: str, actor) -> int:
    return verified_emissions_import(period=period, stream=io.BytesIO(body.encode()), filename="verified.csv", actor=actor)


def test_verified_emissions_per_gas_are_stored_per_gas_and_in_tco2e(period, company, national_regulator, settings):
    verify(period, GASES + f"{company.uscc},A1,aluminium,,100000,2,0.4\n{company.uscc},P1,power,90000,,,\n", national_regulator)
    potline = VerifiedEmission.objects.get(unit__code="A1")
    assert (potline.tonnes, potline.co2_t, potline.cf4_t, potline.c2f6_t) == (117_700, Decimal("100000"), Decimal("2"), Decimal("0.4"))
    assert (potline.cf4_gwp, potline.c2f6_gwp) == (6_630, 11_100)
    power = VerifiedEmission.objects.get(unit__code="P1")
    assert (power.tonnes, power.co2_t, power.cf4_gwp) == (90_000, None, None)
    assert EmittingUnit.objects.get(organization=company, code="A1").sector == "aluminium"

    # The GWPs are a setting: changed, they weigh the next records (the stored ones keep theirs).
    settings.COMPLIANCE_GWP = {"cf4": 7_380, "c2f6": 12_400}
    verify(period, GASES + f"{company.uscc},A2,aluminium,,0,1,1\n", national_regulator)
    assert VerifiedEmission.objects.get(unit__code="A2").tonnes == 7_380 + 12_400
    assert VerifiedEmission.objects.get(unit__code="A1").tonnes == 117_700


def test_the_total_rounds_half_up_once(period, company, national_regulator):
    # 2.4 t CO2 + 0.001 t C2F6 x 11,100 = 13.5 tCO2e -> 14 (half up, once, on the total)
    verify(period, GASES + f"{company.uscc},A1,aluminium,,2.4,0,0.001\n", national_regulator)
    assert VerifiedEmission.objects.get(unit__code="A1").tonnes == 14


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        pytest.param("{uscc},P1,power,,100,1,0", "cf4_t", "CF4 and C2F6 count for aluminium units only", id="pfc-outside-aluminium"),
        pytest.param("{uscc},A1,aluminium,5,100,1,0", "verified_emissions", "give the total or the gases, not both", id="both"),
        pytest.param("{uscc},A1,aluminium,,100,-1,0", "cf4_t", "must not be negative", id="negative-gas"),
        pytest.param("{uscc},A1,aluminium,,100,x,0", "cf4_t", "", id="not-a-number"),
        pytest.param("{uscc},A1,smelting,,100,1,0", "sector", "unknown sector 'smelting'", id="unknown-sector"),
    ],
)
def test_a_bad_gas_row_is_refused_and_nothing_is_saved(period, company, national_regulator, row, field, message):
    before = state()
    with pytest.raises(ImportRefused) as refused:
        verify(period, GASES + row.format(uscc=company.uscc) + "\n", national_regulator)
    assert any(e.field == field and message in e.message for e in refused.value.errors), refused.value.errors
    assert state() == before and not EmittingUnit.objects.filter(organization=company).exists()


def three_units_allocated(period, company, maker, checker) -> None:
    """The company's three units verified (the potline per gas) and allocated by one issued plan."""
    verify(period, GASES + f"{company.uscc},P1,power,90000,,,\n{company.uscc},P2,power,50000,,,\n"
                           f"{company.uscc},A1,aluminium,,100000,2,0.4\n", maker)
    body = ("uscc,unit_code,sector,unit_category,electricity_mwh,heat_gj,product_output_t,correction_factor\n"
            f"{company.uscc},P1,power,coal_gt300,100000,0,,1\n{company.uscc},P2,power,gas,100000,0,,1\n"
            f"{company.uscc},A1,aluminium,aluminium,,,,\n")
    plan = allocation_import(period=period, vintage=Asset.objects.get(code="CEA24"), stream=io.BytesIO(body.encode()),
                             filename="plan.csv", actor=maker, issue_percent=Decimal(100),
                             kind=AllocationPlan.Kind.PRE_ALLOCATION)
    plan_submit(plan=plan, actor=maker)
    plan_approve(plan=plan, actor=checker)


def test_a_company_with_three_units_of_two_sectors_goes_through_a_whole_cycle(
    period, company, national_regulator, second_national_regulator,
):
    three_units_allocated(period, company, national_regulator, second_national_regulator)
    cea24 = balance(holding_account(company), "CEA24")
    assert cea24.available == 81_770 + 39_010 + 117_700 == 238_480

    obligation = obligation_of(period, company)
    assert (obligation.allocated, obligation.verified_emissions, obligation.obligation) == (238_480, 257_700, 246_710)
    assert [(u.code, u.sector, u.allocated, u.verified_emissions, u.obligation) for u in obligation.units] == [
        ("A1", "aluminium", 117_700, 117_700, 117_700), ("P1", "power", 81_770, 90_000, 90_000),
        ("P2", "power", 39_010, 50_000, 39_010)]

    surrender_create(user=officer_of(company), period=period, asset="CEA24", quantity=238_480, client_request_id="all")
    cea24.refresh_from_db()
    assert cea24.available == 0

    assert compliance_deadline_run(period=period, actor=second_national_regulator) == {"A": 0, "B": 1, "C": 0}
    result = ComplianceResult.objects.get(period=period, organization=company)
    assert (result.status, result.obligation, result.surrendered_allowances, result.shortfall) == ("B", 246_710, 238_480, 8_230)
    assert [(u["code"], u["obligation"]) for u in result.units] == [("A1", 117_700), ("P1", 90_000), ("P2", 39_010)]
    # The compliance table (and its exports) break the company's row down by unit.
    row = compliance_table(period, None).rows[0]
    assert row.units_lines == ["A1 (Aluminium): allocated 117,700 t, verified 117,700 t, obligation 117,700 t",
                               "P1 (Power): allocated 81,770 t, verified 90,000 t, obligation 90,000 t",
                               "P2 (Power): allocated 39,010 t, verified 50,000 t, obligation 39,010 t"]
    # (the ledger's invariants are checked after every test by tests/conftest.py)
