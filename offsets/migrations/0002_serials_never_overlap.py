"""PostgreSQL guards of the offset registry: no two serial blocks and no two issuances share a serial
number (exclusion constraints on their ranges); the history of serial ranges and the certificates are
append-only."""

from django.db import migrations

from core.db import PostgresOnlySQL, append_only


def _no_overlap(table: str, name: str, where: str = "") -> PostgresOnlySQL:
    return PostgresOnlySQL(
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"(int8range(first_serial, last_serial, '[]') WITH &&){where};",
        reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};",
    )


class Migration(migrations.Migration):
    dependencies = [("offsets", "0001_offset_registry"), ("core", "0002_auditevent_append_only")]

    operations = [
        _no_overlap("offsets_serialblock", "serialblock_serials_never_overlap"),
        _no_overlap("offsets_issuance", "issuance_serials_never_overlap", " WHERE (first_serial IS NOT NULL)"),
        append_only("offsets_blockmovement"),
        append_only("offsets_certificate"),
    ]
