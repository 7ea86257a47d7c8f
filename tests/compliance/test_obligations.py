"""Obligations (RULEBOOK.md: Allocation, shortfall cap; Compliance cycle): the verified emissions,
capped at the free allocation + 20 % of them (rounded down), a gas unit's at its allocation; offsets
may cover floor(5 %) of the obligation.

2021 benchmarks: coal > 300 MW 0.8218 t/MWh, gas 0.392 t/MWh; a pre-allocation issues 70 %."""

import pytest

from allocation.models import AllocationPlan
from allocation.services import deduction_enter, period_create, plan_submit
from compliance.selectors import obligation_amount, obligation_of, obligations
from registry.models import Asset
from tests.compliance.helpers import balance, holding_account, plan_import, plan_issue, verify
from tests.factories import OrganizationFactory, make_uscc


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         actor=national_regulator)


@pytest.fixture
def gas_unit(db):
    return OrganizationFactory(name="Shenzhen Gas Turbine Power Co., Ltd.", province="44", uscc=make_uscc("44"))


@pytest.fixture
def unverified_unit(db):
    return OrganizationFactory(name="Zhejiang Coal Power Co., Ltd.", province="33", uscc=make_uscc("33"))


# --- the arithmetic alone ---


def test_an_obligation_below_the_allocation_is_the_verified_emissions():
    assert obligation_amount(allocated=57_526, verified=50_000, gas=False) == 50_000
    assert obligation_amount(allocated=57_526, verified=0, gas=False) == 0


def test_an_obligation_far_above_the_allocation_is_capped_at_allocation_plus_twenty_percent_rounded_down():
    # 20 % of 123,459 = 24,691.8 -> 24,691 (down, not to the nearest); cap 57,526 + 24,691 = 82,217 < 123,459.
    assert obligation_amount(allocated=57_526, verified=123_459, gas=False) == 82_217
    # Just under the cap the verified emissions still apply: 50,000 + 20 % of 62,500 = 62,500.
    assert obligation_amount(allocated=50_000, verified=62_500, gas=False) == 62_500
    assert obligation_amount(allocated=50_000, verified=62_503, gas=False) == 62_500  # 50,000 + floor(12,500.6)


def test_a_gas_units_obligation_is_capped_at_its_allocation_without_the_twenty_percent():
    assert obligation_amount(allocated=27_440, verified=50_000, gas=True) == 27_440
    assert obligation_amount(allocated=27_440, verified=20_000, gas=True) == 20_000
    assert obligation_amount(allocated=27_440, verified=50_000, gas=False) == 37_440  # the same as coal: + 10,000


def test_without_verified_emissions_the_obligation_is_zero():
    assert obligation_amount(allocated=57_526, verified=None, gas=False) == 0
    assert obligation_amount(allocated=57_526, verified=None, gas=True) == 0


# --- obligations() over issued plans, verified emissions and surrenders ---


@pytest.fixture
def four_units(period, company_a, company_b, gas_unit, unverified_unit, national_regulator, second_national_regulator):
    # company_a, company_b: 100,000 MWh x 0.8218 = 82,180 t, 70 % = 57,526 t issued.
    # gas_unit: 100,000 MWh x 0.392 = 39,200 t, 70 % = 27,440 t.
    # unverified_unit: 50,000 MWh x 0.8218 = 41,090 t, 70 % = 28,763 t.
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000),
                        (gas_unit, "gas", 100_000), (unverified_unit, "coal_gt300", 50_000)],
               maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 50_000, company_b: 123_459, gas_unit: 50_000})
    return {o.organization: o for o in obligations(period)}


def test_obligations_cover_every_allocated_or_verified_unit_with_its_own_figures(
    four_units, company_a, company_b, gas_unit, unverified_unit
):
    assert set(four_units) == {company_a, company_b, gas_unit, unverified_unit}
    below = four_units[company_a]
    assert (below.allocated, below.verified_emissions, below.obligation, below.gas) == (57_526, 50_000, 50_000, False)
    above = four_units[company_b]
    assert (above.allocated, above.verified_emissions, above.obligation) == (57_526, 123_459, 82_217)  # 57,526 + floor(24,691.8)
    gas = four_units[gas_unit]
    assert (gas.allocated, gas.verified_emissions, gas.obligation, gas.gas) == (27_440, 50_000, 27_440, True)


def test_a_unit_without_verified_emissions_owes_nothing_yet_and_is_open(four_units, unverified_unit):
    none = four_units[unverified_unit]
    assert (none.allocated, none.verified_emissions, none.obligation, none.shortfall) == (28_763, None, 0, 0)
    assert none.status == "open"
    assert none.offset_cap == 0


def test_before_any_surrender_the_shortfall_is_the_whole_obligation_and_every_status_is_open(four_units, company_b):
    assert {o.status for o in four_units.values()} == {"open"}
    assert (four_units[company_b].surrendered, four_units[company_b].shortfall) == (0, 82_217)


def test_the_offset_cap_is_five_percent_of_the_obligation_rounded_down(four_units, company_a, company_b, gas_unit):
    assert four_units[company_a].offset_cap == 2_500  # 5 % of 50,000
    assert four_units[company_b].offset_cap == 4_110  # 5 % of 82,217 = 4,110.85
    assert four_units[gas_unit].offset_cap == 1_372  # 5 % of 27,440


def test_the_allocation_is_issued_plus_withheld_minus_clawed_back_over_the_periods_issued_plans(
    period, company_a, national_regulator, second_national_regulator
):
    # An earlier shortfall of 1,000 t is withheld from the 2021 pre-allocation.
    deduction_enter(organization=company_a, period=period, tonnes=1_000, reason="Shortfall of 2019-2020",
                    actor=national_regulator)
    # Pre-allocation: 82,180 t computed, 70 % = 57,526 t, of which 1,000 t withheld: 56,526 t issued.
    pre = plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator,
                     checker=second_national_regulator)
    assert pre.lines.get().deduction_amount == 1_000
    # True-up: 60,000 MWh x 0.8218 = 49,308 t final; 57,526 settled before, so 8,218 t clawed back.
    true_up = plan_issue(period, [(company_a, "coal_gt300", 60_000)], maker=national_regulator,
                         checker=second_national_regulator, kind=AllocationPlan.Kind.TRUE_UP)
    assert true_up.lines.get().clawback_amount == 8_218
    # Not counted: a true-up still awaiting approval (it would issue 164,360 - 49,308 = 115,052 t) ...
    pending = plan_import(period, [(company_a, "coal_gt300", 200_000)], maker=national_regulator,
                          kind=AllocationPlan.Kind.TRUE_UP)
    plan_submit(plan=pending, actor=national_regulator)
    # ... and another period's plan (2019-2020: 10,000 MWh x 0.877 = 8,770 t, 70 % = 6,139 t).
    other = period_create(code="2019-2020", first_year=2019, last_year=2020, vintages=[Asset.objects.get(code="CEA19-20")],
                          actor=national_regulator)
    plan_issue(other, [(company_a, "coal_gt300", 10_000)], maker=national_regulator, checker=second_national_regulator,
               vintage="CEA19-20")
    verify(period, national_regulator, {company_a: 100_000})

    found = obligation_of(period, company_a)
    assert found.allocated == 56_526 + 1_000 - 8_218 == 49_308
    assert found.obligation == 69_308  # min(100,000, 49,308 + 20,000)
    assert found.offset_cap == 3_465  # 5 % of 69,308 = 3,465.4
    # The withheld tonnes never reached the holding, yet they count as allocation.
    assert balance(holding_account(company_a), "CEA21").available == 48_308
    assert obligation_of(other, company_a).allocated == 6_139


def test_a_unit_neither_allocated_nor_verified_has_no_obligation(period, four_units):
    outsider = OrganizationFactory(name="Unrelated Steel Co., Ltd.", province="13", uscc=make_uscc("13"))
    assert obligation_of(period, outsider) is None
    assert outsider not in four_units


def test_a_unit_verified_but_never_allocated_owes_twenty_percent_of_its_emissions(period, national_regulator):
    # The cap applies with an allocation of zero: 0 + 20 % of 10,004 = 2,000.8 -> 2,000.
    newcomer = OrganizationFactory(name="Newly Listed Power Co., Ltd.", province="37", uscc=make_uscc("37"))
    verify(period, national_regulator, {newcomer: 10_004})
    found = obligation_of(period, newcomer)
    assert (found.allocated, found.verified_emissions, found.obligation) == (0, 10_004, 2_000)
