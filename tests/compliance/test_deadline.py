"""The compliance deadline job (RULEBOOK.md: Compliance cycle, step 5): status A / B / C, shortfall,
fine basis under the period's regime, the shortfall deducted from the next period's allocation; the
command `run_compliance_deadline` and the daily task `compliance_deadline_sweep_task`.

The setting, by hand: each unit gets 100,000 MWh x 0.8218 = 82,180 t, 70 % = 57,526 CEA21.
- A (company_a): verified 50,000 t, obligation 50,000, surrenders 48,000 CEA21 + 2,000 CCER (cap 2,500):
  status A, offsets counting in full.
- B (company_b): verified 100,000 t, obligation min(100,000, 57,526 + 20,000) = 77,526; surrenders
  50,000 CEA21 + 3,000 CCER (cap floor(5 % of 77,526) = 3,876): shortfall 24,526, status B.
- C (company_c): no verified emissions: status C.
Prices (CEA21, November 2022, the month before the 31 December 2022 deadline): 1,000 t for
5,800,000 fen and 2,000 t for 12,400,001 fen: 18,200,001 / 3,000 = 6,066.667 -> 6,067 fen."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from allocation.models import CompliancePeriod, Deduction
from allocation.services import period_create
from compliance.models import ComplianceResult
from compliance.selectors import obligations
from compliance.services import average_price_before, compliance_deadline_run, surrender_create
from compliance.tasks import compliance_deadline_sweep_task
from core.errors import DomainError
from core.models import AuditEvent
from registry.models import Asset
from tests.compliance.helpers import ccer_give, officer_of, plan_issue, state, verify
from tests.factories import OrganizationFactory, make_uscc
from trading.models import DailyBar, Instrument

DEADLINE = dt.date(2022, 12, 31)
PRICE = 6_067  # fen, see above
SHORTFALL_B = 24_526


@pytest.fixture
def period(national_regulator):
    # Surrenders happen while the deadline is ahead; `deadline_passed` then moves it to 31 December 2022.
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def company_c(db):
    return OrganizationFactory(name="Guangdong Coal Power Co., Ltd.", province="44", uscc=make_uscc("44"))


def bar(symbol, day, volume, turnover):
    # Market data is reference data here: written directly, as the end of day would have.
    DailyBar.objects.create(instrument=Instrument.objects.get(symbol=symbol), day=day, close=turnover // volume,
                            volume=volume, turnover=turnover, trade_count=1, reference_price=turnover // volume)


@pytest.fixture
def november_prices(db):
    bar("CEA21", dt.date(2022, 11, 10), 1_000, 5_800_000)
    bar("CEA21", dt.date(2022, 11, 25), 2_000, 12_400_001)
    # Not counted: outside the month, or another vintage than the period's.
    bar("CEA21", dt.date(2022, 10, 31), 5_000, 5_000 * 30_00)
    bar("CEA21", dt.date(2022, 12, 1), 5_000, 5_000 * 90_00)
    bar("CEA22", dt.date(2022, 11, 15), 10_000, 10_000 * 10_00)


@pytest.fixture
def next_period(national_regulator):
    return period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                         actor=national_regulator)


@pytest.fixture
def deadline_passed(period, company_a, company_b, company_c, national_regulator, second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000),
                        (company_c, "coal_gt300", 100_000)],
               maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 50_000, company_b: 100_000})
    ccer_give(company_a, 2_000, national_regulator)
    ccer_give(company_b, 3_000, national_regulator)
    officer_a = officer_of(company_a)
    surrender_create(user=officer_a, period="2021", asset="CEA21", quantity=48_000, client_request_id="a-cea")
    surrender_create(user=officer_a, period="2021", asset="CCER", quantity=2_000, client_request_id="a-ccer")
    officer_b = officer_of(company_b)
    surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=50_000, client_request_id="b-cea")
    surrender_create(user=officer_b, period="2021", asset="CCER", quantity=3_000, client_request_id="b-ccer")
    CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=DEADLINE)  # time passes
    period.refresh_from_db()
    return period


def result_rows():
    """Every result's figures (not computed_at, which records when they were last written)."""
    return {
        r.organization_id: (r.allocated, r.verified_emissions, r.obligation, r.surrendered_allowances, r.surrendered_offsets,
                            r.shortfall, r.status, r.fine_basis_low, r.fine_basis_high, r.deduction_entered)
        for r in ComplianceResult.objects.all()
    }


def test_the_average_price_is_volume_weighted_over_the_vintages_month_before_the_deadline(deadline_passed, november_prices):
    assert average_price_before(deadline_passed) == PRICE


def test_without_trades_in_that_month_there_is_no_average_price(deadline_passed):
    bar("CEA21", dt.date(2022, 12, 20), 1_000, 1_000 * 60_00)
    assert average_price_before(deadline_passed) is None


def test_the_job_gives_each_unit_its_status_shortfall_and_interim_fine_basis(
    deadline_passed, november_prices, next_period, company_a, company_b, company_c
):
    counts = compliance_deadline_run(period=deadline_passed)

    assert counts == {"A": 1, "B": 1, "C": 1}
    assert result_rows() == {
        company_a.pk: (57_526, 50_000, 50_000, 48_000, 2_000, 0, "A", 0, 0, False),
        # 5 x 24,526 t x 6,067 fen = 743,996,210 fen; 10 x = 1,487,992,420 fen.
        company_b.pk: (57_526, 100_000, 77_526, 50_000, 3_000, SHORTFALL_B, "B", 743_996_210, 1_487_992_420, True),
        company_c.pk: (57_526, None, 0, 0, 0, 0, "C", 0, 0, False),
    }
    assert 5 * SHORTFALL_B * PRICE == 743_996_210
    event = AuditEvent.objects.get(action="compliance.deadline")
    assert event.after == {"A": 1, "B": 1, "C": 1, "average_price": PRICE, "status": "closed"}
    assert event.before == {"status": "open"}
    assert CompliancePeriod.objects.get(pk=deadline_passed.pk).status == CompliancePeriod.Status.CLOSED


def test_the_obligations_show_the_verdicts_after_the_job(deadline_passed, november_prices, company_a, company_b, company_c):
    compliance_deadline_run(period=deadline_passed)
    assert {o.organization: o.status for o in obligations(deadline_passed)} == {company_a: "A", company_b: "B", company_c: "C"}


def test_under_the_2021_measures_a_short_unit_faces_20000_to_30000_cny(
    deadline_passed, november_prices, next_period, company_a, company_b, company_c
):
    CompliancePeriod.objects.filter(pk=deadline_passed.pk).update(fine_regime=CompliancePeriod.FineRegime.MEASURES_2021)
    deadline_passed.refresh_from_db()

    compliance_deadline_run(period=deadline_passed)

    fines = {r.organization_id: (r.fine_basis_low, r.fine_basis_high) for r in ComplianceResult.objects.all()}
    assert fines == {company_a.pk: (0, 0), company_b.pk: (20_000_00, 30_000_00), company_c.pk: (0, 0)}
    assert Deduction.objects.get().tonnes == SHORTFALL_B  # the deduction applies under either regime


def test_a_short_units_shortfall_is_deducted_from_its_next_allocation(deadline_passed, next_period, company_b):
    compliance_deadline_run(period=deadline_passed)

    deduction = Deduction.objects.get()
    assert (deduction.organization, deduction.period, deduction.tonnes, deduction.remaining) == (
        company_b, next_period, SHORTFALL_B, SHORTFALL_B)
    assert (deduction.reason, deduction.created_by) == ("Shortfall of 2021", None)
    assert AuditEvent.objects.filter(action="deduction.enter").count() == 1


def test_running_the_job_twice_changes_nothing(deadline_passed, november_prices, next_period):
    first_counts = compliance_deadline_run(period=deadline_passed)
    first_results = result_rows()
    deductions = list(Deduction.objects.values_list("pk", "organization_id", "tonnes", "remaining"))

    second_counts = compliance_deadline_run(period=deadline_passed)

    assert second_counts == first_counts == {"A": 1, "B": 1, "C": 1}
    assert result_rows() == first_results
    assert list(Deduction.objects.values_list("pk", "organization_id", "tonnes", "remaining")) == deductions
    assert len(deductions) == 1
    assert ComplianceResult.objects.count() == 3


def test_a_gas_unit_that_surrendered_its_allocation_is_compliant(period, national_regulator, second_national_regulator):
    # 100,000 MWh x 0.392 = 39,200 t, 70 % = 27,440 t; verified 50,000 t: obligation capped at 27,440.
    gas = OrganizationFactory(name="Shenzhen Gas Turbine Power Co., Ltd.", province="44", uscc=make_uscc("44"))
    plan_issue(period, [(gas, "gas", 100_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {gas: 50_000})
    surrender_create(user=officer_of(gas), period="2021", asset="CEA21", quantity=27_440, client_request_id="all")

    assert compliance_deadline_run(period=period) == {"A": 1, "B": 0, "C": 0}
    result = ComplianceResult.objects.get()
    assert (result.obligation, result.shortfall, result.fine_basis_high) == (27_440, 0, 0)
    assert not Deduction.objects.exists()


def test_without_a_next_period_the_deduction_waits_for_a_later_run(deadline_passed, national_regulator, company_b):
    compliance_deadline_run(period=deadline_passed)
    assert not Deduction.objects.exists()
    assert ComplianceResult.objects.get(organization=company_b).deduction_entered is False

    period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                  actor=national_regulator)
    call_command("run_compliance_deadline", "--period", "2021", stdout=StringIO())
    call_command("run_compliance_deadline", "--period", "2021", stdout=StringIO())
    assert Deduction.objects.get().tonnes == SHORTFALL_B


def test_only_a_checker_regulator_may_run_the_job_in_person(deadline_passed, trader_a, shandong_regulator, national_regulator):
    for actor in (trader_a, shandong_regulator):
        before = state()
        with pytest.raises(DomainError) as refused:
            compliance_deadline_run(period=deadline_passed, actor=actor)
        assert refused.value.code == "permission_denied"
        assert state() == before
    assert compliance_deadline_run(period=deadline_passed, actor=national_regulator) == {"A": 1, "B": 1, "C": 1}
    assert AuditEvent.objects.get(action="compliance.deadline").actor == national_regulator


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_results_deductions_and_audit_do_not_depend_on_the_chunk_size(
    deadline_passed, november_prices, next_period, company_b, settings, chunk
):
    settings.COMPLIANCE_DEADLINE_CHUNK = chunk
    assert compliance_deadline_run(period=deadline_passed) == {"A": 1, "B": 1, "C": 1}
    assert sorted(result[6] for result in result_rows().values()) == ["A", "B", "C"]
    assert list(Deduction.objects.values_list("organization", "period__code", "tonnes", "remaining", "reason")) == [
        (company_b.pk, "2022", SHORTFALL_B, SHORTFALL_B, "Shortfall of 2021")]
    event = AuditEvent.objects.get(action="deduction.enter")
    assert (event.actor_label, event.object_id, event.after) == (
        "system", str(Deduction.objects.get().pk),
        {"uscc": company_b.uscc, "period": "2022", "tonnes": SHORTFALL_B, "reason": "Shortfall of 2021"})
    before = state()
    compliance_deadline_run(period=deadline_passed)
    after = state()
    assert after[:3] + after[4:] == before[:3] + before[4:]  # all but the audit trail, which records the second run
    assert AuditEvent.objects.filter(action="compliance.deadline").count() == 2


def test_the_job_reports_progress_after_each_chunk(deadline_passed, settings):
    settings.COMPLIANCE_DEADLINE_CHUNK = 2
    seen = []
    compliance_deadline_run(period=deadline_passed, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]
    assert ComplianceResult.objects.count() == 3


# --- the command ---


def test_the_command_prints_progress_and_the_counts(deadline_passed, november_prices, next_period):
    out = StringIO()
    call_command("run_compliance_deadline", "--period", "2021", stdout=out)
    assert out.getvalue().splitlines() == ["3 / 3 units", "2021: A 1, B 1, C 1"]
    assert ComplianceResult.objects.count() == 3 and Deduction.objects.count() == 1

    again = StringIO()
    call_command("run_compliance_deadline", "--period", "2021", stdout=again)
    assert again.getvalue() == out.getvalue()
    assert Deduction.objects.count() == 1


def test_the_command_refuses_an_unknown_period(db):
    with pytest.raises(CommandError, match="no compliance period 1999"):
        call_command("run_compliance_deadline", "--period", "1999", stdout=StringIO())


# --- the daily task ---


def test_the_sweep_runs_only_periods_past_their_deadline_without_results_and_only_once(
    deadline_passed, november_prices, national_regulator, company_b
):
    # 2022's deadline is today: not yet passed. 2023's is ahead.
    today = timezone.localdate()
    later = period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                          surrender_deadline=today, actor=national_regulator)
    period_create(code="2023", first_year=2023, last_year=2023, vintages=[Asset.objects.get(code="CEA23")],
                  surrender_deadline=today + dt.timedelta(days=365), actor=national_regulator)

    assert compliance_deadline_sweep_task.apply().get() == ["2021"]
    assert set(ComplianceResult.objects.values_list("period__code", flat=True)) == {"2021"}
    assert ComplianceResult.objects.get(organization=company_b).fine_basis_low == 743_996_210
    assert Deduction.objects.get().period == later

    before = state()
    assert compliance_deadline_sweep_task.apply().get() == []
    assert state() == before
    assert AuditEvent.objects.filter(action="compliance.deadline").count() == 1


def test_the_sweep_leaves_a_period_alone_while_its_deadline_is_ahead(period, company_a, national_regulator,
                                                                     second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    assert compliance_deadline_sweep_task.apply().get() == []
    assert not ComplianceResult.objects.exists()


# --- two runs at once ---


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_enter_each_deduction_once(deadline_passed, november_prices, next_period, company_b, settings):
    from tests.allocation.test_maker_checker import run_in_threads

    settings.COMPLIANCE_DEADLINE_CHUNK = 1  # many short transactions, so the runs interleave
    results, errors = run_in_threads(lambda index: compliance_deadline_run(period=deadline_passed), 2)
    assert errors == []
    assert results == [{"A": 1, "B": 1, "C": 1}] * 2
    assert list(Deduction.objects.values_list("organization", "tonnes")) == [(company_b.pk, SHORTFALL_B)]
    assert AuditEvent.objects.filter(action="deduction.enter").count() == 1
    assert ComplianceResult.objects.get(organization=company_b).deduction_entered
