"""Reads of the carry-over cap: a window's vintages and periods, the figures of a computation, and the
statements companies and regulators see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum

from accounts.models import Organization
from accounts.selectors import user_organization_ids
from allocation.models import CompliancePeriod
from allocation.vintages import vintage_years
from carryover.models import CarryOverLine, CarryOverWindow
from registry.models import Account, Asset, Balance, Transfer
from trading.models import Trade


def window_vintages(window: CarryOverWindow) -> list[Asset]:
    """The vintages the cap applies to: every CEA whose vintage ends in the window's last year or
    before (earlier vintages are carried beyond the window too), oldest first."""
    found = []
    for asset in Asset.objects.filter(kind=Asset.Kind.ALLOWANCE):
        years = vintage_years(asset)
        if years is not None and years[1] <= window.last_year:
            found.append((years, asset.code, asset))
    return [asset for _years, _code, asset in sorted(found, key=lambda item: (item[0], item[1]))]


def window_periods(window: CarryOverWindow) -> QuerySet[CompliancePeriod]:
    """The compliance periods inside the window."""
    return CompliancePeriod.objects.filter(first_year__gte=window.first_year, last_year__lte=window.last_year).order_by("first_year")


def carry_over_cap(*, base_tonnes: int, sales_multiplier: Decimal, net_sales: int) -> int:
    """base + multiplier x net sales, in whole tonnes rounded down (the cap never grows by a fraction)."""
    return base_tonnes + int((sales_multiplier * net_sales).to_integral_value(rounding=ROUND_FLOOR))


def window_parameters(window: CarryOverWindow) -> dict[str, Any]:
    """What a computation depends on, as it is stored with the lines (CarryOverWindow.computed_parameters)."""
    return {"first_year": window.first_year, "last_year": window.last_year, "trades_from": window.trades_from.isoformat(),
            "trades_until": window.trades_until.isoformat(), "base_tonnes": window.base_tonnes,
            "sales_multiplier": str(window.sales_multiplier)}


@dataclass
class CompanyFigures:
    organization_id: int
    sold: int = 0
    bought: int = 0
    holding: int = 0

    @property
    def net_sales(self) -> int:
        return max(0, self.sold - self.bought)


def window_figures(window: CarryOverWindow, vintages: list[Asset]) -> dict[int, CompanyFigures]:
    """Per key emitting unit with a holding account: what it sold and bought of the window's vintages
    on the exchange (listed, block and auction trades) between the window's trading days, and what it
    holds of them now in every bucket but `not_carried`. Three grouped queries, whatever the count."""
    holdings = dict(
        Account.objects.filter(kind=Account.Kind.HOLDING, organization__kind=Organization.Kind.KEY_EMITTING_UNIT)
        .values_list("pk", "organization_id")
    )
    figures = {organization_id: CompanyFigures(organization_id) for organization_id in holdings.values()}
    trades = Trade.objects.filter(instrument__asset__in=vintages, trading_day__gte=window.trades_from,
                                  trading_day__lte=window.trades_until).order_by()
    for row in trades.values("seller_id").annotate(total=Sum("quantity")):
        if row["seller_id"] in figures:
            figures[row["seller_id"]].sold = row["total"]
    for row in trades.values("buyer_id").annotate(total=Sum("quantity")):
        if row["buyer_id"] in figures:
            figures[row["buyer_id"]].bought = row["total"]
    held = (Balance.objects.filter(account__kind=Account.Kind.HOLDING, asset__in=vintages).order_by().values("account_id")
            .annotate(total=Sum(F("available") + F("reserved") + F("pending") + F("frozen"))))
    for row in held:
        if row["account_id"] in holdings:
            figures[holdings[row["account_id"]]].holding = row["total"]
    return figures


# --- statements ---


@dataclass
class Statement:
    line: CarryOverLine
    window: CarryOverWindow
    # (vintage code, tonnes) marked as not carried over, oldest vintage first.
    marked: list[tuple[str, int]] = field(default_factory=list)


def transfer_reference(window: CarryOverWindow) -> str:
    return f"carryover:{window.pk}"


def statements_for(user: Any) -> list[Statement]:
    """The approved statements of the user's own organizations, newest window first, each with the
    ledger transfers that marked its allowances."""
    lines = list(
        CarryOverLine.objects.filter(window__status=CarryOverWindow.Status.APPROVED,
                                     organization_id__in=user_organization_ids(user))
        .select_related("window", "organization").order_by("-window__last_year", "-window_id", "organization__name")
    )
    marked: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    if lines:
        transfers = (Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER,
                                             reference__in={transfer_reference(line.window) for line in lines},
                                             source__organization_id__in={line.organization_id for line in lines})
                     .values_list("reference", "source__organization_id", "asset__code", "amount").order_by("id"))
        for reference, organization_id, code, amount in transfers:
            marked[(reference, organization_id)].append((code, amount))
    return [Statement(line=line, window=line.window, marked=marked[(transfer_reference(line.window), line.organization_id)])
            for line in lines]


def window_lines(window: CarryOverWindow, search: str = "") -> QuerySet[CarryOverLine]:
    """The window's lines for the regulators' list and its export: above the cap first."""
    lines = window.lines.select_related("organization").order_by("-excess", "organization__name")
    search = search.strip()
    if search:
        lines = lines.filter(organization__name__icontains=search) | lines.filter(organization__uscc__iexact=search)
    return lines


def window_totals(window: CarryOverWindow) -> dict[str, int]:
    totals = window.lines.aggregate(
        companies=Count("id"), net_sales=Sum("net_sales"), holding=Sum("holding"), excess=Sum("excess"),
        not_carried=Sum("not_carried"), unmarked=Sum("unmarked"),
    )
    return {name: value or 0 for name, value in totals.items()}
