"""Offsets for tests, made the only way the registry lets them in: a methodology, a registered project
owned by the unit, an issuance proposed by one national regulator and approved by another."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import Organization
from accounts.roles import Role
from offsets import services
from offsets.models import Issuance, Methodology, Project
from tests.factories import user_with_role

RECENT = dt.date(2024, 3, 1)  # registered after the legacy cut-off (2017-03-14)
LEGACY = dt.date(2015, 6, 1)  # registered before it


def project_for(organization: Organization, maker: Any, *, registered: dt.date = RECENT, identifier: str = "") -> Project:
    methodology = Methodology.objects.filter(code="CCER-14-001-V01").first() or services.methodology_create(
        code="CCER-14-001-V01", name="Afforestation", sector="forestry", actor=maker)
    identifier = identifier or f"P-{organization.pk}-{registered.year}"
    return Project.objects.filter(identifier=identifier).first() or services.project_register(
        identifier=identifier, name=f"Forest of {organization.name}", owner=organization, province="37",
        methodology=methodology, crediting_start=dt.date(2010, 1, 1), crediting_end=dt.date(2040, 12, 31),
        registration_date=registered, actor=maker)


def ccer_issue(organization: Organization, tonnes: int, maker: Any, checker: Any = None, *, registered: dt.date = RECENT,
               vintage: int = 2024, identifier: str = "") -> Issuance:
    """Issues `tonnes` CCER of a (new or existing) project of the unit into its holding account."""
    checker = checker or user_with_role(Role.NATIONAL_REGULATOR, maker.memberships.first().organization)
    project = project_for(organization, maker, registered=registered, identifier=identifier)
    issuance = services.issuance_propose(project=project, vintage=vintage, monitoring_start=dt.date(vintage, 1, 1),
                                         monitoring_end=dt.date(vintage, 12, 31), quantity=tonnes, actor=maker)
    return services.issuance_approve(issuance=issuance, actor=checker)
