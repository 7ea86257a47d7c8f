"""Reads behind the auditors' reports, the account statements and the public disclosure.

Reports sit above every app (like `demo`): they read compliance, allocation and the registry, and
nothing imports them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.provinces import PROVINCES, province_name
from accounts.selectors import organizations_visible_to, sees_all_organizations, user_province
from allocation.models import CompliancePeriod
from compliance.models import ComplianceResult
from compliance.selectors import obligations, unit_text
from core.errors import NotFound, PermissionDenied
from registry.models import Account, Asset, Transfer

# --- who may read the compliance table ---

COMPLIANCE_PERMISSION = "compliance.view_complianceresult"


def compliance_scope(user: Any, province: str | None = None) -> tuple[QuerySet[Organization] | None, str | None]:
    """The organizations whose compliance the user may read, narrowed to `province` (None: every one),
    and the province the table shows. Auditors and national regulators read every province; a
    provincial regulator only its own (its table is always that province's); companies (and the
    exchange operator, which sees organizations only for cash) may not read the table at all."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(COMPLIANCE_PERMISSION):
        raise PermissionDenied(_("Only auditors and regulators read the compliance table."))
    if province and province not in PROVINCES:
        raise NotFound(_("No province %(province)s.") % {"province": repr(province)}, field="province")
    if sees_all_organizations(user):
        return (Organization.objects.filter(province=province) if province else None), province
    own = user_province(user)
    if own is None or (province and province != own):
        raise PermissionDenied(_("A provincial regulator reads only its own province."))
    return organizations_visible_to(user), own


def report_provinces(user: Any) -> list[tuple[str, str]]:
    """The provinces a user may filter by, as (code, name)."""
    if sees_all_organizations(user):
        return [(code, province_name(code)) for code in sorted(PROVINCES)]
    own = user_province(user)
    return [(own, province_name(own))] if own else []


def periods() -> QuerySet[CompliancePeriod]:
    return CompliancePeriod.objects.order_by("-first_year", "code")


def period_get(code: str) -> CompliancePeriod:
    period = CompliancePeriod.objects.filter(code=code).first()
    if period is None:
        raise NotFound(_("No compliance period %(period)s.") % {"period": repr(code)}, field="period")
    return period


# --- the compliance table ---


@dataclass
class ComplianceRow:
    name: str
    uscc: str
    province: str
    allocated: int
    verified_emissions: int | None
    surrendered_allowances: int
    surrendered_offsets: int
    shortfall: int
    status: str  # A, B, C, or "open" before the deadline job ran
    fine_basis_low: int | None  # fen; None before the deadline job ran
    fine_basis_high: int | None
    units: list[dict[str, Any]] = field(default_factory=list)  # the company's units: code, sector, category, figures

    @property
    def province_name(self) -> str:
        return province_name(self.province)

    @property
    def units_lines(self) -> list[str]:
        """The per-unit breakdown: "P1 (Power): allocated 81,770 t, verified 90,000 t, obligation 90,000 t"."""
        return [unit_text(unit) for unit in self.units]

    @property
    def units_text(self) -> str:
        """The breakdown in one cell (the exports)."""
        return "; ".join(self.units_lines)



@dataclass
class ComplianceTable:
    period: CompliancePeriod
    province: str | None
    rows: list[ComplianceRow]
    final: bool  # the deadline job's recorded results, not live obligations
    totals: dict[str, int | None] = field(default_factory=dict)
    status_counts: dict[str, int] = field(default_factory=dict)

    @property
    def province_name(self) -> str:
        return province_name(self.province) if self.province else ""


STATUSES = ("A", "B", "C", "open")
# ?sort= of the compliance table: the row's key, and whether the largest comes first.
SORTS = {
    "name": (lambda row: (row.name, row.uscc), False),
    "province": (lambda row: (row.province_name, row.name), False),
    "shortfall": (lambda row: (row.shortfall, row.name), True),
    "status": (lambda row: (row.status, row.name), False),
    "verified": (lambda row: (row.verified_emissions or 0, row.name), True),
}


def compliance_rows_arranged(table: ComplianceTable, *, status: str | None, sort: str) -> None:
    """Keeps the rows of one status (if given) and orders them by `sort` (a key of SORTS); the
    totals are those of the rows kept."""
    if status:
        table.rows = [row for row in table.rows if row.status == status]
    key, largest_first = SORTS[sort]
    table.rows.sort(key=key, reverse=largest_first)
    _totals(table)


TOTALLED = ["allocated", "verified_emissions", "surrendered_allowances", "surrendered_offsets", "shortfall",
            "fine_basis_low", "fine_basis_high"]


def compliance_table(period: CompliancePeriod, scope: QuerySet[Organization] | None, province: str | None = None) -> ComplianceTable:
    """One row per unit in scope: the deadline job's results once it ran (what was enforced), before
    that the live obligations with status "open"."""
    results = ComplianceResult.objects.filter(period=period)
    final = results.exists()
    if final:
        if scope is not None:
            results = results.filter(organization__in=scope)
        rows = [ComplianceRow(**row) for row in results.order_by("organization__name", "organization__uscc").values(
            "allocated", "verified_emissions", "surrendered_allowances", "surrendered_offsets", "shortfall", "status",
            "fine_basis_low", "fine_basis_high", "units", name=F("organization__name"), uscc=F("organization__uscc"),
            province=F("organization__province"),
        ).iterator(chunk_size=2000)]
    else:
        ids = None if scope is None else set(scope.values_list("pk", flat=True))
        rows = [ComplianceRow(
            name=o.organization.name, uscc=o.organization.uscc, province=o.organization.province, allocated=o.allocated,
            verified_emissions=o.verified_emissions, surrendered_allowances=o.surrendered_allowances,
            surrendered_offsets=o.surrendered_offsets, shortfall=o.shortfall if o.verified_emissions is not None else 0,
            status="open", fine_basis_low=None, fine_basis_high=None, units=[unit.as_dict() for unit in o.units],
        ) for o in obligations(period, ids)]
    table = ComplianceTable(period=period, province=province, rows=rows, final=final)
    _totals(table)
    return table


def _totals(table: ComplianceTable) -> None:
    """Sums of the rows' known values; a column with no known value (the fine basis before the
    deadline job, emissions before any verification) has no total: None, shown blank, not 0."""
    table.totals = {}
    for name in TOTALLED:
        known = [value for row in table.rows if (value := getattr(row, name)) is not None]
        table.totals[name] = sum(known) if known else None
    table.status_counts = {}
    for row in table.rows:
        table.status_counts[row.status] = table.status_counts.get(row.status, 0) + 1


@dataclass
class Snapshot:
    """What the data of a report reflects: the last ledger transfer, the last deadline-job result, and
    the head of the ledger's seal chain (height, hash, the last transfer it seals), which ties the
    report to a ledger an auditor can verify (`verify_seal_chain`)."""

    transfer_id: int | None
    transfer_at: dt.datetime | None
    results_at: dt.datetime | None
    seal_height: int | None = None
    seal_hash: str = ""
    sealed_through: int | None = None


def data_snapshot(period: CompliancePeriod | None = None) -> Snapshot:
    from registry.models import SealBlock

    last = Transfer.objects.order_by("-id").values("id", "created_at").first() or {}
    head = SealBlock.objects.order_by("-height").values("height", "block_hash", "last_transfer_id").first() or {}
    results_at = None
    if period is not None:
        results_at = ComplianceResult.objects.filter(period=period).order_by("-computed_at").values_list(
            "computed_at", flat=True).first()
    return Snapshot(transfer_id=last.get("id"), transfer_at=last.get("created_at"), results_at=results_at,
                    seal_height=head.get("height"), seal_hash=head.get("block_hash", ""),
                    sealed_through=head.get("last_transfer_id"))


# --- account statements ---


@dataclass
class StatementLine:
    transfer_id: int
    created_at: dt.datetime
    kind: str
    asset: Asset
    credit: int  # into the account (any bucket)
    debit: int  # out of the account (any bucket)
    balance: int  # the account's holding of the asset after this transfer, every bucket together
    counterparty: str
    buckets: str
    reference: str
    memo: str


def statement_transfers(
    account: Account, *, asset: Asset | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[Transfer]:
    """The account's transfers in the range (market dates, both ends included), oldest first."""
    transfers = Transfer.objects.filter(Q(source=account) | Q(destination=account))
    if asset is not None:
        transfers = transfers.filter(asset=asset)
    if date_from is not None:
        transfers = transfers.filter(created_at__date__gte=date_from)
    if date_to is not None:
        transfers = transfers.filter(created_at__date__lte=date_to)
    return transfers.order_by("id")


def net_by_asset(account: Account, transfers: QuerySet[Transfer]) -> dict[int, int]:
    """What the transfers put into the account, less what they took out, per asset id."""
    rows = transfers.order_by().values("asset_id").annotate(net=Coalesce(Sum(
        Case(When(destination=account, then=F("amount")), default=Value(0))
        - Case(When(source=account, then=F("amount")), default=Value(0))
    ), 0))
    return {row["asset_id"]: row["net"] for row in rows}


def opening_balances(account: Account, *, asset: Asset | None = None, date_from: dt.date | None = None) -> dict[int, int]:
    """The account's holding per asset id before `date_from` (nothing before the first transfer)."""
    if date_from is None:
        return {}
    before = Transfer.objects.filter(Q(source=account) | Q(destination=account), created_at__date__lt=date_from)
    if asset is not None:
        before = before.filter(asset=asset)
    return net_by_asset(account, before)


def statement_lines(account: Account, transfers: QuerySet[Transfer], opening: dict[int, int]) -> Iterator[StatementLine]:
    """Each transfer with the running balance of its asset, starting from `opening` (read in chunks)."""
    assets = {asset.pk: asset for asset in Asset.objects.all()}
    running = dict(opening)
    for row in transfers.values(
        "id", "created_at", "kind", "asset_id", "amount", "source_id", "source_bucket", "destination_id",
        "destination_bucket", "reference", "memo", source_number=F("source__number"), destination_number=F("destination__number"),
    ).iterator(chunk_size=2000):
        credit = row["amount"] if row["destination_id"] == account.pk else 0
        debit = row["amount"] if row["source_id"] == account.pk else 0
        running[row["asset_id"]] = running.get(row["asset_id"], 0) + credit - debit
        if row["source_id"] == row["destination_id"]:
            counterparty = ""
        elif debit:
            counterparty = row["destination_number"] or ""
        else:
            counterparty = row["source_number"] or ""
        yield StatementLine(
            transfer_id=row["id"], created_at=row["created_at"], kind=row["kind"], asset=assets[row["asset_id"]],
            credit=credit, debit=debit, balance=running[row["asset_id"]], counterparty=counterparty,
            buckets=f"{row['source_bucket'] or '-'} > {row['destination_bucket'] or '-'}",
            reference=row["reference"], memo=row["memo"],
        )


# --- public disclosure ---


def disclosed_periods() -> QuerySet[CompliancePeriod]:
    """Periods whose deadline job has run (their compliance status is published, RULEBOOK.md step 6) or
    with a published annual disclosure (Art. 11)."""
    return periods().filter(Q(results__isnull=False) | Q(disclosures__status="published")).distinct()


def disclosure_rows(period: CompliancePeriod, province: str | None = None) -> QuerySet[ComplianceResult]:
    results = ComplianceResult.objects.filter(period=period)
    if province:
        results = results.filter(organization__province=province)
    return results.order_by("organization__name", "organization__uscc").values(
        "verified_emissions", "status", name=F("organization__name"), uscc=F("organization__uscc"),
        province=F("organization__province"),
        surrendered=F("surrendered_allowances") + F("surrendered_offsets"),
    )
