from django.db import migrations

from core.db import no_truncate


class Migration(migrations.Migration):
    """Transfers and the seal chain refuse TRUNCATE too, like the audit table (core 0004)."""

    dependencies = [("registry", "0004_seal_chain"), ("core", "0004_auditevent_no_truncate")]

    operations = [no_truncate("registry_transfer"), no_truncate("registry_sealblock"), no_truncate("registry_sealcheck")]
