"""No borrowing (RULEBOOK.md, "2024-2026 rules"): a vintage later than a period's last year is never
eligible for it, whatever the period's list of vintages says (allocation.vintages)."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.admin import CompliancePeriodForm
from allocation.services import period_create
from allocation.vintages import allowance_eligible, vintage_years
from compliance.models import Surrender
from compliance.services import surrender_create
from core.errors import DomainError
from registry.models import Asset
from tests.carryover.conftest import give
from tests.compliance.helpers import officer_of, verify


@pytest.fixture
def period_2021(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def officer(period_2021, company_a, national_regulator):
    give(company_a, "CEA21", 5_000, national_regulator)
    give(company_a, "CEA22", 5_000, national_regulator)
    verify(period_2021, national_regulator, {company_a: 8_000})
    return officer_of(company_a)


def test_vintage_years_are_read_from_the_assets_vintage():
    assert vintage_years(Asset(vintage="2021")) == (2021, 2021)
    assert vintage_years(Asset(vintage="2019-2020")) == (2019, 2020)
    assert vintage_years(Asset(vintage="")) is None
    assert vintage_years(Asset(vintage="2022-2021")) is None


def test_the_periods_last_year_is_eligible_and_the_next_is_not_even_when_listed(period_2021):
    cea21, cea22 = Asset.objects.get(code="CEA21"), Asset.objects.get(code="CEA22")
    period_2021.vintages.add(cea22)  # someone added a later vintage behind the services' back

    assert allowance_eligible(period_2021, cea21) is True
    assert allowance_eligible(period_2021, cea22) is False


def test_a_later_vintage_is_refused_at_surrender_even_if_the_period_lists_it(officer, period_2021, company_a):
    period_2021.vintages.add(Asset.objects.get(code="CEA22"))

    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA22", quantity=1, client_request_id="borrow-1")

    assert (refused.value.code, refused.value.field) == ("ineligible_asset", "asset")
    assert "no borrowing" in refused.value.message
    assert not Surrender.objects.exists()
    made, _created = surrender_create(user=officer, period="2021", asset="CEA21", quantity=1_600, client_request_id="ok-1")
    assert made.quantity == 1_600  # (the obligation: no allocation, so 20 % of 8,000 t) the period's own vintage, at the boundary year, still goes


def test_a_period_cannot_be_created_with_a_later_vintage(national_regulator):
    with pytest.raises(DomainError) as refused:
        period_create(code="2021", first_year=2021, last_year=2021,
                      vintages=list(Asset.objects.filter(code__in=["CEA21", "CEA22"])), actor=national_regulator)
    assert (refused.value.code, refused.value.field) == ("invalid", "vintages")
    assert "CEA22" in refused.value.message and "CEA21" not in refused.value.message


def test_the_admin_form_refuses_a_later_vintage_and_accepts_earlier_ones(period_2021):
    data = {"code": "2021", "first_year": 2021, "last_year": 2021, "emission_report_deadline": "2022-03-31",
            "verification_deadline": "2022-06-30", "surrender_deadline": "2022-12-31", "status": "open",
            "fine_regime": "interim_2024"}
    later = CompliancePeriodForm(instance=period_2021, data={
        **data, "vintages": [a.pk for a in Asset.objects.filter(code__in=["CEA21", "CEA22"])]})
    assert not later.is_valid()
    assert "CEA22" in later.errors["vintages"][0]

    earlier = CompliancePeriodForm(instance=period_2021, data={
        **data, "vintages": [a.pk for a in Asset.objects.filter(code__in=["CEA19-20", "CEA21"])]})
    assert earlier.is_valid(), earlier.errors


def test_the_api_answers_a_borrowing_surrender_with_ineligible_asset(officer, period_2021):
    from tests.compliance.helpers import api_as

    period_2021.vintages.add(Asset.objects.get(code="CEA22"))
    response = api_as(officer).post("/api/v1/surrenders/", {"period": "2021", "asset": "CEA22", "quantity": 1,
                                                            "client_request_id": "borrow-api"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("ineligible_asset", "asset") and "no borrowing" in body["message"]
    assert not Surrender.objects.exists()
