"""Database-level guards that only PostgreSQL runs. On SQLite the services enforce the same rules."""

from django.db import connection, migrations, models


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


NO_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION core_refuse_truncate() RETURNS trigger AS $$
BEGIN
    -- The one escape: the test runner empties tables between tests, in a test database only.
    IF current_setting('carbon.allow_truncate', true) = 'on' AND current_database() LIKE 'test\\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'table % is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def no_truncate(table: str) -> PostgresOnlySQL:
    """Makes `table` refuse TRUNCATE too (a row trigger does not see it), except in a test database
    whose session set `carbon.allow_truncate` (tests/conftest.py)."""
    trigger = f"{table}_no_truncate"
    return PostgresOnlySQL(
        sql=NO_TRUNCATE_FUNCTION
        + f"CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION core_refuse_truncate();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )


def row_insert(instance: models.Model) -> models.Model:
    """Inserts a new, unsaved instance in one plain statement and sets its primary key: what
    `Model.objects.create` does for models without save() logic or signals, at a fraction of the
    ORM's cost, for the rows written on every order's path. Fields with auto_now(_add) must already
    hold their values (pre_save is not called)."""
    fields = [field for field in instance._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(instance._meta.db_table)} "
            f"({', '.join(connection.ops.quote_name(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {connection.ops.quote_name(instance._meta.pk.column)}",
            values,
        )
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return instance
