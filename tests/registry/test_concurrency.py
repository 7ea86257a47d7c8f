"""Many threads posting to the same balances at once, each on its own database connection, with real
commits (transaction=True): no deadlock (balances are always locked in (account, asset) order), no lost
update, no overdraft, and a bank record booked once however many times it arrives at once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from core.errors import AccountClosed, IdempotencyConflict, InsufficientBalance
from core.models import AuditEvent
from registry.models import Account, Transfer
from registry.selectors import ledger_verify
from registry.services import (
    account_close,
    balance_release,
    balance_reserve,
    cash_deposit,
    cash_withdraw,
    transfer_create,
)
from tests.registry.helpers import allowances_give, buckets, cash_give, zero

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
OPERATIONS_PER_THREAD = 25


def run_in_threads(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Runs work(0) ... work(count - 1) in `count` threads released together by a barrier. Returns
    their results and every exception that escaped them."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=target, args=(index,), name=f"ledger-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a lock wait that never ends?)"
    return results, errors


def test_crossing_transfers_and_reservations_neither_deadlock_nor_lose_updates(
    holding_a, holding_b, holding_c, cea, national_regulator, trader_a
):
    accounts = [holding_a, holding_b, holding_c]
    for account in accounts:
        allowances_give(account=account, asset=cea, amount=200, regulator=national_regulator)
    transfers_before, audits_before = Transfer.objects.count(), AuditEvent.objects.count()

    def work(index: int) -> tuple[list[tuple], int]:
        rng = random.Random(index)
        done, refused = [], 0
        for _ in range(OPERATIONS_PER_THREAD):
            kind = rng.choice(["transfer", "transfer", "reserve", "release"])
            amount = rng.randint(1, 80)
            try:
                if kind == "transfer":
                    # Both directions between the same accounts: only a fixed lock order avoids deadlocks.
                    source, destination = rng.sample(range(3), 2)
                    transfer_create(source=accounts[source], destination=accounts[destination], asset=cea, amount=amount, actor=trader_a)
                    done.append((kind, source, destination, amount))
                else:
                    account = rng.randrange(3)
                    service = balance_reserve if kind == "reserve" else balance_release
                    service(account=accounts[account], asset=cea, amount=amount, actor=trader_a)
                    done.append((kind, account, account, amount))
            except InsufficientBalance:
                refused += 1
        return done, refused

    results, errors = run_in_threads(THREADS, work)

    assert errors == [], f"only InsufficientBalance may refuse an operation, got {errors!r}"
    expected = [zero(available=200) for _ in accounts]
    for done, _ in results:
        for kind, first, second, amount in done:
            if kind == "transfer":
                expected[first]["available"] -= amount
                expected[second]["available"] += amount
            elif kind == "reserve":
                expected[first]["available"] -= amount
                expected[first]["reserved"] += amount
            else:
                expected[first]["reserved"] -= amount
                expected[first]["available"] += amount
    assert [buckets(account, cea) for account in accounts] == expected
    succeeded = sum(len(done) for done, _ in results)
    assert succeeded + sum(refused for _, refused in results) == THREADS * OPERATIONS_PER_THREAD
    assert succeeded > THREADS * OPERATIONS_PER_THREAD // 2, "too few operations went through to test anything"
    assert Transfer.objects.count() - transfers_before == succeeded
    assert AuditEvent.objects.count() - audits_before == succeeded
    assert ledger_verify().ok


def test_concurrent_withdrawals_never_overdraw(cash_a, cny, exchange_operator):
    cash_give(account=cash_a, amount=1_000_00, operator=exchange_operator)

    def work(index: int) -> str:
        try:
            cash_withdraw(account=cash_a, amount=300_00, bank_reference=f"ICBC-OUT-{index}", actor=exchange_operator)
        except InsufficientBalance:
            return "refused"
        return "paid"

    results, errors = run_in_threads(THREADS, work)

    assert errors == []
    assert sorted(results) == ["paid"] * 3 + ["refused"] * (THREADS - 3)
    assert buckets(cash_a, cny) == zero(available=100_00)
    assert Transfer.objects.filter(kind=Transfer.Kind.WITHDRAWAL).count() == 3


def test_one_bank_record_arriving_many_times_at_once_is_booked_once(cash_a, cny, exchange_operator):
    def work(index: int) -> int:
        return cash_deposit(account=cash_a, amount=1_000_00, bank_reference="ICBC-2021-0001", actor=exchange_operator).pk

    results, errors = run_in_threads(THREADS, work)

    assert errors == []
    (deposit,) = Transfer.objects.filter(kind=Transfer.Kind.DEPOSIT, external_reference="ICBC-2021-0001")
    assert results == [deposit.pk] * THREADS, "every caller gets the one booking back"
    assert buckets(cash_a, cny) == zero(available=1_000_00)
    assert AuditEvent.objects.filter(action="cash.deposit").count() == 1


def test_one_bank_record_arriving_at_once_with_different_amounts_is_booked_once(cash_a, cny, exchange_operator):
    def work(index: int) -> tuple[str, int]:
        amount = 1_000_00 + index
        try:
            cash_deposit(account=cash_a, amount=amount, bank_reference="ICBC-2021-0002", actor=exchange_operator)
        except IdempotencyConflict:
            return "conflict", amount
        return "booked", amount

    results, errors = run_in_threads(THREADS, work)

    assert errors == []
    booked = [amount for outcome, amount in results if outcome == "booked"]
    assert len(booked) == 1 and [outcome for outcome, _ in results].count("conflict") == THREADS - 1
    (deposit,) = Transfer.objects.filter(kind=Transfer.Kind.DEPOSIT, external_reference="ICBC-2021-0002")
    assert deposit.amount == booked[0]
    assert buckets(cash_a, cny) == zero(available=booked[0])


def test_a_transfer_racing_an_account_closure_never_leaves_value_in_a_closed_account(
    holding_a, holding_b, cea, national_regulator, trader_a
):
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    closing = threading.Event()

    def work(index: int) -> str:
        if index == 0:
            with transaction.atomic():
                account_close(account=Account.objects.get(pk=holding_b.pk), reason="merged", actor=national_regulator)
                closing.set()
                time.sleep(0.5)  # the closure holds the balance locks; the transfer queues behind them
            return "closed"
        assert closing.wait(timeout=10)
        try:
            transfer_create(
                source=Account.objects.get(pk=holding_a.pk), destination=Account.objects.get(pk=holding_b.pk),
                asset=cea, amount=10, actor=trader_a,
            )
        except AccountClosed:
            return "refused"
        return "transferred"

    results, errors = run_in_threads(2, work)

    assert errors == []
    assert Account.objects.get(pk=holding_b.pk).status == Account.Status.CLOSED
    assert buckets(holding_b, cea) == zero(), f"a closed account holds value ({results})"
    assert results == ["closed", "refused"]


def test_regulators_approving_one_closing_at_once_close_the_account_and_cancel_once(
    holding_a, cea, national_regulator, second_national_regulator, ministry,
):
    """Four regulators approve the same proposed closing at the same moment: one closes the account
    (cancelling its 40 t not carried over once), the others are told it is decided."""
    from core.errors import StatusChangeDecided
    from registry.models import AccountStatusChange, Bucket
    from registry.services import Movement, ledger_post
    from tests.factories import user_with_role

    allowances_give(account=holding_a, asset=cea, amount=40, regulator=national_regulator)
    ledger_post([Movement(kind=Transfer.Kind.CARRY_OVER, asset=cea, amount=40, source=holding_a, source_bucket=Bucket.AVAILABLE,
                          destination=holding_a, destination_bucket=Bucket.NOT_CARRIED)])
    from registry.status_changes import change_approve, change_propose

    closing = change_propose(account=holding_a, action="close", reason="left the scheme", actor=national_regulator)
    checkers = [second_national_regulator, *(user_with_role("national_regulator", ministry) for _ in range(3))]

    def work(index: int) -> str:
        try:
            change_approve(change=AccountStatusChange.objects.get(pk=closing.pk), actor=checkers[index])
        except StatusChangeDecided:
            return "decided"
        return "approved"

    results, errors = run_in_threads(len(checkers), work)

    assert errors == []
    assert sorted(results) == ["approved", "decided", "decided", "decided"]
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.CLOSED
    assert Transfer.objects.filter(kind=Transfer.Kind.CLOSING_CANCELLATION).count() == 1
    assert AuditEvent.objects.filter(action="account.close").count() == 1
    assert buckets(holding_a, cea) == zero()
    assert ledger_verify().ok
