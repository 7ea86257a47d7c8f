"""The ledger seal chain (registry.seal): sealing in blocks, idempotently, and a verification that names
the first block a change to history breaks.

The tampering tests change rows by raw SQL with the append-only trigger switched off, as someone with
the database owner's rights could; the test transaction rolls the damage (and the switch) back, and
they are marked `ledger_tampered` so that the after-test proof does not fail on purpose-made damage."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from core.locks import TRANSFER_INSERT
from registry.models import SealBlock, SealCheck, Transfer
from registry.seal import GENESIS_HASH, ledger_seal, ledger_seal_verify, seal_check_record, transfer_canonical
from registry.services import allowances_issue
from tests.registry.helpers import one_audit_event


def issue(count: int, *, asset, regulator) -> list[Transfer]:
    return [allowances_issue(asset=asset, amount=10 + index, actor=regulator, reference=f"test:{index}") for index in range(count)]


def tamper(sql: str, params: list, *, table: str = "registry_transfer") -> None:
    """Runs `sql` with `table`'s append-only trigger off, all in one transaction (the trigger is never
    left off, even when `sql` fails or the test commits)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # ALTER TABLE refuses while deferred foreign key checks are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def chain() -> list[tuple[int, int, int, int]]:
    return list(SealBlock.objects.order_by("height").values_list("height", "first_transfer_id", "last_transfer_id", "transfer_count"))


@pytest.fixture
def sealed(cea, national_regulator):
    """Seven issuances sealed in blocks of three: blocks 1 (3), 2 (3), 3 (1)."""
    transfers = issue(7, asset=cea, regulator=national_regulator)
    assert ledger_seal(block_size=3).complete
    return transfers


def test_it_seals_new_transfers_into_chained_blocks_of_at_most_the_block_size(sealed):
    ids = [transfer.pk for transfer in sealed]
    assert chain() == [(1, ids[0], ids[2], 3), (2, ids[3], ids[5], 3), (3, ids[6], ids[6], 1)]
    blocks = list(SealBlock.objects.order_by("height"))
    assert blocks[0].previous_hash == GENESIS_HASH
    assert [block.previous_hash for block in blocks[1:]] == [block.block_hash for block in blocks[:-1]]
    assert all(len(block.block_hash) == 64 for block in blocks)
    assert len({block.block_hash for block in blocks}) == 3


def test_it_seals_incrementally_from_the_last_block(sealed, cea, national_regulator):
    head = SealBlock.objects.get(height=3)
    later = issue(4, asset=cea, regulator=national_regulator)
    result = ledger_seal(block_size=3)
    ids = [transfer.pk for transfer in later]
    assert [(block.height, block.first_transfer_id, block.last_transfer_id) for block in result.blocks] == [
        (4, ids[0], ids[2]), (5, ids[3], ids[3])
    ]
    assert result.blocks[0].previous_hash == head.block_hash
    assert result.transfers_sealed == 4
    report = ledger_seal_verify()
    assert report.ok and report.blocks_checked == 5 and report.transfers_checked == 11 and report.unsealed == 0


def test_sealing_again_with_nothing_new_writes_nothing(sealed):
    before = chain()
    result = ledger_seal(block_size=3)
    assert result.blocks == [] and result.complete
    assert chain() == before


def test_a_seal_is_audited_once_per_transaction(cea, national_regulator):
    issue(2, asset=cea, regulator=national_regulator)
    with one_audit_event("registry.seal", actor=None) as watch:
        ledger_seal(block_size=1)
    assert watch.event.after["heights"] == [1, 2]


def test_the_block_size_comes_from_the_setting(settings, cea, national_regulator):
    settings.SEAL_BLOCK_SIZE = 2
    issue(5, asset=cea, regulator=national_regulator)
    ledger_seal()
    assert [count for *_, count in chain()] == [2, 2, 1]


def test_a_long_backlog_is_sealed_over_several_transactions(monkeypatch, cea, national_regulator):
    monkeypatch.setattr("registry.seal.BLOCKS_PER_TRANSACTION", 2)
    issue(9, asset=cea, regulator=national_regulator)
    result = ledger_seal(block_size=2)
    assert [block.height for block in result.blocks] == [1, 2, 3, 4, 5]
    assert ledger_seal_verify().ok


def test_the_canonical_form_of_a_transfer_is_fixed():
    """The hash must mean the same thing for ever: changing this format breaks every existing chain."""
    row = (7, datetime(2026, 11, 26, 1, 2, 3, 4500, tzinfo=UTC), "issuance", 3, 100, None, "", 12, "available", 5, "plan:1", "", "备注")
    assert transfer_canonical(row) == (
        '[7,"2026-11-26T01:02:03.004500Z","issuance",3,100,null,"",12,"available",5,"plan:1","","备注"]\n'.encode()
    )


def test_an_intact_chain_verifies(sealed):
    report = ledger_seal_verify()
    assert report.ok and report.broken_height is None
    assert (report.blocks_checked, report.transfers_checked, report.head_height) == (3, 7, 3)
    assert report.head_hash == SealBlock.objects.get(height=3).block_hash


def test_transfers_not_sealed_yet_are_counted_and_do_not_break_the_chain(sealed, cea, national_regulator):
    issue(2, asset=cea, regulator=national_regulator)
    report = ledger_seal_verify()
    assert report.ok and report.unsealed == 2


@pytest.mark.ledger_tampered
def test_a_transfer_changed_by_raw_sql_breaks_its_block(sealed):
    tamper("UPDATE registry_transfer SET amount = amount + 1 WHERE id = %s", [sealed[4].pk])
    report = ledger_seal_verify()
    assert not report.ok and report.broken_height == 2
    assert "hash differs" in report.problem
    assert report.blocks_checked == 1


@pytest.mark.ledger_tampered
def test_a_changed_memo_breaks_its_block_too(sealed):
    tamper("UPDATE registry_transfer SET memo = 'adjusted' WHERE id = %s", [sealed[6].pk])
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 3)


@pytest.mark.ledger_tampered
def test_a_deleted_transfer_breaks_its_block(sealed):
    tamper("DELETE FROM registry_transfer WHERE id = %s", [sealed[1].pk])
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 1)
    assert "2 transfers found where 3 were sealed" in report.problem


@pytest.mark.ledger_tampered
def test_deleting_a_blocks_last_transfer_is_detected(sealed):
    tamper("DELETE FROM registry_transfer WHERE id = %s", [sealed[6].pk])
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 3)


def test_an_edited_block_hash_breaks_that_block(sealed):
    tamper("UPDATE registry_sealblock SET block_hash = %s WHERE height = 2", ["f" * 64], table="registry_sealblock")
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 2)


def test_an_edited_block_range_is_detected(sealed):
    # Moving a transfer from block 1 into block 2 (ids and counts kept consistent) still breaks block 1.
    tamper(
        "UPDATE registry_sealblock SET last_transfer_id = last_transfer_id - 1, transfer_count = 2 WHERE height = 1", [],
        table="registry_sealblock",
    )
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 1)


def test_reordered_blocks_are_detected(sealed):
    for old, new in ((1, 100), (2, 1), (100, 2)):  # swap blocks 1 and 2 (heights are unique at every step)
        tamper("UPDATE registry_sealblock SET height = %s WHERE height = %s", [new, old], table="registry_sealblock")
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 1)


def test_a_removed_block_is_detected(sealed):
    tamper("DELETE FROM registry_sealblock WHERE height = 2", [], table="registry_sealblock")
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height) == (False, 3)
    assert "3 was expected" not in report.problem and "height 3 where 2 was expected" in report.problem


def test_the_database_refuses_to_change_a_block_or_a_check(sealed):
    from django.db import DatabaseError

    seal_check_record(source=SealCheck.Source.JOB)
    for sql in ("UPDATE registry_sealblock SET transfer_count = 9", "DELETE FROM registry_sealblock",
                "UPDATE registry_sealcheck SET ok = false", "DELETE FROM registry_sealcheck"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert chain()[-1] == (3, sealed[6].pk, sealed[6].pk, 1)


def test_a_check_is_recorded_with_the_head_it_saw_and_audited(sealed, auditor):
    with one_audit_event("registry.seal_check", actor=auditor):
        check = seal_check_record(actor=auditor, source=SealCheck.Source.PAGE)
    check.refresh_from_db()
    assert (check.ok, check.broken_height, check.blocks_checked, check.transfers_checked) == (True, None, 3, 7)
    assert (check.head_height, check.head_hash) == (3, SealBlock.objects.get(height=3).block_hash)
    assert check.run_by == auditor and check.source == "page"
    assert check.started_at <= check.finished_at


@pytest.mark.ledger_tampered
def test_a_failed_check_is_recorded_with_the_broken_block(sealed):
    tamper("UPDATE registry_transfer SET kind = 'deposit' WHERE id = %s", [sealed[0].pk])
    check = seal_check_record(source=SealCheck.Source.JOB)
    assert (check.ok, check.broken_height, check.blocks_checked, check.head_height) == (False, 1, 0, None)
    assert check.problem.startswith("Block 1:")


def _rewrite_from_block_2(sealed) -> None:
    """Changes a transfer of block 2, then rebuilds blocks 2 and 3 over it: a consistent new chain."""
    tamper("UPDATE registry_transfer SET amount = amount + 1 WHERE id = %s", [sealed[4].pk])
    tamper("DELETE FROM registry_sealblock WHERE height >= 2", [], table="registry_sealblock")
    ledger_seal(block_size=3)


@pytest.mark.ledger_tampered
def test_a_chain_rewritten_to_its_head_recomputes_without_an_earlier_check(sealed):
    _rewrite_from_block_2(sealed)
    assert ledger_seal_verify().ok  # the limit of a chain kept beside what it seals


@pytest.mark.ledger_tampered
def test_a_chain_rewritten_to_its_head_is_caught_by_the_head_an_earlier_check_saw(sealed):
    earlier = seal_check_record(source=SealCheck.Source.JOB)
    _rewrite_from_block_2(sealed)
    report = ledger_seal_verify()
    assert (report.ok, report.broken_height, report.blocks_checked, report.head_height) == (False, 3, 2, 2)
    assert f"not the one check {earlier.pk} saw" in report.problem


def test_inserters_in_another_database_do_not_hold_the_seal_up(settings, cea, national_regulator):
    """pg_locks lists the whole server, but advisory locks are per database: another database's open
    transfer insert (another deployment, another test run) is no reason to wait."""
    import psycopg2

    database = settings.DATABASES["default"]
    other = psycopg2.connect(
        dbname="postgres", user=database["USER"], password=database["PASSWORD"], host=database["HOST"], port=database["PORT"] or 5432
    )
    try:
        with other.cursor() as cursor:  # psycopg2 opens a transaction: the lock is held until rollback
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", list(TRANSFER_INSERT))
        issue(2, asset=cea, regulator=national_regulator)
        result = ledger_seal(block_size=5, horizon_wait=0.5)
        assert result.complete and [block.transfer_count for block in result.blocks] == [2]
    finally:
        other.rollback()
        other.close()


def test_the_nightly_job_verifies_the_chain_and_keeps_the_check(sealed):
    from registry.tasks import ledger_seal_verify_task

    check = SealCheck.objects.get(pk=ledger_seal_verify_task())
    assert (check.ok, check.source, check.blocks_checked, check.transfers_checked) == (True, "job", 3, 7)
    assert check.run_by is None


@pytest.mark.ledger_tampered
def test_the_nightly_job_records_a_broken_chain_and_raises_the_alarm(sealed, caplog):
    from registry.tasks import ledger_seal_verify_task

    tamper("UPDATE registry_transfer SET amount = amount + 1 WHERE id = %s", [sealed[4].pk])
    with caplog.at_level("CRITICAL", logger="registry.seal"):
        check = SealCheck.objects.get(pk=ledger_seal_verify_task())
    assert (check.ok, check.broken_height, check.source) == (False, 2, "job")
    assert any(record.levelname == "CRITICAL" and "SEAL CHAIN BROKEN" in record.getMessage() for record in caplog.records)
