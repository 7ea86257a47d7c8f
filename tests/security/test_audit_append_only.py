"""The audit table is append-only in the database: UPDATE, DELETE and TRUNCATE are refused, whoever
asks; the only escape is the test runner's flush in a test database (core.db.no_truncate)."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from core.audit import audit_record
from core.models import AuditEvent


@pytest.fixture
def event(transactional_db, trader_a):
    with transaction.atomic():
        return audit_record(actor=trader_a, action="test.event", obj=trader_a)


@pytest.mark.parametrize("statement", [
    "UPDATE core_auditevent SET action = 'forged'",
    "DELETE FROM core_auditevent",
    "TRUNCATE core_auditevent CASCADE",
])
def test_the_database_refuses_to_rewrite_or_empty_the_audit_table(event, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL carbon.allow_truncate = 'off'")
        cursor.execute(statement)
    assert AuditEvent.objects.filter(pk=event.pk, action="test.event").exists()


def test_the_truncate_escape_works_only_in_a_test_database(event):
    """The trigger lets TRUNCATE through only when the GUC is on *and* the database is a test one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'core_refuse_truncate'")
        source = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('carbon.allow_truncate', true), current_database()")
        setting, database = cursor.fetchone()
    assert "current_database() LIKE 'test\\_%'" in source
    assert setting == "on" and database.startswith("test_")
