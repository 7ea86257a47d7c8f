"""Every verifiedemission has its unit now (the previous migration): the unit is required. (Its own migration:
PostgreSQL does not alter a table in the transaction that just updated its rows.)"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0006_verified_emissions_to_units"),
    ]

    operations = [
        migrations.AlterField(
            model_name="verifiedemission",
            name="unit",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="verified_emissions",
                                    to="allocation.emittingunit", verbose_name="unit"),
        ),
    ]
