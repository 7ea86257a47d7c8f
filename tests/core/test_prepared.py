"""core.db.Prepared: hot statements are prepared once per connection and executed by name."""

import pytest
from django.db import connection, transaction

from core.db import Prepared, statements_execute

pytestmark = pytest.mark.django_db


def prepared_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def run(sql: str, params: object) -> list[tuple]:
    with connection.cursor() as cursor:
        statements_execute(cursor, [(sql, params)])
        return cursor.fetchall()


def test_a_prepared_statement_answers_as_the_plain_one_and_is_prepared_once():
    sql = "SELECT %s::int + %s::int, %s::text || '%%'"
    plain = run(sql, [2, 3, "50"])
    before = prepared_statements()

    assert run(Prepared(sql), [2, 3, "50"]) == plain == [(5, "50%")]
    assert run(Prepared(sql), [4, 5, "it's"]) == [(9, "it's%")]  # quoting is the driver's, as for any statement

    added = set(prepared_statements()) - set(before)
    assert len(added) == 1
    assert "$1::int + $2::int, $3::text || '%'" in prepared_statements()[added.pop()]


def test_named_parameters_are_numbered_by_first_use_and_may_repeat():
    sql = Prepared("SELECT %(a)s::int * 10 + %(b)s::int, %(a)s::int")
    assert run(sql, {"b": 7, "a": 3}) == [(37, 3)]
    assert run(sql, {"a": 1, "b": 2}) == [(12, 1)]


def test_prepared_and_plain_statements_share_one_round_trip_in_order():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE prepared_probe (n int)")
        statements_execute(cursor, [
            (Prepared("INSERT INTO prepared_probe VALUES (%s)"), [1]),
            ("INSERT INTO prepared_probe VALUES (%s)", [2]),
            (Prepared("INSERT INTO prepared_probe VALUES (%s)"), [3]),
            (Prepared("SELECT array_agg(n ORDER BY n) FROM prepared_probe"), []),
        ])
        assert cursor.fetchone()[0] == [1, 2, 3]


def test_a_statement_prepared_in_a_rolled_back_transaction_still_runs():
    """PostgreSQL keeps a prepared statement through a rollback, and so does the connection's list:
    executing it again must neither prepare it twice nor find it missing."""
    sql = Prepared("SELECT %s::int * 2")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert run(sql, [21]) == [(42,)]
        raise RuntimeError("roll back")
    assert run(sql, [4]) == [(8,)]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    sql = Prepared("SELECT %s::int + 1")
    assert run(sql, [1]) == [(2,)]
    old = connection.connection
    connection.close()
    connection.ensure_connection()
    assert connection.connection is not old
    assert run(sql, [2]) == [(3,)]


def test_turned_off_nothing_is_prepared(settings):
    settings.PREPARED_STATEMENTS = False
    before = prepared_statements()
    assert run(Prepared("SELECT %s::int - 1"), [1]) == [(0,)]
    assert prepared_statements() == before

