"""Seal chain throughput: sealing a backlog of transfers into blocks, verifying the whole chain, and
sealing the increment a 5-minute job would find. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/seal_bench.py [--transfers 200000]

Transfers are posted in batches through `ledger_post` (reserve and release pairs, the trading
engine's path) until the given number are waiting to be sealed; what was there before is sealed
first, untimed.
"""

import argparse
import json
import time

from _setup import django_ready

django_ready()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from registry import services  # noqa: E402
from registry.models import Account, Asset, Bucket, SealBlock, Transfer  # noqa: E402
from registry.seal import ledger_seal, ledger_seal_verify  # noqa: E402
from registry.services import Movement, ledger_post  # noqa: E402

BATCH = 2000  # movements per transaction while filling


def _unsealed() -> int:
    head = SealBlock.objects.order_by("-height").first()
    return Transfer.objects.filter(id__gt=head.last_transfer_id if head else 0).count()


def fill(count: int) -> None:
    """Posts `count` transfers: reserve and release pairs on the national issuance account."""
    cea = Asset.objects.get(code="CEA21")
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    with transaction.atomic():
        ledger_post([Movement(kind=Transfer.Kind.ISSUANCE, asset=cea, amount=1_000_000, destination=national,
                              destination_bucket=Bucket.AVAILABLE)])
    left = count - 1
    while left > 0:
        movements = []
        for _ in range(min(BATCH, left) // 2 or 1):
            movements.append(Movement(kind=Transfer.Kind.RESERVE, asset=cea, amount=5, source=national,
                                      source_bucket=Bucket.AVAILABLE, destination=national, destination_bucket=Bucket.RESERVED))
            movements.append(Movement(kind=Transfer.Kind.RELEASE, asset=cea, amount=5, source=national,
                                      source_bucket=Bucket.RESERVED, destination=national, destination_bucket=Bucket.AVAILABLE))
        with transaction.atomic():
            ledger_post(movements)
        left -= len(movements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=200_000)
    parser.add_argument("--increment", type=int, default=2_000, help="transfers for the incremental seal")
    options = parser.parse_args()

    ledger_seal()  # whatever an earlier run left, untimed
    fill(options.transfers)
    backlog = _unsealed()

    started = time.perf_counter()
    sealed = ledger_seal()
    seal_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = ledger_seal_verify()
    verify_seconds = time.perf_counter() - started

    fill(options.increment)
    started = time.perf_counter()
    increment = ledger_seal()
    increment_seconds = time.perf_counter() - started

    print(json.dumps({
        "benchmark": "seal",
        "database": transaction.get_connection().vendor,
        "block_size": settings.SEAL_BLOCK_SIZE,
        "transfers_sealed": sealed.transfers_sealed,
        "backlog": backlog,
        "blocks_written": len(sealed.blocks),
        "seal_seconds": round(seal_seconds, 3),
        "seal_transfers_per_second": round(sealed.transfers_sealed / seal_seconds),
        "verify_seconds": round(verify_seconds, 3),
        "transfers_verified": report.transfers_checked,
        "blocks_verified": report.blocks_checked,
        "verify_transfers_per_second": round(report.transfers_checked / verify_seconds),
        "chain_ok": report.ok,
        "increment_transfers": increment.transfers_sealed,
        "increment_seal_seconds": round(increment_seconds, 3),
    }))


if __name__ == "__main__":
    main()
