"""An emission report's unit is required, and a unit files once per period (0009 filled the column)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0009_emission_report_per_unit"),
    ]

    operations = [
        migrations.AlterField(
            model_name="emissionreport",
            name="unit",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="emission_reports",
                                    to="allocation.emittingunit", verbose_name="unit"),
        ),
        migrations.RemoveConstraint(model_name="emissionreport", name="emission_report_once"),
        migrations.AddConstraint(
            model_name="emissionreport",
            constraint=models.UniqueConstraint(fields=("period", "unit"), name="emission_report_once_per_unit"),
        ),
    ]
