"""Offsets for compliance: the legacy cut-off (credits of projects registered before 2017-03-14 count only
for periods whose surrender deadline is on or before 2024-12-31) and the 5 % cap.

company_a: 100,000 MWh x 0.8218 -> 57,526 CEA21; verified 60,000 t: obligation 60,000 t, offsets up to
3,000 t (5 %). It holds 2,000 legacy CCER (serials 1-2,000, older vintage) and 2,500 recent ones."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.services import period_create
from compliance.models import Surrender
from compliance.services import surrender_create
from core.errors import DomainError
from offsets.models import SerialBlock
from registry.models import Account, Asset
from tests.compliance.helpers import plan_issue, state, verify
from tests.offsets.helpers import LEGACY, ccer_issue

DEADLINE_AHEAD = 60


@pytest.fixture
def period(national_regulator):
    return period_create(code="2025", first_year=2025, last_year=2025, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=DEADLINE_AHEAD), actor=national_regulator)


@pytest.fixture
def holding(period, company_a, officer_a, national_regulator, second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 60_000})
    ccer_issue(company_a, 2_000, national_regulator, registered=LEGACY, vintage=2016)
    ccer_issue(company_a, 2_500, national_regulator, vintage=2024)
    return Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)


def retired_blocks():
    return list(SerialBlock.objects.filter(account__kind=Account.Kind.RETIREMENT).order_by("first_serial")
                .values_list("first_serial", "last_serial"))


def test_legacy_credits_are_refused_after_their_last_eligible_period(holding, officer_a):
    before = state()
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer_a, period="2025", asset="CCER", quantity=2_600, client_request_id="too-many")
    assert (refused.value.code, refused.value.field) == ("ineligible_asset", "quantity")
    assert "Only 2,500 t" in refused.value.message
    assert state() == before

    surrender_create(user=officer_a, period="2025", asset="CCER", quantity=2_500, client_request_id="recent")
    # The recent credits left although the legacy ones are older: they are not eligible.
    assert retired_blocks() == [(2_001, 4_500)]


def test_legacy_credits_count_for_a_period_whose_deadline_is_on_or_before_the_last_eligible_date(holding, officer_a, settings):
    settings.OFFSETS_LEGACY_LAST_DEADLINE = timezone.localdate() + dt.timedelta(days=DEADLINE_AHEAD)
    surrender_create(user=officer_a, period="2025", asset="CCER", quantity=2_600, client_request_id="mixed")
    # Oldest eligible first: the 2016 vintage (legacy, eligible here), then the lowest recent serials.
    assert retired_blocks() == [(1, 2_000), (2_001, 2_600)]  # (two issuances: adjacent, never merged)


def test_the_five_percent_cap_still_holds(holding, officer_a, settings):
    settings.OFFSETS_LEGACY_LAST_DEADLINE = timezone.localdate() + dt.timedelta(days=DEADLINE_AHEAD)
    before = state()
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer_a, period="2025", asset="CCER", quantity=3_001, client_request_id="over-cap")
    assert (refused.value.code, refused.value.field) == ("offset_cap_exceeded", "quantity")
    assert state() == before
    surrender_create(user=officer_a, period="2025", asset="CCER", quantity=3_000, client_request_id="at-cap")
    assert Surrender.objects.get(client_request_id="at-cap").quantity == 3_000
    assert sum(last - first + 1 for first, last in retired_blocks()) == 3_000


def test_an_officer_chooses_the_serials_to_surrender(holding, officer_a):
    before = state()
    with pytest.raises(DomainError) as legacy:
        surrender_create(user=officer_a, period="2025", asset="CCER", quantity=100, blocks=[[1, 100]], client_request_id="old")
    assert (legacy.value.code, legacy.value.field) == ("ineligible_asset", "blocks")
    with pytest.raises(DomainError) as mismatch:
        surrender_create(user=officer_a, period="2025", asset="CCER", quantity=100, blocks=[[2_101, 2_150]], client_request_id="half")
    assert (mismatch.value.code, mismatch.value.field) == ("serials_unavailable", "blocks")
    with pytest.raises(DomainError) as allowances:
        surrender_create(user=officer_a, period="2025", asset="CEA21", quantity=10, blocks=[[2_101, 2_110]], client_request_id="cea")
    assert (allowances.value.code, allowances.value.field) == ("invalid", "blocks")
    assert state() == before

    surrender_create(user=officer_a, period="2025", asset="CCER", quantity=150, blocks=[[2_101, 2_200], [4_001, 4_050]],
                     client_request_id="chosen")
    assert retired_blocks() == [(2_101, 2_200), (4_001, 4_050)]
