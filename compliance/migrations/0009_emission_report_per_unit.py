"""An emission report is a unit's: a company with several units files one per unit (the column made
required and unique per period in 0010, in its own transaction: PostgreSQL alters no table with
deferred constraint checks of this one's rows pending).

Existing reports get the unit their confirmed record names; else the company's one unit (its first by
code, if it has several: such a report could not be confirmed before); else the company's default unit
("U1", power, as a report's confirmation created it), created here."""

import django.db.models.deletion
from django.db import migrations, models


def reports_to_units(apps, schema_editor):
    EmissionReport = apps.get_model("compliance", "EmissionReport")
    EmittingUnit = apps.get_model("allocation", "EmittingUnit")
    for report in EmissionReport.objects.filter(unit__isnull=True).select_related("verified_emission", "organization"):
        if report.verified_emission_id:
            unit_id = report.verified_emission.unit_id
        else:
            unit = EmittingUnit.objects.filter(organization_id=report.organization_id).order_by("code").first()
            if unit is None:
                organization = report.organization
                unit = EmittingUnit.objects.create(organization=organization, code="U1", sector="power",
                                                   province=organization.province, name=organization.name)
            unit_id = unit.pk
        EmissionReport.objects.filter(pk=report.pk).update(unit_id=unit_id)


class Migration(migrations.Migration):

    dependencies = [
        ("allocation", "0011_merge_units_and_cuts"),
        ("compliance", "0008_merge_units_and_records_kept"),
    ]

    operations = [
        migrations.AddField(
            model_name="emissionreport",
            name="unit",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="emission_reports",
                                    to="allocation.emittingunit", verbose_name="unit"),
        ),
        migrations.RunPython(reports_to_units, migrations.RunPython.noop),
    ]
