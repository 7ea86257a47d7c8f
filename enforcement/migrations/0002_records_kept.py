from django.db import migrations

from core.db import no_delete, no_truncate

TABLES = ["enforcement_fraudcase", "enforcement_decision", "enforcement_disclosure"]


class Migration(migrations.Migration):
    """Records kept at least five years (Interim Regulations Art. 11): cases, decisions and disclosures
    refuse DELETE and TRUNCATE (they still change state: a decision is approved, a halt lifted)."""

    dependencies = [("enforcement", "0001_initial"), ("core", "0004_auditevent_no_truncate")]

    operations = [no_delete(table) for table in TABLES] + [no_truncate(table) for table in TABLES]
