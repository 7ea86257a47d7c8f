"""Each company's verified emissions become its one unit's (the unit "U1" the allocation migration made,
or a new one, sector power, for a company verified but never allocated)."""

from django.db import migrations

from allocation.formula import DEFAULT_UNIT_CODE


def verified_to_units(apps, schema_editor):
    VerifiedEmission = apps.get_model("compliance", "VerifiedEmission")
    EmittingUnit = apps.get_model("allocation", "EmittingUnit")
    Organization = apps.get_model("accounts", "Organization")
    verified = set(VerifiedEmission.objects.filter(unit__isnull=True).values_list("organization_id", flat=True).distinct())
    existing = set(EmittingUnit.objects.filter(organization_id__in=verified).values_list("organization_id", flat=True))
    EmittingUnit.objects.bulk_create([
        EmittingUnit(organization_id=org.pk, code=DEFAULT_UNIT_CODE, name=org.name, sector="power", category="",
                     province=org.province)
        for org in Organization.objects.filter(pk__in=verified - existing)
    ], batch_size=2000)
    units = dict(EmittingUnit.objects.filter(organization_id__in=verified).order_by("-code")
                 .values_list("organization_id", "pk"))  # the company's one unit (the migration made at most one)
    for organization_id, unit_id in units.items():
        VerifiedEmission.objects.filter(organization_id=organization_id, unit__isnull=True).update(unit_id=unit_id)


class Migration(migrations.Migration):

    dependencies = [
        ("allocation", "0009_units_from_organizations"),
        ("compliance", "0005_verified_per_unit_and_gas"),
    ]

    operations = [
        migrations.RunPython(verified_to_units, migrations.RunPython.noop),
    ]
