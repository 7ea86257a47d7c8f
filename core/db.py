"""Database-level guards that only PostgreSQL runs. On SQLite the services enforce the same rules."""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that is skipped on every database but PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION core_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str) -> PostgresOnlySQL:
    """Makes `table` refuse UPDATE and DELETE for every database user."""
    trigger = f"{table}_append_only"
    return PostgresOnlySQL(
        sql=APPEND_ONLY_FUNCTION
        + f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION core_refuse_change();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )
