"""`manage.py check_ledger`: recomputes every balance from the transfers and proves conservation per asset.

The tampering tests write balances by raw SQL, as a bad migration or a manual fix would; the test
transaction rolls their damage back, and they are marked `ledger_tampered` so that the after-test proof
does not fail on purpose-made damage."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from registry.models import Balance, LedgerCheck, Transfer
from registry.services import (
    allowances_retire,
    balance_reserve,
    cash_deposit,
    cash_withdraw,
    transfer_create,
)
from tests.registry.helpers import allowances_give


@pytest.fixture
def activity(holding_a, holding_b, cash_a, cea, national_regulator, exchange_operator, trader_a):
    """Some of everything: issuance, allocation, a transfer, a reservation, a surrender, cash in and out."""
    allowances_give(account=holding_a, asset=cea, amount=1_000, regulator=national_regulator)
    transfer_create(source=holding_a, destination=holding_b, asset=cea, amount=300, actor=trader_a)
    balance_reserve(account=holding_a, asset=cea, amount=200, actor=trader_a)
    allowances_retire(account=holding_a, asset=cea, amount=100, actor=trader_a)
    cash_deposit(account=cash_a, amount=50_000_00, bank_reference="ICBC-1", actor=exchange_operator)
    cash_withdraw(account=cash_a, amount=12_345, bank_reference="ICBC-OUT-1", actor=exchange_operator)


def check_ledger(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("check_ledger", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def check_ledger_fails(*args: str) -> tuple[str, str, CommandError]:
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"ledger check failed: \d+ problem") as caught:
        call_command("check_ledger", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue(), caught.value


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_passes_on_a_healthy_ledger(activity):
    out, err = check_ledger()
    assert "ledger OK" in out
    assert err == ""
    assert f"{Balance.objects.count()} balances and {Transfer.objects.count()} transfers checked" in out


def test_it_prints_the_totals_of_each_asset(activity):
    out, _ = check_ledger()
    (cea_line,) = [line for line in out.splitlines() if line.startswith("CEA21 ")]
    assert cea_line.split() == ["CEA21", "entered", "1000", "left", "0", "retired+cancelled", "100", "holdings", "900"]
    (cny_line,) = [line for line in out.splitlines() if line.startswith("CNY ")]
    assert cny_line.split() == ["CNY", "entered", "5000000", "left", "12345", "retired+cancelled", "0", "holdings", "4987655"]


def test_it_passes_on_an_empty_ledger(db):
    out, _ = check_ledger()
    assert "ledger OK" in out and " 0 transfers checked" in out


@pytest.mark.ledger_tampered
def test_it_names_the_account_asset_bucket_and_difference_of_a_tampered_balance(activity, holding_a, cea):
    _tamper(
        "UPDATE registry_balance SET available = available + 5 WHERE account_id = %s AND asset_id = %s",
        [holding_a.pk, cea.pk],
    )
    out, err, _ = check_ledger_fails()
    assert "ledger OK" not in out
    assert f"{holding_a.number} CEA21 available: balance 405, transfers give 400 (difference 5)" in err
    assert "CEA21 not conserved: entered 1000 - left 0 = 1000, but accounts hold 1005 (difference 5)" in err
    assert "CEA21: issued - retired - cancelled = 900, but holdings are 905" in err


@pytest.mark.ledger_tampered
def test_it_shows_a_cash_difference_in_yuan(activity, cash_a, cny):
    _tamper("UPDATE registry_balance SET available = available - 5 WHERE account_id = %s AND asset_id = %s", [cash_a.pk, cny.pk])
    _, err, _ = check_ledger_fails()
    assert f"{cash_a.number} CNY available: balance 49876.50, transfers give 49876.55 (difference -0.05)" in err
    assert "CNY not conserved" in err and "(difference -0.05)" in err


@pytest.mark.ledger_tampered
def test_it_finds_a_balance_that_no_issuance_explains(activity, holding_b, ccer):
    _tamper("UPDATE registry_balance SET frozen = 7 WHERE account_id = %s AND asset_id = %s", [holding_b.pk, ccer.pk])
    _, err, error = check_ledger_fails()
    assert f"{holding_b.number} CCER frozen: balance 7, transfers give 0 (difference 7)" in err
    assert "CCER not conserved: entered 0 - left 0 = 0, but accounts hold 7 (difference 7)" in err
    assert "CEA21" not in err and "CNY" not in err
    # The offset registry's check: the serial blocks no longer explain the balance either.
    assert f"{holding_b.number} CCER: balance 7, serial blocks hold 0 (difference 7)" in err
    assert str(error) == "ledger check failed: 4 problem(s)"


@pytest.mark.ledger_tampered
def test_it_finds_units_moved_between_buckets_without_a_transfer(activity, holding_a, cea):
    """The total is conserved, so only the per-bucket recomputation can see this."""
    _tamper(
        "UPDATE registry_balance SET available = available - 50, frozen = frozen + 50 WHERE account_id = %s AND asset_id = %s",
        [holding_a.pk, cea.pk],
    )
    _, err, _ = check_ledger_fails()
    assert f"{holding_a.number} CEA21 available: balance 350, transfers give 400 (difference -50)" in err
    assert f"{holding_a.number} CEA21 frozen: balance 50, transfers give 0 (difference 50)" in err
    assert "not conserved" not in err


@pytest.mark.ledger_tampered
def test_it_finds_a_deleted_balance_row(activity, holding_b, cea):
    _tamper("DELETE FROM registry_balance WHERE account_id = %s AND asset_id = %s", [holding_b.pk, cea.pk])
    _, err, _ = check_ledger_fails()
    assert f"{holding_b.number} CEA21: transfers give" in err and "but there is no balance row" in err
    assert "CEA21 not conserved" in err


@pytest.mark.ledger_tampered
def test_it_still_prints_the_totals_when_it_fails(activity, holding_a, cea):
    _tamper("UPDATE registry_balance SET reserved = reserved + 1 WHERE account_id = %s AND asset_id = %s", [holding_a.pk, cea.pk])
    out, _, _ = check_ledger_fails()
    assert any(line.startswith("CEA21 ") for line in out.splitlines())
    assert "transfers checked" in out


def test_it_records_a_passing_check_when_asked(activity):
    out, _ = check_ledger("--record")
    check = LedgerCheck.objects.get()
    assert check.ok and check.problems == [] and "ledger OK" in out
    assert (check.balances_checked, check.transfers_checked) == (Balance.objects.count(), Transfer.objects.count())


def test_it_records_nothing_unless_asked(activity):
    check_ledger()
    assert not LedgerCheck.objects.exists()


@pytest.mark.ledger_tampered
def test_it_records_a_failing_check_with_its_problems(activity, holding_a, cea):
    _tamper("UPDATE registry_balance SET available = available + 5 WHERE account_id = %s AND asset_id = %s", [holding_a.pk, cea.pk])
    _, err, _ = check_ledger_fails("--record")
    check = LedgerCheck.objects.get()
    assert not check.ok
    assert check.problems == err.splitlines()
