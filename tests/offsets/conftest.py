"""Fixtures of the offset registry tests: company_a and company_b with holding accounts, a methodology."""

import pytest

from accounts.roles import Role
from offsets import services
from tests.compliance.helpers import officer_of
from tests.factories import OrganizationFactory, make_uscc, user_with_role


@pytest.fixture
def officer_a(company_a, holding_a):
    return officer_of(company_a)


@pytest.fixture
def officer_b(company_b, holding_b):
    return officer_of(company_b)


@pytest.fixture
def methodology(national_regulator):
    return services.methodology_create(code="CCER-14-002-V01", name="Mangrove restoration", sector="forestry",
                                       actor=national_regulator)


@pytest.fixture
def trader_only(company_a, holding_a):
    return user_with_role(Role.COMPANY_TRADER, company_a)


@pytest.fixture
def company_c(db):
    return OrganizationFactory(name="Baosteel Zhanjiang Iron & Steel Co., Ltd.", province="44", uscc=make_uscc("44"))
