"""Fixtures of the emission report tests: a 2021 period whose surrender deadline is ahead, a
verifier assigned to company_a by the Shandong regulator, a filed report and a verified one."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Organization
from accounts.roles import Role
from allocation.services import period_create
from compliance.verification import emission_report_file, emission_report_verify, verifier_assign
from registry.models import Asset
from tests.compliance.helpers import officer_of, upload
from tests.factories import OrganizationFactory, user_with_role


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def verifier_body(db):
    return OrganizationFactory(name="China Quality Certification Centre", kind=Organization.Kind.INSTITUTION,
                               sector="services", province="11")


@pytest.fixture
def verifier(verifier_body):
    return user_with_role(Role.VERIFIER, verifier_body)


@pytest.fixture
def officer(company_a):
    return officer_of(company_a)


@pytest.fixture
def assigned(period, company_a, verifier, shandong_regulator):
    return verifier_assign(period=period, organization=company_a, verifier=verifier, actor=shandong_regulator)


@pytest.fixture
def report(assigned, period, officer):
    return emission_report_file(user=officer, period=period, emissions=70_000, attachment=upload())


@pytest.fixture
def verified(report, verifier):
    return emission_report_verify(user=verifier, report=report, verified_emissions=68_500, note="Checked the meters")


