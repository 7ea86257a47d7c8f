from django.db import migrations

from core.db import no_truncate


class Migration(migrations.Migration):
    dependencies = [("core", "0003_idempotencyrecord")]
    operations = [no_truncate("core_auditevent")]
