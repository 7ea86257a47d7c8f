from django.db import migrations

from core.db import no_delete, no_truncate

TABLES = ["compliance_emissionreport", "compliance_verifiedemission", "compliance_surrender", "compliance_complianceresult"]


class Migration(migrations.Migration):
    """Records kept at least five years (Interim Regulations Art. 11): emission reports (with their
    attachments' names and hashes), verified emissions, surrenders and compliance results refuse
    DELETE and TRUNCATE; they still change state through the services."""

    dependencies = [("compliance", "0004_verbose_names"), ("core", "0004_auditevent_no_truncate")]

    operations = [no_delete(table) for table in TABLES] + [no_truncate(table) for table in TABLES]
