"""The hourly ledger proof, called directly and through a real Celery worker on Redis."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from config.celery import app
from registry import services
from registry.models import Account, Asset, LedgerCheck
from registry.tasks import ledger_verify_task


def test_the_task_records_a_passing_check(db, national_regulator):
    services.allowances_issue(asset=Asset.objects.get(code="CEA21"), amount=10, actor=national_regulator)
    check = LedgerCheck.objects.get(pk=ledger_verify_task())
    assert check.ok and check.transfers_checked == 1 and check.problems == []


@pytest.mark.ledger_tampered
def test_the_task_records_a_failing_check_naming_the_account(db, national_regulator):
    services.allowances_issue(asset=Asset.objects.get(code="CEA21"), amount=10, actor=national_regulator)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_balance SET available = available + 1 WHERE account_id = %s",
            [services.system_account(Account.Kind.NATIONAL_ISSUANCE).pk],
        )
    check = LedgerCheck.objects.get(pk=ledger_verify_task())
    assert not check.ok
    assert any("SYS-NATIONAL" in problem and "CEA21" in problem for problem in check.problems)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_the_task(national_regulator):
    services.allowances_issue(asset=Asset.objects.get(code="CEA21"), amount=10, actor=national_regulator)
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://"), "the test suite runs against a real Redis"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        ledger_verify_task.delay()
        for _ in range(100):
            if LedgerCheck.objects.exists():
                break
            import time

            time.sleep(0.1)
    check = LedgerCheck.objects.get()
    assert check.ok and check.transfers_checked == 1
