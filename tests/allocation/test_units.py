"""Emitting units and the allocation methods (issue 19, items 1 and 2): the original import format
still gives a company its one unit; the units format names several units of several sectors; each
category is computed by its method on the period's benchmark table.

By hand (a cement company with two clinker lines and a power unit, periods 2024 and 2025):
- 2024, the new sectors' first year (method `verified`): L1 verified 800,000 t -> allocated 800,000 t;
  L2 600,000 t -> 600,000 t. The power unit P1 stays on the benchmark formula: 600,000 MWh x 0.8177
  (coal above 300 MW, the 2022 table) = 490,620 t.
- 2025 pre-allocation (method `intensity`, 70 % of the previous year's verified emissions): L1 70 % x
  800,000 = 560,000 t whatever the plan's issue share; P1 keeps the plan's share, 60 % x 490,620 =
  294,372 t.
- 2025 true-up on verified output: L1 1,000,000 t of clinker x 0.86 = 860,000 t, 560,000 already issued:
  300,000 t more."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from allocation.models import AllocationPlan, Benchmark, CompliancePeriod, EmittingUnit
from allocation.services import allocation_import, period_create, plan_approve, plan_submit
from compliance.services import verified_emissions_import
from core.errors import ImportRefused
from registry.models import Asset
from tests.allocation.conftest import available, nothing_saved
from tests.factories import OrganizationFactory, make_uscc

UNIT_HEADER = "uscc,unit_code,sector,unit_category,electricity_mwh,heat_gj,product_output_t,correction_factor\n"


@pytest.fixture
def period_2024(national_regulator) -> CompliancePeriod:
    return period_create(code="2024", first_year=2024, last_year=2024, vintages=[Asset.objects.get(code="CEA24")],
                         actor=national_regulator)


@pytest.fixture
def period_2025(national_regulator, period_2024) -> CompliancePeriod:
    return period_create(code="2025", first_year=2025, last_year=2025, vintages=[Asset.objects.get(code="CEA25")],
                         actor=national_regulator)


@pytest.fixture
def cement(db):
    return OrganizationFactory(name="Anhui Conch Cement Co., Ltd.", province="34", uscc=make_uscc("34"))


def plan(period, body: str, actor, *, vintage: str, kind=AllocationPlan.Kind.PRE_ALLOCATION, percent="100") -> AllocationPlan:
    return allocation_import(period=period, vintage=Asset.objects.get(code=vintage), stream=io.BytesIO(body.encode()),
                             filename="plan.csv", actor=actor, kind=kind, issue_percent=Decimal(percent))


def issued(period, body: str, maker, checker, **kwargs) -> AllocationPlan:
    drafted = plan(period, body, maker, **kwargs)
    plan_submit(plan=drafted, actor=maker)
    return plan_approve(plan=drafted, actor=checker)


def verify_units(period, body: str, actor) -> int:
    return verified_emissions_import(period=period, stream=io.BytesIO(body.encode()), filename="verified.csv", actor=actor)


def lines_by_unit(drafted: AllocationPlan) -> dict[str, tuple[int, int]]:
    return {line.unit.code: (line.computed_allocation, line.issue_amount) for line in drafted.lines.select_related("unit")}


def test_the_new_periods_benchmark_tables_carry_the_assumed_sector_defaults(period_2024, period_2025):
    rows = {(b.period.code, b.unit_category): b for b in Benchmark.objects.filter(sector__in=["steel", "cement", "aluminium"])}
    assert {category: rows[("2025", category)].product_intensity for category in ("crude_steel", "clinker", "aluminium")} == {
        "crude_steel": Decimal("1.9"), "clinker": Decimal("0.86"), "aluminium": Decimal("1.5")}
    assert all(row.assumed for row in rows.values())
    assert {rows[("2024", c)].method for c in ("crude_steel", "clinker", "aluminium")} == {"verified"}
    assert {(rows[("2025", c)].method, rows[("2025", c)].pre_allocation_share, rows[("2025", c)].pre_allocation_basis)
            for c in ("crude_steel", "clinker", "aluminium")} == {("intensity", Decimal("70"), "previous_verified")}
    assert not Benchmark.objects.filter(period__code="2021", sector="steel").exists()


def test_the_original_format_gives_a_company_its_one_unit(period_2021, cea21, company_a, national_regulator):
    body = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n" f"{company_a.uscc},coal_gt300,100000,0,1\n"
    drafted = plan(period_2021, body, national_regulator, vintage="CEA21", percent="70")
    unit = EmittingUnit.objects.get(organization=company_a)
    assert (unit.code, unit.sector, unit.category, unit.province) == ("U1", "power", "coal_gt300", company_a.province)
    assert lines_by_unit(drafted) == {"U1": (82_180, 57_526)}
    # The same company again, by the original format: its one unit, found, not made twice.
    plan(period_2021, body, national_regulator, vintage="CEA21", percent="70", kind=AllocationPlan.Kind.TRUE_UP)
    assert EmittingUnit.objects.filter(organization=company_a).count() == 1


def test_a_company_with_units_of_two_sectors_is_allocated_by_each_method(
    period_2024, period_2025, cement, national_regulator, second_national_regulator,
):
    verify_units(period_2024, "uscc,unit_code,sector,verified_emissions\n"
                              f"{cement.uscc},L1,cement,800000\n{cement.uscc},L2,cement,600000\n", national_regulator)
    first = issued(period_2024, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,,\n{cement.uscc},L2,,clinker,,,,\n"
                                              f"{cement.uscc},P1,power,coal_gt300,600000,0,,1\n",
                   national_regulator, second_national_regulator, vintage="CEA24")
    assert lines_by_unit(first) == {"L1": (800_000, 800_000), "L2": (600_000, 600_000), "P1": (490_620, 490_620)}
    assert {line.unit.code: line.method for line in first.lines.select_related("unit")} == {
        "L1": "verified", "L2": "verified", "P1": "benchmark"}
    assert available(cement, Asset.objects.get(code="CEA24")) == 1_890_620
    assert dict(EmittingUnit.objects.filter(organization=cement).values_list("code", "sector")) == {
        "L1": "cement", "L2": "cement", "P1": "power"}

    pre = issued(period_2025, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,,\n{cement.uscc},P1,power,coal_gt300,600000,0,,1\n",
                 national_regulator, second_national_regulator, vintage="CEA25", percent="60")
    assert lines_by_unit(pre) == {"L1": (800_000, 560_000), "P1": (490_620, 294_372)}
    assert pre.lines.get(unit__code="L1").verified_basis == 800_000

    true_up = issued(period_2025, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,1000000,1\n",
                     national_regulator, second_national_regulator, vintage="CEA25", kind=AllocationPlan.Kind.TRUE_UP)
    line = true_up.lines.get()
    assert (line.method, line.computed_allocation, line.issued_before, line.issue_amount) == ("intensity", 860_000, 560_000, 300_000)
    assert available(cement, Asset.objects.get(code="CEA25")) == 560_000 + 294_372 + 300_000


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        pytest.param("{uscc},L1,steel,clinker,,,1000,1\n", "sector", "category clinker belongs to sector cement", id="sector-mismatch"),
        pytest.param("{uscc},L1,glass,clinker,,,1000,1\n", "sector", "unknown sector 'glass'", id="unknown-sector"),
        pytest.param("{uscc},L 1,cement,clinker,,,1000,1\n", "unit_code", "a unit code is 1 to 32", id="bad-code"),
        pytest.param("{uscc},L1,cement,clinker,,,,1\n", "product_output_t", "missing", id="intensity-without-output"),
        pytest.param("{uscc},L1,cement,clinker,,,-5,1\n", "product_output_t", "must not be negative", id="negative-output"),
        pytest.param("{uscc},P1,power,coal_gt300,,0,,1\n", "electricity_mwh", "", id="power-without-electricity"),
        pytest.param("{uscc},L1,cement,clinker,,,1000,1\n{uscc},l1,cement,clinker,,,1000,1\n", "uscc", "duplicate unit",
                     id="duplicate-unit"),
    ],
)
def test_a_bad_units_row_is_refused_by_field_and_nothing_is_saved(period_2025, cement, national_regulator, rows, field, message):
    body = UNIT_HEADER + rows.format(uscc=cement.uscc)
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan(period_2025, body, national_regulator, vintage="CEA25", kind=AllocationPlan.Kind.TRUE_UP)
    assert any(error.field == field and message in error.message for error in refused.value.errors), refused.value.errors
    assert not EmittingUnit.objects.filter(organization=cement).exists()


def test_the_verified_method_needs_the_units_verified_emissions(period_2024, cement, national_regulator):
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan(period_2024, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,,\n", national_regulator, vintage="CEA24")
    assert [(e.field, e.message) for e in refused.value.errors] == [("unit_code", "unit L1 has no verified emissions for 2024")]


def test_a_pre_allocation_on_the_previous_year_needs_that_years_verified_emissions(period_2025, cement, national_regulator):
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan(period_2025, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,,\n", national_regulator, vintage="CEA25")
    assert [(e.field, e.message) for e in refused.value.errors] == [("unit_code", "unit L1 has no verified emissions for 2024")]


def test_a_company_with_several_units_must_name_the_unit(period_2024, period_2025, cement, national_regulator):
    verify_units(period_2024, "uscc,unit_code,sector,verified_emissions\n"
                              f"{cement.uscc},L1,cement,1\n{cement.uscc},L2,cement,2\n", national_regulator)
    body = "uscc,unit_category,electricity_mwh,heat_gj\n" f"{cement.uscc},coal_gt300,1000,0\n"
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan(period_2025, body, national_regulator, vintage="CEA25")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("unit_code", "Anhui Conch Cement Co., Ltd. has 2 units: give the unit_code")]


def test_an_existing_units_sector_cannot_change(period_2024, period_2025, cement, national_regulator):
    verify_units(period_2024, "uscc,unit_code,sector,verified_emissions\n" f"{cement.uscc},L1,cement,1\n", national_regulator)
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan(period_2025, UNIT_HEADER + f"{cement.uscc},L1,,crude_steel,,,5,1\n", national_regulator, vintage="CEA25",
             kind=AllocationPlan.Kind.TRUE_UP)
    assert [(e.field, e.message) for e in refused.value.errors] == [("sector", "unit L1 is in sector cement")]


def test_the_original_format_header_still_needs_its_power_columns(period_2021, cea21, company_a, national_regulator):
    from core.errors import InvalidInput

    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan(period_2021, "uscc,unit_category,electricity_mwh\n" f"{company_a.uscc},gas,1\n", national_regulator, vintage="CEA21")
    assert refused.value.message.startswith("The header lacks heat_gj")


def test_a_benchmark_row_edited_in_its_admin_page_is_audited_and_used_by_the_next_plan(
    client, period_2024, period_2025, cement, national_regulator,
):
    from django.urls import reverse

    from core.models import AuditEvent
    from tests.auth import login

    clinker = Benchmark.objects.get(period=period_2025, unit_category="clinker")
    national_regulator.is_staff = True
    national_regulator.save()
    login(client, national_regulator)
    url = reverse("admin:allocation_benchmark_change", args=[clinker.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "period": period_2025.pk, "sector": "cement", "unit_category": "clinker", "method": "intensity", "electricity": "0",
        "heat": "0", "product_intensity": "0.8400", "pre_allocation_share": "70", "pre_allocation_basis": "previous_verified",
    })  # "assumed" unticked: the regulator has checked the figure
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="benchmark.change", object_id=str(clinker.pk))
    assert event.actor == national_regulator
    assert event.before == {"product_intensity": "0.8600", "assumed": "True"}
    assert event.after == {"product_intensity": "0.8400", "assumed": "False"}
    drafted = plan(period_2025, UNIT_HEADER + f"{cement.uscc},L1,cement,clinker,,,1000000,1\n", national_regulator,
                   vintage="CEA25", kind=AllocationPlan.Kind.TRUE_UP)
    assert lines_by_unit(drafted) == {"L1": (840_000, 840_000)}
