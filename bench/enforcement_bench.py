"""Enforcement at national scale: a closed period with 10,000 units short (status B), each with a
published disclosure; then timed: fines for not surrendering proposed by one regulator and approved by
another through the services (per decision, range checks and audit events included), and the
period's archive zip (reports.archive) for a national reader. Results and disclosures are written in
bulk as reference data (the deadline job and the companies' forms would write them). Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/enforcement_bench.py [--units 10000] [--decisions 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from _setup import django_ready
from allocation_bench import units


def regulators() -> tuple[object, object]:
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role

    group = Group.objects.get(name=Role.NATIONAL_REGULATOR)
    made = []
    for name in ("bench-enforcer-1", "bench-enforcer-2"):
        user, _ = User.objects.get_or_create(username=name)
        user.groups.add(group)
        made.append(User.objects.get(pk=user.pk))  # fresh, so its permissions are read again
    return made[0], made[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=200)
    options = parser.parse_args()
    django_ready()
    from django.utils import timezone

    from accounts.models import Organization
    from allocation.models import CompliancePeriod
    from compliance.models import ComplianceResult
    from enforcement.models import Disclosure
    from enforcement.services import decision_approve, decision_propose
    from registry.models import Asset
    from reports.archive import archive_write

    maker, checker = regulators()
    codes = units(options.units)
    period, _ = CompliancePeriod.objects.get_or_create(
        code="2090", defaults={"first_year": 2090, "last_year": 2090, "emission_report_deadline": dt.date(2091, 3, 31),
                               "verification_deadline": dt.date(2091, 6, 30), "surrender_deadline": dt.date(2091, 12, 31),
                               "status": CompliancePeriod.Status.CLOSED})
    period.vintages.set([Asset.objects.get(code="CEA21")])
    organizations = list(Organization.objects.filter(uscc__in=codes).order_by("pk"))
    ComplianceResult.objects.bulk_create(
        [ComplianceResult(period=period, organization=o, allocated=100_000, verified_emissions=110_000, obligation=110_000,
                          surrendered_allowances=100_000, surrendered_offsets=0, shortfall=10_000, status="B",
                          fine_basis_low=5 * 10_000 * 9_800, fine_basis_high=10 * 10_000 * 9_800, deduction_entered=True)
         for o in organizations], batch_size=2000, ignore_conflicts=True)
    now = timezone.now()
    Disclosure.objects.bulk_create(
        [Disclosure(period=period, organization=o, emissions=110_000, facilities="Unit 1: 600 MW coal",
                    methods="Fuel x carbon content", status=Disclosure.Status.PUBLISHED, submitted_by=maker, submitted_at=now,
                    confirmed_by=checker, confirmed_at=now) for o in organizations], batch_size=2000, ignore_conflicts=True)

    started = time.perf_counter()
    for organization in organizations[:options.decisions]:
        decision = decision_propose(actor=maker, kind="non_surrender_fine", organization=organization, period=period,
                                    legal_basis="Interim Regulations, Art. 21", amount=5 * 10_000 * 9_800)
        decision_approve(actor=checker, decision=decision)
    decisions_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "archive.zip"
        started = time.perf_counter()
        rows = archive_write(period, None, out)
        archive_seconds = time.perf_counter() - started
        size = out.stat().st_size

    print(json.dumps({
        "units": len(organizations),
        "decisions_proposed_and_approved": options.decisions,
        "decisions_seconds": round(decisions_seconds, 2),
        "ms_per_decision": round(1000 * decisions_seconds / max(options.decisions, 1), 1),
        "archive_rows": rows,
        "archive_seconds": round(archive_seconds, 2),
        "archive_bytes": size,
    }, indent=2))


if __name__ == "__main__":
    main()
