"""Surrender refusals, the obligation arithmetic and the deadline job's verdicts, fines and deductions."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from accounts.roles import Role
from allocation.models import CompliancePeriod, Deduction
from allocation.services import allocation_import, period_create, plan_approve, plan_submit
from compliance.models import ComplianceResult, Surrender
from compliance.selectors import obligation_amount, obligations
from compliance.services import compliance_deadline_run, surrender_create, verified_emissions_import
from core.errors import DomainError
from registry import services as registry
from registry.models import Account, Asset, Transfer
from tests.factories import OrganizationFactory, api_client_for, make_uscc, user_with_role
from tests.offsets.helpers import ccer_issue
from trading.models import DailyBar, Instrument


@pytest.fixture
def period(national_regulator):
    # Surrender is open until the deadline: keep it ahead while units surrender; tests that run the
    # deadline job set the past deadline explicitly.
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def company_c(db):
    return OrganizationFactory(name="Guodian Gas Power Co., Ltd.", province="44", uscc=make_uscc("44"))


@pytest.fixture
def allocated(period, company_a, company_b, company_c, national_regulator, second_national_regulator):
    """A and B: coal, 100,000 MWh -> 82,180 t, 70 % issued = 57,526 t. C: gas, 100,000 MWh -> 39,200 t, 27,440 t."""
    rows = (f"{company_a.uscc},coal_gt300,100000,0,1\n{company_b.uscc},coal_gt300,100000,0,1\n"
            f"{company_c.uscc},gas,100000,0,1\n")
    plan = allocation_import(period=period, vintage=Asset.objects.get(code="CEA21"), filename="p.csv", actor=national_regulator,
                             stream=io.BytesIO(("uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n" + rows).encode()))
    plan_approve(plan=plan_submit(plan=plan, actor=national_regulator), actor=second_national_regulator)


def verify(period, actor, **tonnes_by_uscc):
    body = "uscc,verified_emissions\n" + "".join(f"{uscc},{tonnes}\n" for uscc, tonnes in tonnes_by_uscc.items())
    verified_emissions_import(period=period, stream=io.BytesIO(body.encode()), filename="v.csv", actor=actor)


def give_ccer(company, tonnes, regulator):
    ccer_issue(company, tonnes, regulator)


def test_the_obligation_is_capped_at_allocation_plus_twenty_percent_and_gas_at_its_allocation():
    assert obligation_amount(allocated=50_000, verified=40_000, gas=False) == 40_000
    assert obligation_amount(allocated=50_000, verified=100_000, gas=False) == 70_000  # 50,000 + 20 % of 100,000
    assert obligation_amount(allocated=50_000, verified=100_000, gas=True) == 50_000
    assert obligation_amount(allocated=50_000, verified=None, gas=False) == 0


@pytest.mark.parametrize(
    "asset, quantity, code",
    [
        ("CCER", 2_501, "offset_cap_exceeded"),  # 5 % of 50,000 = 2,500
        ("CEA22", 10, "ineligible_asset"),
        ("CNY", 10, "ineligible_asset"),
        ("CEA21", 50_001, "over_surrender"),
        ("CEA21", 0, "invalid"),
    ],
)
def test_a_surrender_is_refused_with_its_code(allocated, period, company_a, national_regulator, asset, quantity, code):
    verify(period, national_regulator, **{company_a.uscc: 50_000})
    give_ccer(company_a, 5_000, national_regulator)
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    transfers = Transfer.objects.count()
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset=asset, quantity=quantity, client_request_id="r")
    assert refused.value.code == code
    assert Transfer.objects.count() == transfers and not Surrender.objects.exists()


def test_a_surrender_needs_verified_emissions_a_compliance_officer_and_an_unfrozen_account(
    allocated, period, company_a, trader_a, national_regulator
):
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA21", quantity=10, client_request_id="a")
    assert refused.value.code == "no_verified_emissions"
    verify(period, national_regulator, **{company_a.uscc: 50_000})
    with pytest.raises(DomainError) as refused:
        surrender_create(user=trader_a, period="2021", asset="CEA21", quantity=10, client_request_id="b")
    assert refused.value.code == "not_eligible"
    registry.account_freeze(account=Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING),
                            reason="court order", actor=national_regulator)
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA21", quantity=10, client_request_id="c")
    assert refused.value.code == "account_frozen"
    assert not Surrender.objects.exists()


def test_a_surrender_is_idempotent_through_the_api(allocated, period, company_a, national_regulator):
    verify(period, national_regulator, **{company_a.uscc: 50_000})
    give_ccer(company_a, 5_000, national_regulator)
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    client = api_client_for(officer)
    body = {"period": "2021", "asset": "CCER", "quantity": 2_500, "client_request_id": "ccer-1"}
    first = client.post("/api/v1/surrenders/", body, format="json")
    again = client.post("/api/v1/surrenders/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    conflict = client.post("/api/v1/surrenders/", {**body, "quantity": 1}, format="json")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    assert Transfer.objects.filter(kind=Transfer.Kind.SURRENDER).count() == 1
    retired = Transfer.objects.get(kind=Transfer.Kind.SURRENDER)
    assert (retired.amount, retired.destination.kind) == (2_500, Account.Kind.RETIREMENT)


def test_the_deadline_job_gives_a_b_c_fines_and_deductions_once(
    allocated, period, company_a, company_b, company_c, national_regulator
):
    verify(period, national_regulator, **{company_a.uscc: 50_000, company_b.uscc: 100_000})  # C has none
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    surrender_create(user=officer, period="2021", asset="CEA21", quantity=50_000, client_request_id="all")
    officer_b = user_with_role(Role.COMPLIANCE_OFFICER, company_b)
    surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=57_526, client_request_id="some")
    # B: obligation min(100,000, 57,526 + 20,000) = 77,526; surrendered 57,526: shortfall 20,000.
    CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=dt.date(2022, 12, 31))  # time passes
    period.refresh_from_db()
    instrument = Instrument.objects.get(symbol="CEA21")
    DailyBar.objects.create(instrument=instrument, day=dt.date(2022, 11, 15), close=60_00, volume=1_000,
                            turnover=1_000 * 60_00, reference_price=60_00)  # the month before 31 Dec 2022
    next_period = period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                                actor=national_regulator)

    assert compliance_deadline_run(period=period) == {"A": 1, "B": 1, "C": 1}
    results = {r.organization_id: r for r in ComplianceResult.objects.all()}
    assert results[company_a.pk].status == "A" and results[company_a.pk].shortfall == 0
    b = results[company_b.pk]
    assert (b.status, b.obligation, b.shortfall) == ("B", 77_526, 20_000)
    assert (b.fine_basis_low, b.fine_basis_high) == (5 * 20_000 * 60_00, 10 * 20_000 * 60_00)
    assert results[company_c.pk].status == "C"
    deduction = Deduction.objects.get()
    assert (deduction.organization, deduction.period, deduction.tonnes) == (company_b, next_period, 20_000)

    compliance_deadline_run(period=period)  # again: nothing changes
    assert Deduction.objects.count() == 1
    assert ComplianceResult.objects.count() == 3
    assert ComplianceResult.objects.get(organization=company_b).fine_basis_high == 10 * 20_000 * 60_00
    with pytest.raises(DomainError) as refused:  # the period is closed for surrender now
        surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=1, client_request_id="late")
    assert refused.value.code == "period_closed"


def test_the_2021_measures_regime_fines_a_fixed_range(allocated, period, company_b, national_regulator):
    CompliancePeriod.objects.filter(pk=period.pk).update(fine_regime="measures_2021")
    period.refresh_from_db()
    verify(period, national_regulator, **{company_b.uscc: 100_000})
    compliance_deadline_run(period=period)
    result = ComplianceResult.objects.get(organization=company_b)
    assert (result.fine_basis_low, result.fine_basis_high) == (20_000_00, 30_000_00)


def test_obligations_api_scopes_rows(allocated, period, company_a, company_b, auditor, national_regulator):
    verify(period, national_regulator, **{company_a.uscc: 50_000, company_b.uscc: 60_000})
    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)

    def rows(user):
        return api_client_for(user).get("/api/v1/obligations/?period=2021").json()

    assert [r["uscc"] for r in rows(officer)] == [company_a.uscc]
    assert {r["uscc"] for r in rows(auditor)} >= {company_a.uscc, company_b.uscc}
    assert len(obligations(period)) == 3
    bad = api_client_for(auditor)
    response = bad.get("/api/v1/obligations/?period=1999")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
