"""Each company's record becomes its one unit: "U1", sector power, the category of its latest line and
its province; every allocation line points at it. Periods from 2024 on get the new sectors' assumed
benchmark rows (allocation.formula.sector_benchmarks)."""

from django.db import migrations

from allocation.formula import DEFAULT_UNIT_CODE, sector_benchmarks


def units_from_organizations(apps, schema_editor):
    AllocationLine = apps.get_model("allocation", "AllocationLine")
    EmittingUnit = apps.get_model("allocation", "EmittingUnit")
    Organization = apps.get_model("accounts", "Organization")
    categories = dict(AllocationLine.objects.order_by("plan_id").values_list("organization_id", "unit_category"))
    existing = set(EmittingUnit.objects.values_list("organization_id", flat=True))
    EmittingUnit.objects.bulk_create([
        EmittingUnit(organization_id=org.pk, code=DEFAULT_UNIT_CODE, name=org.name, sector="power",
                     category=categories[org.pk], province=org.province)
        for org in Organization.objects.filter(pk__in=set(categories) - existing)
    ], batch_size=2000)
    units = dict(EmittingUnit.objects.filter(code=DEFAULT_UNIT_CODE).values_list("organization_id", "pk"))
    for organization_id, unit_id in units.items():
        AllocationLine.objects.filter(organization_id=organization_id, unit__isnull=True).update(unit_id=unit_id)


def sector_rows(apps, schema_editor):
    Benchmark = apps.get_model("allocation", "Benchmark")
    CompliancePeriod = apps.get_model("allocation", "CompliancePeriod")
    for period in CompliancePeriod.objects.all():
        Benchmark.objects.bulk_create(
            [Benchmark(period=period, **row) for row in sector_benchmarks(period.first_year, period.last_year)],
            ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("allocation", "0008_emitting_units"),
    ]

    operations = [
        migrations.RunPython(units_from_organizations, migrations.RunPython.noop),
        migrations.RunPython(sector_rows, migrations.RunPython.noop),
    ]
