"""The offset registry's part of the demo (called once from demo's seed_demo): the four methodologies
of the 2024 restart, projects owned by the first demo companies (one registered before the 2017
cut-off, whose credits no longer count for compliance), their issuances proposed by one national
regulator and approved by the other, one proposal left for approval, and a voluntary cancellation
with its certificate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import Organization, User
from offsets import services

METHODOLOGIES = [
    ("CCER-14-001-V01", "Afforestation carbon sink", "forestry"),
    ("CCER-14-002-V01", "Mangrove restoration", "forestry"),
    ("CCER-01-001-V01", "Grid-connected solar thermal power", "energy"),
    ("CCER-01-002-V01", "Grid-connected offshore wind power", "energy"),
]
# (identifier, name, methodology, province, registered, crediting start and end, issuances as (vintage, tonnes))
PROJECTS = [
    ("CCER-2015-0311", "Inner Mongolia grassland afforestation", "CCER-14-001-V01", "15", dt.date(2015, 6, 1),
     (dt.date(2012, 1, 1), dt.date(2031, 12, 31)), [(2015, 80_000)]),
    ("CCER-2024-0007", "Zhanjiang mangrove restoration", "CCER-14-002-V01", "44", dt.date(2024, 3, 1),
     (dt.date(2024, 1, 1), dt.date(2043, 12, 31)), [(2024, 45_000)]),
    ("CCER-2024-0019", "Rudong offshore wind farm", "CCER-01-002-V01", "32", dt.date(2024, 5, 20),
     (dt.date(2024, 1, 1), dt.date(2033, 12, 31)), [(2024, 120_000), (2025, 60_000)]),
]


def offsets_seed(*, maker: User, checker: User, companies: list[Organization]) -> None:
    methodologies = {code: services.methodology_create(code=code, name=name, sector=sector, actor=maker)
                     for code, name, sector in METHODOLOGIES}
    last_proposal: Any = None
    for index, (identifier, name, methodology, province, registered, (start, end), issuances) in enumerate(PROJECTS):
        project = services.project_register(
            identifier=identifier, name=name, owner=companies[index % len(companies)], province=province,
            methodology=methodologies[methodology], crediting_start=start, crediting_end=end, registration_date=registered,
            actor=maker,
        )
        for vintage, tonnes in issuances:
            last_proposal = services.issuance_propose(
                project=project, vintage=vintage, monitoring_start=dt.date(vintage, 1, 1), monitoring_end=dt.date(vintage, 12, 31),
                quantity=tonnes, actor=maker, reason="Monitoring report verified",
            )
            if (identifier, vintage) != ("CCER-2024-0019", 2025):  # left for the second regulator to approve
                services.issuance_approve(issuance=last_proposal, actor=checker)
    officer = User.objects.filter(memberships__organization=companies[0], username__startswith="officer").first()
    if officer is not None:
        services.cancellation_create(user=officer, asset="CCER", quantity=1_000, purpose="Carbon-neutral annual shareholder meeting",
                                     client_request_id="demo-certificate")
