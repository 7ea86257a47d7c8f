"""`manage.py seal_ledger` and `manage.py verify_seal_chain`, and the beat task that seals."""

from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from registry.models import SealBlock, SealCheck
from registry.tasks import ledger_seal_task
from tests.registry.test_seal import issue, tamper


def run(command: str, *args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(command, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def transfers(cea, national_regulator):
    return issue(5, asset=cea, regulator=national_regulator)


def test_seal_ledger_seals_and_then_has_nothing_to_do(transfers):
    out, _ = run("seal_ledger", "--block-size", "2")
    head = SealBlock.objects.get(height=3)
    assert f"Sealed 5 transfers into blocks 1-3; head {head.block_hash}" in out
    out, _ = run("seal_ledger")
    assert "Nothing new to seal." in out and SealBlock.objects.count() == 3


def test_seal_ledger_refuses_a_block_size_below_one(transfers):
    with pytest.raises(CommandError, match="--block-size must be at least 1"):
        run("seal_ledger", "--block-size", "0")
    assert not SealBlock.objects.exists()


def test_verify_seal_chain_reports_an_intact_chain(transfers):
    run("seal_ledger", "--block-size", "2")
    out, err = run("verify_seal_chain")
    assert "3 blocks and 5 transfers checked" in out
    assert f"seal chain OK: head block 3 {SealBlock.objects.get(height=3).block_hash}" in out and err == ""
    assert not SealCheck.objects.exists()


def test_verify_seal_chain_record_keeps_a_check(transfers):
    run("seal_ledger")
    run("verify_seal_chain", "--record")
    check = SealCheck.objects.get()
    assert (check.ok, check.source, check.run_by, check.head_height) == (True, "command", None, 1)


@pytest.mark.ledger_tampered
def test_verify_seal_chain_names_the_broken_block_and_exits_1(transfers):
    run("seal_ledger", "--block-size", "2")
    tamper("UPDATE registry_transfer SET amount = 999999 WHERE id = %s", [transfers[2].pk])
    with pytest.raises(CommandError, match="seal chain broken at block 2") as caught:
        run("verify_seal_chain")
    assert caught.value.returncode == 1


@pytest.mark.ledger_tampered
def test_the_command_line_exit_status_is_1_on_a_broken_chain(transfers, capsys):
    run("seal_ledger", "--block-size", "2")
    tamper("DELETE FROM registry_transfer WHERE id = %s", [transfers[4].pk])
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "verify_seal_chain"]).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "Block 3: 0 transfers found where 1 were sealed" in err and "seal chain broken at block 3" in err


def test_the_beat_task_seals(transfers, settings):
    settings.SEAL_BLOCK_SIZE = 4
    assert ledger_seal_task.delay().get() == 2
    assert ledger_seal_task.delay().get() == 0
    assert SealBlock.objects.count() == 2


def test_the_seal_job_is_scheduled_every_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["ledger-seal"]
    assert entry["task"] == "registry.tasks.ledger_seal_task"
    assert entry["schedule"] == float(settings.SEAL_INTERVAL_SECONDS) == 300.0
