from django.db import migrations

from core.db import append_only, no_truncate


class Migration(migrations.Migration):
    """An allocation cut is a decision's record: never changed or deleted."""

    dependencies = [("allocation", "0008_allocation_cut"), ("core", "0004_auditevent_no_truncate")]

    operations = [append_only("allocation_allocationcut"), no_truncate("allocation_allocationcut")]
