"""The data migration of issue 19: each company's record becomes its one unit "U1" (sector power, the
category of its latest line, its province), and its allocation lines and verified emissions point at it;
then (compliance 0009) each emission report becomes its unit's: the company's one unit, or a new "U1"
for a company with no record at all. Run for real: the database is migrated back to before the units,
filled, and migrated forward."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("allocation", "0007_verbose_names"), ("compliance", "0004_verbose_names")]


def _migrate(targets=None):
    """Migrates to `targets`, or (None) to the latest migration of every app: migrating back to BEFORE
    also unapplies what other apps built on it since, which the next tests need again."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_records_become_each_companys_one_unit():
    apps = _migrate(BEFORE)
    try:
        Organization = apps.get_model("accounts", "Organization")
        Asset = apps.get_model("registry", "Asset")
        Period = apps.get_model("allocation", "CompliancePeriod")
        Plan = apps.get_model("allocation", "AllocationPlan")
        Line = apps.get_model("allocation", "AllocationLine")
        Verified = apps.get_model("compliance", "VerifiedEmission")
        allocated = Organization.objects.create(name="Old Power", uscc="91370000MA00000001", kind="key_emitting_unit", province="37")
        verified_only = Organization.objects.create(name="Old Gas", uscc="91440000MA00000002", kind="key_emitting_unit", province="44")
        untouched = Organization.objects.create(name="A Bank", uscc="91110000MA00000003", kind="institution", province="11")
        vintage = Asset.objects.get_or_create(code="CEA21", defaults={"name": "CEA21", "kind": "allowance", "vintage": "2021"})[0]
        period = Period.objects.create(code="2021", first_year=2021, last_year=2021, emission_report_deadline=dt.date(2022, 3, 31),
                                       verification_deadline=dt.date(2022, 6, 30), surrender_deadline=dt.date(2022, 12, 31))
        older, newer = (Plan.objects.create(period=period, vintage=vintage, kind=kind)
                        for kind in ("pre_allocation", "true_up"))
        for plan, category in ((older, "coal_le300"), (newer, "coal_gt300")):
            Line.objects.create(plan=plan, organization=allocated, unit_category=category, electricity_mwh=1, heat_gj=0,
                                computed_allocation=1, issue_amount=1)
        Verified.objects.create(period=period, organization=allocated, tonnes=10)
        Verified.objects.create(period=period, organization=verified_only, tonnes=20)
        Report = apps.get_model("compliance", "EmissionReport")
        filer = apps.get_model("accounts", "User").objects.create(username="old-officer")
        reported_only = Organization.objects.create(name="Old Cement", uscc="91340000MA00000004", kind="key_emitting_unit", province="34")
        for organization in (verified_only, reported_only):
            Report.objects.create(period=period, organization=organization, emissions=5, attachment="x.csv", attachment_name="x.csv",
                                  attachment_kind="csv", attachment_size=1, attachment_sha256="0" * 64, filed_by=filer)
    finally:
        apps = _migrate()  # through the units' data migrations (allocation 0009, compliance 0006) to the latest
    Unit = apps.get_model("allocation", "EmittingUnit")
    Line = apps.get_model("allocation", "AllocationLine")
    Verified = apps.get_model("compliance", "VerifiedEmission")
    Benchmark = apps.get_model("allocation", "Benchmark")
    units = {u.organization.name: u for u in Unit.objects.select_related("organization")}
    assert set(units) == {"Old Power", "Old Gas", "Old Cement"}, "one unit per company with records, none for the others"
    assert (units["Old Power"].code, units["Old Power"].sector, units["Old Power"].category, units["Old Power"].province) == (
        "U1", "power", "coal_gt300", "37")
    assert (units["Old Gas"].code, units["Old Gas"].category, units["Old Gas"].province) == ("U1", "", "44")
    assert set(Line.objects.values_list("unit_id", flat=True)) == {units["Old Power"].pk}
    assert dict(Verified.objects.values_list("organization__name", "unit_id")) == {
        "Old Power": units["Old Power"].pk, "Old Gas": units["Old Gas"].pk}
    assert not Benchmark.objects.filter(sector="steel").exists(), "no sector rows for a period before 2024"
    assert untouched.pk not in set(Unit.objects.values_list("organization_id", flat=True))
    Report = apps.get_model("compliance", "EmissionReport")
    assert dict(Report.objects.values_list("organization__name", "unit_id")) == {
        "Old Gas": units["Old Gas"].pk, "Old Cement": Unit.objects.get(organization__name="Old Cement", code="U1").pk}
