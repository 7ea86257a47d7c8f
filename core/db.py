"""Database helpers: guards that only PostgreSQL runs (on SQLite the services enforce the same
rules), and the plain statements of the hot paths (order entry, the matcher, the ledger)."""

import hashlib
import re
import weakref
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, migrations, models


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


def no_delete(table: str) -> PostgresOnlySQL:
    """Makes `table` refuse DELETE for every database user (rows may still change state): records
    kept for at least five years (Interim Regulations Art. 11), such as reports and decisions."""
    trigger = f"{table}_no_delete"
    return PostgresOnlySQL(
        sql=APPEND_ONLY_FUNCTION
        + f"CREATE TRIGGER {trigger} BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION core_refuse_change();",
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

def _connection() -> Any:
    """The default connection itself. Each attribute read through django.db.connection (a proxy)
    looks the connection up in a thread- and task-local store: in the loops below, once per field
    and row, that lookup cost more than the work."""
    return connections[DEFAULT_DB_ALIAS]


class Prepared(str):
    """SQL text that PostgreSQL keeps prepared on each connection that runs it through
    `statements_execute`: parsed and planned once per connection instead of on every call, which is
    most of the database's work for a one-row statement. For hot statements of a fixed shape only:
    each distinct text stays in the memory of every connection that ran it. Setting
    PREPARED_STATEMENTS=false turns it off (a connection pooler in transaction mode, such as
    PgBouncer's, does not keep a session's prepared statements)."""

    __slots__ = ()


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")
_prepared_on: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


@cache
def _server_form(sql: str) -> tuple[str, str, tuple[str, ...] | None]:
    """(name, text with $n parameters, the parameter names in $n order, or None if positional)."""
    names: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            positional += 1
            return f"${positional}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = _PLACEHOLDER.sub(number, sql)
    return "p_" + hashlib.sha1(sql.encode()).hexdigest()[:20], text, tuple(names) if names else None


def _executable(cursor: Any, sql: str, params: Any) -> str:
    """The statement as text with its parameters bound; a Prepared one as an EXECUTE, prepared on the
    cursor's connection first (in its own round trip, once) if it is not yet."""
    if not (isinstance(sql, Prepared) and settings.PREPARED_STATEMENTS):
        return cursor.mogrify(sql, params).decode()
    name, text, names = _server_form(sql)
    prepared = _prepared_on.setdefault(cursor.connection, set())
    if name not in prepared:
        cursor.execute(f"PREPARE {name} AS {text}")
        prepared.add(name)
    args = [params[key] for key in names] if names is not None else list(params or [])
    if not args:
        return f"EXECUTE {name}"
    return cursor.mogrify(f"EXECUTE {name}({', '.join(['%s'] * len(args))})", args).decode()


def row_insert_statement(instance: models.Model, *, returning: bool = True) -> tuple[Prepared, list[Any]]:
    """The plain INSERT of a new, unsaved instance (with `RETURNING` its primary key); prepared."""
    sql, fields = _insert_sql(type(instance), returning)
    db = _connection()
    return sql, [field.get_db_prep_save(getattr(instance, field.attname), db) for field in fields]


@cache
def _insert_sql(model: type[models.Model], returning: bool, rows: int = 1) -> tuple[Prepared, tuple[models.Field, ...]]:
    """INSERT of `rows` rows of all the model's columns but its key (RETURNING it, if asked)."""
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return Prepared(sql), fields


def instance_from_row(model: type[models.Model], row: Sequence[Any]) -> models.Model:
    """An instance from a plain query's row of all the model's concrete fields, in their order, with
    the values converted as the ORM converts them (SQLite answers dates as text and decimals as
    floats; PostgreSQL's driver needs no conversion but JSON's)."""
    names, converting = _row_form(model)
    values = list(row)
    if converting:
        db = _connection()
        for index, column, converters in converting:
            for converter in converters:
                values[index] = converter(values[index], column, db)
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


@cache
def _row_form(model: type[models.Model]) -> tuple[list[str], tuple[tuple[int, Any, list[Any]], ...]]:
    """(the concrete fields' names, (index, column, converters) of those whose values need converting)."""
    converting = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            converting.append((index, column, converters))
    return [field.attname for field in model._meta.concrete_fields], tuple(converting)


def row_insert(instance: models.Model) -> models.Model:
    """Inserts a new, unsaved instance in one plain statement and sets its primary key: what
    `Model.objects.create` does for models without save() logic or signals, at a fraction of the
    ORM's cost, for the rows written on every order's path. Fields with auto_now(_add) must already
    hold their values (pre_save is not called)."""
    with connection.cursor() as cursor:
        statements_execute(cursor, [row_insert_statement(instance)])
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


def rows_insert(instances: Sequence[models.Model]) -> None:
    """Inserts new, unsaved instances of one model and sets their primary keys: `bulk_create` in one
    plain statement on PostgreSQL (`INSERT ... VALUES (...), (...) RETURNING`, whose rows come back
    in the order of the values, as bulk_create relies on too), where building it with the ORM cost the
    matcher more than the database spent on it. Elsewhere bulk_create itself. As with `row_insert`,
    fields with auto_now(_add) must already hold their values."""
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    sql, fields = _insert_sql(model, True, len(instances))
    db = _connection()
    params = [field.get_db_prep_save(getattr(instance, field.attname), db) for instance in instances for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for instance, (pk,) in zip(instances, cursor.fetchall(), strict=True):
            instance.pk = pk
            instance._state.adding, instance._state.db = False, connection.alias


def statements_execute(cursor: Any, statements: Sequence[tuple[str, Any]]) -> None:
    """Runs the statements in order; on PostgreSQL in one round trip (the parameters bound by the
    driver, as for any statement; `Prepared` ones executed by name). The cursor then holds the last
    statement's result."""
    if connection.vendor == "postgresql" and (len(statements) > 1 or any(isinstance(sql, Prepared) for sql, _ in statements)):
        cursor.execute(";\n".join(_executable(cursor, sql, params) for sql, params in statements))
        return
    for sql, params in statements:
        cursor.execute(sql, params)


def rows_update_statements(instances: list[models.Model], field_names: list[str]) -> list[tuple[str, list[Any]]]:
    """The statements that write `field_names` of many saved instances: on PostgreSQL one
    `UPDATE ... FROM (VALUES ...)`, which costs a fraction of `bulk_update`'s CASE expression
    (quadratic in the rows, and slow to build in Python); elsewhere one UPDATE per row."""
    if not instances:
        return []
    meta = type(instances[0])._meta
    quote = connection.ops.quote_name
    fields = [meta.pk, *(meta.get_field(name) for name in field_names)]
    columns = [quote(field.column) for field in fields]

    db = _connection()

    def values(instance: models.Model) -> list[Any]:
        return [field.get_db_prep_save(getattr(instance, field.attname), db) for field in fields]

    if connection.vendor != "postgresql":
        sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{column} = %s' for column in columns[1:])} WHERE {columns[0]} = %s"
        return [(sql, [*row[1:], row[0]]) for row in map(values, instances)]
    row = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in fields) + ")"
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET "
        + ", ".join(f"{column} = v.{column}" for column in columns[1:])
        + f" FROM (VALUES {', '.join([row] * len(instances))}) AS v({', '.join(columns)})"
        f" WHERE t.{columns[0]} = v.{columns[0]}"
    )
    return [(sql, [value for instance in instances for value in values(instance)])]


def rows_update(instances: list[models.Model], field_names: list[str]) -> None:
    """Writes `field_names` of many saved instances (see `rows_update_statements`)."""
    if not instances:
        return
    with connection.cursor() as cursor:
        statements_execute(cursor, rows_update_statements(instances, field_names))
