"""Reads of the ledger: who may see which accounts, statements, and the ledger's proof of itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from accounts.selectors import organizations_visible_to, sees_all_organizations, user_province
from core.errors import NotFound
from registry.models import Account, Asset, Balance, Bucket, SealBlock, SealCheck, Transfer


def accounts_visible_to(user: Any) -> QuerySet[Account]:
    """All accounts for national staff and auditors; a provincial regulator's province (and its
    provincial account); otherwise only the accounts of the user's own organizations."""
    accounts = Account.objects.select_related("organization")
    if sees_all_organizations(user):
        return accounts
    visible = Q(organization__in=organizations_visible_to(user))
    if user.has_perm("accounts.view_province_organizations") and (province := user_province(user)):
        visible |= Q(kind=Account.Kind.PROVINCIAL, province=province)
    return accounts.filter(visible)


def account_get_for(user: Any, number: str) -> Account:
    """The account, or NotFound when it does not exist or the user may not see it (the same answer,
    so that nobody learns which account numbers exist)."""
    account = accounts_visible_to(user).filter(number=number).first()
    if account is None:
        raise NotFound(_("No such account."), field="number")
    return account


def account_balances(account: Account) -> QuerySet[Balance]:
    return account.balances.select_related("asset").order_by("asset__kind", "asset__code")


def account_transfers(account: Account) -> QuerySet[Transfer]:
    return (
        Transfer.objects.filter(Q(source=account) | Q(destination=account))
        .select_related("asset", "source", "destination")
        .order_by("-id")
    )


@dataclass
class AssetTotals:
    entered: int = 0  # issued, or deposited for cash
    left: int = 0  # withdrawn cash
    out_of_circulation: int = 0  # net into retirement and cancellation accounts
    held: int = 0  # every bucket of every account
    holdings: int = 0  # held, less the retirement and cancellation accounts


@dataclass
class LedgerReport:
    problems: list[str] = field(default_factory=list)
    assets: dict[str, AssetTotals] = field(default_factory=dict)
    balances_checked: int = 0
    transfers_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# Further proofs an app adds to the ledger's (offsets: serial blocks sum to the balances); each
# appends its problems to the report. Registered in an AppConfig.ready(): the registry imports no app.
LedgerCheckHook = Callable[[LedgerReport], None]
_ledger_check_hooks: list[LedgerCheckHook] = []


def ledger_check_register(check: LedgerCheckHook) -> None:
    if check not in _ledger_check_hooks:
        _ledger_check_hooks.append(check)


def ledger_verify() -> LedgerReport:
    """Recomputes every balance from the transfers and proves conservation per asset:
    entered - left = held, and entered - left - retired - cancelled = holdings."""
    report = LedgerReport()
    assets = {asset.pk: asset for asset in Asset.objects.all()}
    accounts = dict(Account.objects.values_list("pk", "number"))
    out_of_circulation = set(
        Account.objects.filter(kind__in=Account.OUT_OF_CIRCULATION_KINDS).values_list("pk", flat=True)
    )

    expected: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(Bucket.values, 0))
    totals = {asset_id: AssetTotals() for asset_id in assets}
    credits = (
        Transfer.objects.filter(destination__isnull=False)
        .values("destination_id", "asset_id", "destination_bucket")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in credits:
        expected[(row["destination_id"], row["asset_id"])][row["destination_bucket"]] += row["total"]
        if row["destination_id"] in out_of_circulation:
            totals[row["asset_id"]].out_of_circulation += row["total"]
    debits = (
        Transfer.objects.filter(source__isnull=False)
        .values("source_id", "asset_id", "source_bucket")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in debits:
        expected[(row["source_id"], row["asset_id"])][row["source_bucket"]] -= row["total"]
        if row["source_id"] in out_of_circulation:
            totals[row["asset_id"]].out_of_circulation -= row["total"]
    for row in Transfer.objects.filter(Q(source__isnull=True) | Q(destination__isnull=True)).values(
        "asset_id", "source_id"
    ).annotate(total=Sum("amount")).order_by():
        if row["source_id"] is None:
            totals[row["asset_id"]].entered += row["total"]
        else:
            totals[row["asset_id"]].left += row["total"]
    report.transfers_checked = Transfer.objects.count()

    seen = set()
    for balance in Balance.objects.all().iterator(chunk_size=5000):
        key = (balance.account_id, balance.asset_id)
        seen.add(key)
        report.balances_checked += 1
        asset = assets[balance.asset_id]
        want = expected.get(key, dict.fromkeys(Bucket.values, 0))
        for bucket in Bucket.values:
            have = getattr(balance, bucket)
            if have < 0:
                report.problems.append(f"{accounts[balance.account_id]} {asset.code} {bucket} is negative: {asset.format(have)}")
            if have != want[bucket]:
                report.problems.append(
                    f"{accounts[balance.account_id]} {asset.code} {bucket}: balance {asset.format(have)}, "
                    f"transfers give {asset.format(want[bucket])} (difference {asset.format(have - want[bucket])})"
                )
        totals[balance.asset_id].held += balance.total
        if balance.account_id not in out_of_circulation:
            totals[balance.asset_id].holdings += balance.total
    for key, want in expected.items():
        if key not in seen and any(want.values()):
            asset = assets[key[1]]
            report.problems.append(f"{accounts[key[0]]} {asset.code}: transfers give {want} but there is no balance row")

    for asset_id, total in totals.items():
        asset = assets[asset_id]
        report.assets[asset.code] = total
        circulating = total.entered - total.left
        if total.held != circulating:
            report.problems.append(
                f"{asset.code} not conserved: entered {asset.format(total.entered)} - left {asset.format(total.left)} "
                f"= {asset.format(circulating)}, but accounts hold {asset.format(total.held)} "
                f"(difference {asset.format(total.held - circulating)})"
            )
        if total.holdings != circulating - total.out_of_circulation:
            report.problems.append(
                f"{asset.code}: issued - retired - cancelled = {asset.format(circulating - total.out_of_circulation)}, "
                f"but holdings are {asset.format(total.holdings)}"
            )
    for check in _ledger_check_hooks:
        check(report)
    return report


# --- the seal chain (registry.seal) ---


@dataclass
class SealChainOverview:
    blocks: list[SealBlock]
    head: SealBlock | None
    sealed_transfers: int
    unsealed_transfers: int
    last_check: SealCheck | None
    checks: list[SealCheck]


def seal_chain_overview(*, blocks: int = 50, checks: int = 10) -> SealChainOverview:
    """The latest blocks and checks, and how many transfers the chain covers and does not yet cover."""
    latest = list(SealBlock.objects.order_by("-height")[:blocks])
    head = latest[0] if latest else None
    recent_checks = list(SealCheck.objects.select_related("run_by").order_by("-finished_at", "-id")[:checks])
    sealed = SealBlock.objects.aggregate(total=Sum("transfer_count"))["total"] or 0
    return SealChainOverview(
        blocks=latest,
        head=head,
        sealed_transfers=sealed,
        unsealed_transfers=Transfer.objects.filter(id__gt=head.last_transfer_id if head else 0).count(),
        last_check=recent_checks[0] if recent_checks else None,
        checks=recent_checks,
    )


def seal_check_get(pk: int) -> tuple[SealCheck, SealBlock | None]:
    """A check and, when it found a break, the block it names (None if that block is gone)."""
    check = SealCheck.objects.select_related("run_by").filter(pk=pk).first()
    if check is None:
        raise NotFound(_("No such seal check."))
    block = SealBlock.objects.filter(height=check.broken_height).first() if check.broken_height else None
    return check, block
