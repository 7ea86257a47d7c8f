"""The ledger's invariants live in the database too (STYLE.md, rule 5): each guard refuses a bad write
that bypasses the services.

CHECK and UNIQUE constraints and the BEFORE UPDATE/DELETE triggers are immediate, so they fire inside
a test transaction as well; the trigger tests still run with real commits (transaction=True) to prove
that committed history cannot be rewritten. Each expected failure runs in its own atomic block, so the
refused statement rolls back to a savepoint and leaves the test's connection usable.
"""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from core.models import AuditEvent
from registry.models import Balance, Bucket, Transfer
from registry.services import allowances_issue
from tests.registry.helpers import allowances_give, buckets, zero


@pytest.fixture
def funded_a(holding_a, cea, national_regulator):
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    return holding_a


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- balances ---


@pytest.mark.parametrize("bucket", Bucket.values)
def test_the_database_refuses_a_negative_bucket_written_through_the_orm(db, funded_a, cea, bucket):
    with pytest.raises(IntegrityError, match=f"balance_{bucket}_not_negative"), transaction.atomic():
        Balance.objects.filter(account=funded_a, asset=cea).update(**{bucket: -1})
    assert buckets(funded_a, cea) == zero(available=100)


@pytest.mark.parametrize("bucket", Bucket.values)
def test_the_database_refuses_a_negative_bucket_written_in_sql(db, funded_a, cea, bucket):
    with pytest.raises(IntegrityError, match=f"balance_{bucket}_not_negative"), transaction.atomic():
        _raw(f"UPDATE registry_balance SET {bucket} = -1 WHERE account_id = %s AND asset_id = %s", [funded_a.pk, cea.pk])
    assert buckets(funded_a, cea) == zero(available=100)


def test_the_database_refuses_an_overdraft_computed_in_the_database(db, funded_a, cea):
    with pytest.raises(IntegrityError, match="balance_available_not_negative"), transaction.atomic():
        Balance.objects.filter(account=funded_a, asset=cea).update(available=F("available") - 101)
    assert buckets(funded_a, cea) == zero(available=100)


def test_the_database_refuses_a_second_balance_row_for_one_account_and_asset(db, holding_a, cea):
    with pytest.raises(IntegrityError, match="balance_one_per_account_asset"), transaction.atomic():
        Balance.objects.create(account=holding_a, asset=cea)
    assert Balance.objects.filter(account=holding_a, asset=cea).count() == 1


# --- transfers: the shape of a row ---


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_the_database_refuses_a_transfer_without_a_positive_amount(db, national_account, cea, amount):
    with pytest.raises(IntegrityError, match="transfer_amount_positive"), transaction.atomic():
        Transfer.objects.create(
            kind=Transfer.Kind.ISSUANCE, asset=cea, amount=amount, destination=national_account,
            destination_bucket=Bucket.AVAILABLE,
        )
    assert not Transfer.objects.exists()


def test_the_database_refuses_a_transfer_amount_of_zero_in_sql(db, national_regulator, national_account, cea):
    transfer = allowances_issue(asset=cea, amount=10, actor=national_regulator)
    with pytest.raises(IntegrityError, match="transfer_amount_positive"), transaction.atomic():
        _raw(
            "INSERT INTO registry_transfer (created_at, kind, asset_id, amount, destination_id, destination_bucket, "
            "source_bucket, reference, external_reference, memo) "
            "VALUES (now(), 'issuance', %s, 0, %s, 'available', '', '', '', '')",
            [cea.pk, national_account.pk],
        )
    assert list(Transfer.objects.values_list("pk", flat=True)) == [transfer.pk]


def test_the_database_refuses_a_source_without_a_bucket(db, funded_a, holding_b, cea):
    with pytest.raises(IntegrityError, match="transfer_source_has_bucket"), transaction.atomic():
        Transfer.objects.create(
            kind=Transfer.Kind.TRANSFER, asset=cea, amount=1, source=funded_a, source_bucket="",
            destination=holding_b, destination_bucket=Bucket.AVAILABLE,
        )


def test_the_database_refuses_value_appearing_from_nowhere(db, holding_a, cea):
    with pytest.raises(IntegrityError, match="transfer_only_entries_lack_source"), transaction.atomic():
        Transfer.objects.create(
            kind=Transfer.Kind.ALLOCATION, asset=cea, amount=1, destination=holding_a, destination_bucket=Bucket.AVAILABLE,
        )


def test_the_database_refuses_value_vanishing_except_by_withdrawal(db, funded_a, cea):
    with pytest.raises(IntegrityError, match="transfer_only_withdrawals_lack_destination"), transaction.atomic():
        Transfer.objects.create(kind=Transfer.Kind.SURRENDER, asset=cea, amount=1, source=funded_a, source_bucket=Bucket.AVAILABLE)


def test_the_database_books_a_bank_reference_once_per_kind(db, cash_a, cny, exchange_operator):
    from registry.services import cash_deposit

    cash_deposit(account=cash_a, amount=100, bank_reference="ICBC-1", actor=exchange_operator)
    with pytest.raises(IntegrityError, match="transfer_external_reference_once"), transaction.atomic():
        Transfer.objects.create(
            kind=Transfer.Kind.DEPOSIT, asset=cny, amount=100, destination=cash_a, destination_bucket=Bucket.AVAILABLE,
            external_reference="ICBC-1",
        )
    assert Transfer.objects.filter(external_reference="ICBC-1").count() == 1


# --- append-only history (committed rows, real transactions) ---


@pytest.fixture
def committed_issuance(national_regulator, cea):
    """One issuance and its audit event, committed."""
    transfer = allowances_issue(asset=cea, amount=100, actor=national_regulator)
    return transfer, AuditEvent.objects.get(action="registry.issue", object_id=str(transfer.pk))


def _transfer_update_orm(transfer):
    Transfer.objects.filter(pk=transfer.pk).update(amount=1_000_000)


def _transfer_save(transfer):
    transfer.amount = 1_000_000
    transfer.save()


def _transfer_update_sql(transfer):
    _raw("UPDATE registry_transfer SET amount = amount + 1 WHERE id = %s", [transfer.pk])


def _transfer_delete_orm(transfer):
    Transfer.objects.filter(pk=transfer.pk).delete()


def _transfer_delete_instance(transfer):
    Transfer.objects.get(pk=transfer.pk).delete()


def _transfer_delete_sql(transfer):
    _raw("DELETE FROM registry_transfer WHERE id = %s", [transfer.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("attempt", "operation"),
    [
        (_transfer_update_orm, "UPDATE"),
        (_transfer_save, "UPDATE"),
        (_transfer_update_sql, "UPDATE"),
        (_transfer_delete_orm, "DELETE"),
        (_transfer_delete_instance, "DELETE"),
        (_transfer_delete_sql, "DELETE"),
    ],
)
def test_the_database_refuses_to_rewrite_a_transfer(committed_issuance, attempt, operation):
    transfer, _ = committed_issuance
    with pytest.raises(DatabaseError, match=f"table registry_transfer is append-only: {operation} refused"), transaction.atomic():
        attempt(transfer)
    assert list(Transfer.objects.values_list("pk", "amount")) == [(transfer.pk, 100)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["registry_transfer", "registry_sealblock", "registry_sealcheck"])
def test_the_database_refuses_to_empty_the_ledger_or_its_seal_chain(committed_issuance, table):
    transfer, _ = committed_issuance
    with pytest.raises(DatabaseError, match=f"table {table} is append-only: TRUNCATE refused"), transaction.atomic():
        _raw("SET LOCAL carbon.allow_truncate = 'off'", [])  # the test runner's flush escape, off
        _raw(f"TRUNCATE {table} CASCADE", [])
    assert list(Transfer.objects.values_list("pk", flat=True)) == [transfer.pk]


def _audit_update_orm(event):
    AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")


def _audit_update_sql(event):
    _raw("UPDATE core_auditevent SET action = 'registry.nothing' WHERE id = %s", [event.pk])


def _audit_delete_orm(event):
    AuditEvent.objects.filter(pk=event.pk).delete()


def _audit_delete_sql(event):
    _raw("DELETE FROM core_auditevent WHERE id = %s", [event.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("attempt", "operation"),
    [(_audit_update_orm, "UPDATE"), (_audit_update_sql, "UPDATE"), (_audit_delete_orm, "DELETE"), (_audit_delete_sql, "DELETE")],
)
def test_the_database_refuses_to_rewrite_an_audit_event(committed_issuance, national_regulator, attempt, operation):
    _, event = committed_issuance
    with pytest.raises(DatabaseError, match=f"table core_auditevent is append-only: {operation} refused"), transaction.atomic():
        attempt(event)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_label) == ("registry.issue", national_regulator.username)


@pytest.mark.django_db(transaction=True)
def test_a_refused_rewrite_outside_any_transaction_changes_nothing(committed_issuance):
    """In autocommit (no atomic block at all), as a stray script would run it."""
    transfer, _ = committed_issuance
    assert not connection.in_atomic_block
    with pytest.raises(DatabaseError, match="append-only"):
        _transfer_update_sql(transfer)
    assert Transfer.objects.get(pk=transfer.pk).amount == 100
