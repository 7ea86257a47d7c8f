"""The seal under concurrency, with real commits on separate connections (transaction=True): sealers
racing each other extend one chain, and a transfer that commits after a higher id was committed (ids
come from a sequence) is never skipped."""

import threading
import time

import pytest
from django.db import connection, transaction

from registry.models import Asset, SealBlock, Transfer
from registry.seal import ledger_seal, ledger_seal_verify
from registry.services import allowances_issue
from tests.registry.helpers import cash_give
from tests.registry.test_concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def sealed_ids() -> list[int]:
    """Every transfer id the chain covers, block by block, in order."""
    ids = []
    for first, last in SealBlock.objects.order_by("height").values_list("first_transfer_id", "last_transfer_id"):
        ids += list(Transfer.objects.filter(id__gte=first, id__lte=last).order_by("id").values_list("id", flat=True))
    return ids


def test_concurrent_sealers_build_one_chain(cea, national_regulator):
    for index in range(30):
        allowances_issue(asset=cea, amount=1 + index, actor=national_regulator)
    results, errors = run_in_threads(4, lambda index: ledger_seal(block_size=3))
    assert errors == []
    assert sorted(block.height for result in results for block in result.blocks) == list(range(1, 11))
    assert list(SealBlock.objects.order_by("height").values_list("height", flat=True)) == list(range(1, 11))
    assert sealed_ids() == list(Transfer.objects.order_by("id").values_list("id", flat=True))
    assert ledger_seal_verify().ok


def test_sealing_while_transfers_are_posted_never_skips_one(national_regulator):
    """Four threads post 25 transfers each (each its own vintage, so they do not queue on one balance and
    commit in any order) while two others seal as often as they can."""
    vintages = list(Asset.objects.filter(kind=Asset.Kind.ALLOWANCE).order_by("code")[:4])
    assert len(vintages) == 4
    posters_left = [4]
    posting_done, lock = threading.Event(), threading.Lock()

    def work(index: int) -> None:
        if index >= 4:
            while not posting_done.is_set():
                ledger_seal(block_size=4, horizon_wait=30)
            return
        try:
            for amount in range(1, 26):
                allowances_issue(asset=vintages[index], amount=amount, actor=national_regulator)
        finally:
            with lock:
                posters_left[0] -= 1
                if not posters_left[0]:
                    posting_done.set()

    _, errors = run_in_threads(6, work)
    assert errors == []
    ledger_seal(block_size=4)
    # A transfer that committed below a block's last id after that block was sealed would show up here:
    # its block would hold more transfers than it sealed.
    report = ledger_seal_verify()
    assert report.ok, report.problem
    assert report.transfers_checked == Transfer.objects.count() == 100
    assert sealed_ids() == list(Transfer.objects.order_by("id").values_list("id", flat=True))


def test_a_transfer_committed_late_with_a_lower_id_is_sealed(cea, national_regulator, cash_a, exchange_operator):
    drew_id, may_commit = threading.Event(), threading.Event()
    late: list[Transfer] = []
    failures: list[BaseException] = []

    def slow_poster() -> None:
        try:
            with transaction.atomic():
                late.append(allowances_issue(asset=cea, amount=7, actor=national_regulator, reference="late"))
                drew_id.set()
                assert may_commit.wait(timeout=30)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    poster = threading.Thread(target=slow_poster)
    poster.start()
    assert drew_id.wait(timeout=30)
    early = cash_give(account=cash_a, amount=8, operator=exchange_operator)  # other balances: it commits first
    assert early.pk > late[0].pk

    # While the slow transaction is open, the horizon cannot be fixed: nothing is sealed (not even `early`).
    result = ledger_seal(block_size=10, horizon_wait=0.2)
    assert not result.complete and result.blocks == [] and not SealBlock.objects.exists()

    # A sealer that waits longer waits for it, and then seals both.
    outcome: list = []
    sealer = threading.Thread(target=lambda: (outcome.append(ledger_seal(block_size=10, horizon_wait=30)), connection.close()))
    sealer.start()
    time.sleep(0.3)
    assert sealer.is_alive(), "the sealer did not wait for the open transaction"
    may_commit.set()
    poster.join(timeout=30)
    sealer.join(timeout=30)
    assert failures == [] and not sealer.is_alive()
    assert [(block.first_transfer_id, block.last_transfer_id) for block in outcome[0].blocks] == [(late[0].pk, early.pk)]
    assert sealed_ids() == [late[0].pk, early.pk]
    assert ledger_seal_verify().ok
