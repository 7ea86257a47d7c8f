"""Which vintages may be surrendered for a period (RULEBOOK.md, "2024-2026 rules": no borrowing).

A period names its eligible vintages (CompliancePeriod.vintages), but whatever that list says, a
vintage later than the period's last year is never eligible: a company cannot borrow from the future.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from allocation.models import CompliancePeriod
from core.errors import InvalidInput
from registry.models import Asset


def vintage_years(asset: Asset) -> tuple[int, int] | None:
    """The first and last year of a CEA's vintage ("2021" -> (2021, 2021), "2019-2020" -> (2019, 2020)),
    or None when the asset has no readable vintage."""
    first, _dash, last = (asset.vintage or "").strip().partition("-")
    try:
        years = (int(first), int(last or first))
    except ValueError:
        return None
    return years if years[0] <= years[1] else None


def is_borrowing(last_year: int, asset: Asset) -> bool:
    """Would surrendering `asset` for a period ending in `last_year` borrow from the future? A vintage
    without readable years is treated as borrowing: eligibility must be proven, not assumed."""
    years = vintage_years(asset)
    return years is None or years[1] > last_year


def allowance_eligible(period: CompliancePeriod, asset: Asset) -> bool:
    """An allowance the period names, and never a later vintage than the period's last year."""
    return (
        asset.kind == Asset.Kind.ALLOWANCE
        and not is_borrowing(period.last_year, asset)
        and period.vintages.filter(pk=asset.pk).exists()
    )


def vintages_check(*, last_year: int, vintages: Iterable[Asset], field: str = "vintages") -> None:
    """Refuses a period's vintage list that names a later vintage than the period's last year."""
    later = sorted(asset.code for asset in vintages if asset.kind == Asset.Kind.ALLOWANCE and is_borrowing(last_year, asset))
    if later:
        raise InvalidInput(
            _("No borrowing: %(vintages)s are later than %(year)s, the period's last year, and can never be "
              "surrendered for it.") % {"vintages": ", ".join(later), "year": last_year},
            field=field,
        )
