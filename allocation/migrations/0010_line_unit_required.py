"""Every allocationline has its unit now (the previous migration): the unit is required. (Its own migration:
PostgreSQL does not alter a table in the transaction that just updated its rows.)"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("allocation", "0009_units_from_organizations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="allocationline",
            name="unit",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="allocation_lines",
                                    to="allocation.emittingunit", verbose_name="unit"),
        ),
    ]
