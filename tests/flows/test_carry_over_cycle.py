"""The power plan 2023-2024 of RULEBOOK.md ("2024-2026 rules") end to end: two separate compliance
years allocated by plans, no borrowing at surrender (CEA24 refused for 2023, CEA23 banked into 2024),
both deadlines processed by the deadline job, then the carry-over cap computed, approved by a second
regulator, and what exceeds it refused for 2025. The ledger is proven after (tests/conftest.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.models import CompliancePeriod
from allocation.services import period_create
from carryover.models import CarryOverLine, CarryOverWindow
from carryover.services import carryover_approve, carryover_compute, carryover_submit
from compliance.services import compliance_deadline_run, surrender_create
from core.errors import DomainError
from registry.models import Account, Asset, Balance
from tests.compliance.helpers import officer_of, plan_issue, verify


def held(organization, code):
    return Balance.objects.get(account__organization=organization, account__kind=Account.Kind.HOLDING, asset__code=code)


def vintages(*codes):
    return list(Asset.objects.filter(code__in=codes))


def test_two_separate_years_no_borrowing_and_the_carry_over_cap(company_a, national_regulator, second_national_regulator):
    ahead = timezone.localdate() + dt.timedelta(days=30)
    p2023 = period_create(code="2023", first_year=2023, last_year=2023, vintages=vintages("CEA23"), surrender_deadline=ahead,
                          actor=national_regulator)
    p2024 = period_create(code="2024", first_year=2024, last_year=2024, vintages=vintages("CEA23", "CEA24"),
                          surrender_deadline=ahead, actor=national_regulator)
    p2025 = period_create(code="2025", first_year=2025, last_year=2025, vintages=vintages("CEA23", "CEA24", "CEA25"),
                          surrender_deadline=ahead, actor=national_regulator)
    for period, vintage in ((p2023, "CEA23"), (p2024, "CEA24")):
        plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator,
                   vintage=vintage)
    allocated_23, allocated_24 = held(company_a, "CEA23").available, held(company_a, "CEA24").available
    assert allocated_23 > 20_000 and allocated_24 > 20_000
    verify(p2023, national_regulator, {company_a: 10_000})
    verify(p2024, national_regulator, {company_a: 10_000})
    officer = officer_of(company_a)

    with pytest.raises(DomainError) as borrowing:
        surrender_create(user=officer, period="2023", asset="CEA24", quantity=10_000, client_request_id="23-borrow")
    assert borrowing.value.code == "ineligible_asset"
    surrender_create(user=officer, period="2023", asset="CEA23", quantity=10_000, client_request_id="23")
    surrender_create(user=officer, period="2024", asset="CEA23", quantity=4_000, client_request_id="24-banked")
    surrender_create(user=officer, period="2024", asset="CEA24", quantity=6_000, client_request_id="24")
    for period in (p2023, p2024):
        CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=timezone.localdate() - dt.timedelta(days=1))
        period.refresh_from_db()
        assert compliance_deadline_run(period=period) == {"A": 1, "B": 0, "C": 0}

    window = CarryOverWindow.objects.create(code="2023-2024", first_year=2023, last_year=2024,
                                            trades_from=dt.date(2023, 1, 1), trades_until=timezone.localdate())
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator, reason="Plan 2023-2024 closed")
    carryover_approve(window=window, actor=second_national_regulator, reason="Checked")

    holding = allocated_23 - 14_000 + allocated_24 - 6_000
    line = CarryOverLine.objects.get(window=window, organization=company_a)
    assert (line.net_sales, line.cap, line.holding_at_approval, line.not_carried) == (0, 10_000, holding, holding - 10_000)
    # Oldest first: every CEA23 left is marked before any CEA24.
    assert held(company_a, "CEA23").available == 0 and held(company_a, "CEA23").not_carried == allocated_23 - 14_000
    assert held(company_a, "CEA24").available == 10_000

    verify(p2025, national_regulator, {company_a: 12_000})
    with pytest.raises(DomainError) as beyond:
        surrender_create(user=officer, period="2025", asset="CEA23", quantity=1, client_request_id="25-dead")
    assert beyond.value.code == "insufficient_balance"
    # No 2025 allocation: the obligation is 20 % of 12,000 t, paid with what was carried over.
    made, _ = surrender_create(user=officer, period="2025", asset="CEA24", quantity=2_400, client_request_id="25")
    assert made.quantity == 2_400 and held(company_a, "CEA24").available == 7_600
