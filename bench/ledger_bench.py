"""Ledger posting throughput: single transfers in their own transaction, and batches of movements
in one transaction (the trading engine's path). Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/ledger_bench.py
"""

import json
import time

from _setup import django_ready

django_ready()

from django.db import transaction  # noqa: E402

from accounts.models import Organization  # noqa: E402
from accounts.services import organization_create  # noqa: E402
from registry import services  # noqa: E402
from registry.models import Account, Asset, Bucket, Transfer  # noqa: E402
from registry.selectors import ledger_verify  # noqa: E402
from registry.services import Movement, ledger_post  # noqa: E402


def companies(count: int) -> list[Account]:
    from stdnum.cn import uscc

    accounts = []
    for index in range(count):
        body = f"91110100BENCH{index:04d}"
        code = body + uscc.calc_check_digit(body)
        organization = Organization.objects.filter(uscc=code).first() or organization_create(
            name=f"Bench Power {index}", uscc=code, kind="key_emitting_unit", province="11", actor=None
        )
        accounts.append(services.accounts_open(organization=organization, actor=None)[0])
    return accounts


def main() -> None:
    cea = Asset.objects.get(code="CEA21")
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    holders = companies(20)
    with transaction.atomic():
        ledger_post([Movement(kind=Transfer.Kind.ISSUANCE, asset=cea, amount=10_000_000 * len(holders),
                              destination=national, destination_bucket=Bucket.AVAILABLE)])
        ledger_post([Movement(kind=Transfer.Kind.ALLOCATION, asset=cea, amount=10_000_000, source=national,
                              source_bucket=Bucket.AVAILABLE, destination=h, destination_bucket=Bucket.AVAILABLE)
                     for h in holders])

    single = 1000
    started = time.perf_counter()
    for index in range(single):
        services.transfer_create(source=holders[index % 20], destination=holders[(index + 7) % 20], asset=cea,
                                 amount=1 + index % 50, actor=None)
    single_seconds = time.perf_counter() - started

    batches, batch_size = 50, 200
    started = time.perf_counter()
    for batch in range(batches):
        movements = []
        for index in range(batch_size):
            holder = holders[(batch + index) % 20]
            movements.append(Movement(kind=Transfer.Kind.RESERVE, asset=cea, amount=3, source=holder,
                                      source_bucket=Bucket.AVAILABLE, destination=holder, destination_bucket=Bucket.RESERVED))
            movements.append(Movement(kind=Transfer.Kind.RELEASE, asset=cea, amount=3, source=holder,
                                      source_bucket=Bucket.RESERVED, destination=holder, destination_bucket=Bucket.AVAILABLE))
        with transaction.atomic():
            ledger_post(movements)
    batch_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = ledger_verify()
    verify_seconds = time.perf_counter() - started
    print(json.dumps({
        "benchmark": "ledger",
        "database": transaction.get_connection().vendor,
        "single_transfers_per_second": round(single / single_seconds),
        "batched_movements_per_second": round(batches * batch_size * 2 / batch_seconds),
        "batch_size": batch_size * 2,
        "ledger_verify_seconds": round(verify_seconds, 3),
        "transfers_verified": report.transfers_checked,
        "ledger_ok": report.ok,
    }))


if __name__ == "__main__":
    main()
