from django.db import migrations

from core.db import no_truncate


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditevent_append_only")]
    operations = [no_truncate("core_auditevent")]
