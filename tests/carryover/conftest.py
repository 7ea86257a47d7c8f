"""Fixtures of the carry-over tests: the 2019-2024 plan window of RULEBOOK.md ("2024-2026 rules"), its
periods closed, and allowances given to the companies through the registry services."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.models import CompliancePeriod
from allocation.services import period_create
from carryover.models import CarryOverWindow
from registry import services as registry
from registry.models import Account, Asset, Transfer
from tests.trading.conftest import _fresh_matchers  # noqa: F401  (the trading tests' matcher reset, for trades here)


def give(organization, code, tonnes, regulator):
    """Issues `tonnes` of a vintage and allocates them to the organization's holding account."""
    asset = Asset.objects.get(code=code)
    registry.allowances_issue(asset=asset, amount=tonnes, actor=regulator)
    registry.transfer_create(source=registry.system_account(Account.Kind.NATIONAL_ISSUANCE),
                             destination=Account.objects.get(organization=organization, kind=Account.Kind.HOLDING),
                             asset=asset, amount=tonnes, actor=regulator, kind=Transfer.Kind.ALLOCATION)


@pytest.fixture
def closed_periods(national_regulator):
    """The window's periods, their deadlines processed (as the deadline job leaves them)."""
    periods = [
        period_create(code="2019-2020", first_year=2019, last_year=2020, vintages=[Asset.objects.get(code="CEA19-20")],
                      actor=national_regulator),
        period_create(code="2023", first_year=2023, last_year=2023,
                      vintages=list(Asset.objects.filter(code__in=["CEA19-20", "CEA21", "CEA22", "CEA23"])),
                      actor=national_regulator),
    ]
    CompliancePeriod.objects.filter(pk__in=[p.pk for p in periods]).update(status=CompliancePeriod.Status.CLOSED)
    return periods


@pytest.fixture
def window(closed_periods):
    return CarryOverWindow.objects.create(code="2019-2024", first_year=2019, last_year=2024,
                                          trades_from=dt.date(2019, 1, 1), trades_until=timezone.localdate())
