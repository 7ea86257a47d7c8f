"""Fixtures of the enforcement tests: a 2021 period whose deadline job found company_b short.

By hand: 100,000 MWh x 0.8218 = 82,180 t, 70 % = 57,526 CEA21 to each unit. company_b (Jiangsu)
verified 100,000 t, obligation min(100,000, 57,526 + 20,000) = 77,526, surrendered 50,000 CEA21:
shortfall 27,526, status B; it still holds 7,526 CEA21 and 4,000 CEA19-20 (an earlier vintage the
period accepts). company_a (Shandong) verified 50,000 and surrendered them: status A.
November 2022 (the month before the 31 December 2022 deadline): 3,000 t for 18,000,000 fen, so the
average price is 6,000 fen and the fine basis 5-10 x 27,526 x 6,000 = 825,780,000 to 1,651,560,000 fen."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from allocation.models import CompliancePeriod
from allocation.services import period_create
from compliance.services import compliance_deadline_run, surrender_create
from registry import services as registry
from registry.models import Account, Asset, Transfer
from tests.compliance.helpers import holding_account, officer_of, plan_issue, verify
from tests.factories import OrganizationFactory, user_with_role
from trading.models import DailyBar, Instrument

SHORTFALL = 27_526
PRICE = 6_000
FINE_LOW, FINE_HIGH = 5 * SHORTFALL * PRICE, 10 * SHORTFALL * PRICE


def allowances_give(organization, code, tonnes, regulator):
    asset = Asset.objects.get(code=code)
    registry.allowances_issue(asset=asset, amount=tonnes, actor=regulator)
    registry.transfer_create(source=registry.system_account(Account.Kind.NATIONAL_ISSUANCE),
                             destination=holding_account(organization), asset=asset, amount=tonnes, actor=regulator,
                             kind=Transfer.Kind.ALLOCATION)


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021,
                         vintages=[Asset.objects.get(code="CEA21"), Asset.objects.get(code="CEA19-20")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def next_period(national_regulator):
    return period_create(code="2022", first_year=2022, last_year=2022, vintages=[Asset.objects.get(code="CEA22")],
                         actor=national_regulator)


@pytest.fixture
def jiangsu_regulator(db):
    bureau = OrganizationFactory(name="Jiangsu Department of Ecology and Environment", kind="institution",
                                 sector="government", province="32")
    return user_with_role(Role.PROVINCIAL_REGULATOR, bureau)


@pytest.fixture
def closed(period, next_period, company_a, company_b, national_regulator, second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000)],
               maker=national_regulator, checker=second_national_regulator)
    allowances_give(company_b, "CEA19-20", 4_000, national_regulator)
    verify(period, national_regulator, {company_a: 50_000, company_b: 100_000})
    surrender_create(user=officer_of(company_a), period="2021", asset="CEA21", quantity=50_000, client_request_id="a")
    surrender_create(user=officer_of(company_b), period="2021", asset="CEA21", quantity=50_000, client_request_id="b")
    DailyBar.objects.create(instrument=Instrument.objects.get(symbol="CEA21"), day=dt.date(2022, 11, 15), close=PRICE,
                            volume=3_000, turnover=3_000 * PRICE, trade_count=1, reference_price=PRICE)
    CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=dt.date(2022, 12, 31))  # time passes
    period.refresh_from_db()
    compliance_deadline_run(period=period)
    return period
