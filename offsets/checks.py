"""The offset registry's part of the ledger proof (registered with registry.selectors in
OffsetsConfig.ready, so `check_ledger`, the hourly job and the tests' invariant run it): the serial
blocks each account holds sum to its balance of the asset, in every bucket together; no two blocks
and no two issuances share a serial number; every issued serial is in exactly one block."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F

from offsets.models import Issuance, SerialBlock, serial_format
from registry.models import Account, Asset, Balance
from registry.selectors import LedgerReport


def _overlaps(label: str, ranges: list[tuple[int, int, str]]) -> list[str]:
    problems, previous = [], None
    for first, last, name in sorted(ranges):
        if previous is not None and first <= previous[1]:
            problems.append(f"{label} {previous[2]} and {name} overlap at serial {serial_format(first)}")
        if previous is None or last > previous[1]:
            previous = (first, last, name)
    return problems


def serial_blocks_verify(report: LedgerReport) -> None:
    assets = dict(Asset.objects.filter(kind=Asset.Kind.OFFSET).values_list("pk", "code"))
    if not assets:
        return
    accounts = dict(Account.objects.values_list("pk", "number"))
    balances = {
        (row["account_id"], row["asset_id"]): row["total"]
        for row in Balance.objects.filter(asset_id__in=assets)
        .annotate(total=F("available") + F("reserved") + F("pending") + F("frozen"))
        .values("account_id", "asset_id", "total")
    }
    held: dict[tuple[int, int], int] = defaultdict(int)
    per_issuance: dict[int, int] = defaultdict(int)
    blocks = []
    for pk, account_id, asset_id, issuance_id, first, last in SerialBlock.objects.values_list(
        "pk", "account_id", "asset_id", "issuance_id", "first_serial", "last_serial"
    ).order_by().iterator(chunk_size=5000):
        held[(account_id, asset_id)] += last - first + 1
        per_issuance[issuance_id] += last - first + 1
        blocks.append((first, last, f"block #{pk}"))
    for key in sorted(set(balances) | set(held)):
        balance, in_blocks = balances.get(key, 0), held.get(key, 0)
        if balance != in_blocks:
            report.problems.append(
                f"{accounts[key[0]]} {assets[key[1]]}: balance {balance}, serial blocks hold {in_blocks} "
                f"(difference {balance - in_blocks})"
            )
    report.problems += _overlaps("serial blocks", blocks)
    issued = []
    for pk, quantity, first, last in Issuance.objects.filter(status=Issuance.Status.ISSUED).values_list(
        "pk", "quantity", "first_serial", "last_serial"
    ).order_by():
        issued.append((first, last, f"issuance #{pk}"))
        if per_issuance.get(pk, 0) != quantity:
            report.problems.append(f"issuance #{pk}: {quantity} issued, serial blocks hold {per_issuance.get(pk, 0)}")
    report.problems += _overlaps("issuances", issued)
    outside = SerialBlock.objects.filter(first_serial__lt=F("issuance__first_serial")) | SerialBlock.objects.filter(
        last_serial__gt=F("issuance__last_serial"))
    for pk in outside.values_list("pk", flat=True).order_by():
        report.problems.append(f"block #{pk} lies outside its issuance's serial range")
