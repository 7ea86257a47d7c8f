"""Fixtures of the ledger tests: the assets, the system accounts, and the accounts of three companies
(A in Shandong 37, B in Jiangsu 32, C in Guangdong 44)."""

import pytest

from registry.models import Account, Asset
from registry.services import system_account
from tests.factories import OrganizationFactory, make_uscc


@pytest.fixture
def cea(db):
    return Asset.objects.get(code="CEA21")


@pytest.fixture
def cny(db):
    return Asset.objects.get(code="CNY")


@pytest.fixture
def national_account(db):
    return system_account(Account.Kind.NATIONAL_ISSUANCE)


@pytest.fixture
def retirement_account(db):
    return system_account(Account.Kind.RETIREMENT)


@pytest.fixture
def cancellation_account(db):
    return system_account(Account.Kind.CANCELLATION)


@pytest.fixture
def company_c(db):
    return OrganizationFactory(name="Baosteel Zhanjiang Iron & Steel Co., Ltd.", province="44", uscc=make_uscc("44"))


@pytest.fixture
def holding_c(company_c):
    return Account.objects.get(organization=company_c, kind=Account.Kind.HOLDING)


@pytest.fixture
def cash_a(company_a):
    return Account.objects.get(organization=company_a, kind=Account.Kind.CASH)


@pytest.fixture
def cash_b(company_b):
    return Account.objects.get(organization=company_b, kind=Account.Kind.CASH)


@pytest.fixture
def cash_c(company_c):
    return Account.objects.get(organization=company_c, kind=Account.Kind.CASH)
