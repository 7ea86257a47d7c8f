"""Emitting units as import files name them: a company (USCC) and a unit code, or no code for a company
with one unit (the original format). Units a file names for the first time are created when it is saved."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

from accounts.models import Organization
from allocation.formula import DEFAULT_UNIT_CODE
from allocation.models import EmittingUnit

UNIT_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")


def units_by_organization(organization_ids: Iterable[int]) -> dict[int, dict[str, EmittingUnit]]:
    """Each company's units by code."""
    found: dict[int, dict[str, EmittingUnit]] = {}
    for unit in EmittingUnit.objects.filter(organization_id__in=set(organization_ids)).order_by("code"):
        found.setdefault(unit.organization_id, {})[unit.code] = unit
    return found


def unit_resolve(organization: Organization, raw_code: str,
                 units: dict[int, dict[str, EmittingUnit]]) -> tuple[str, EmittingUnit | None, str | None]:
    """(the unit's code, the unit if it exists, a row error or None). No code: the company's one unit
    (DEFAULT_UNIT_CODE for a company without units); a company with several units needs the code."""
    own = units.get(organization.pk, {})
    code = (raw_code or "").strip().upper()
    if not code:
        if len(own) > 1:
            return "", None, _("%(name)s has %(count)s units: give the unit_code") % {"name": organization.name, "count": len(own)}
        if own:
            unit = next(iter(own.values()))
            return unit.code, unit, None
        return DEFAULT_UNIT_CODE, None, None
    if not UNIT_CODE.fullmatch(code):
        return code, None, _("a unit code is 1 to 32 letters, digits, '.', '_' or '-'")
    return code, own.get(code), None


def units_ensure(wanted: Iterable[tuple[Organization, str, str, str]]) -> dict[tuple[int, str], EmittingUnit]:
    """The units (organization, code, sector, category), those missing created (sector, category and the
    company's province and name), a category given to those that had none (a unit a verified-emissions
    file made); by (organization id, code). Call it inside the saving transaction."""
    wanted = list(wanted)
    EmittingUnit.objects.bulk_create(
        [EmittingUnit(organization=org, code=code, sector=sector, category=category, province=org.province, name=org.name)
         for org, code, sector, category in wanted],
        batch_size=2000, ignore_conflicts=True)
    units = units_by_organization(org.pk for org, _, _, _ in wanted)
    found = {(org.pk, code): units[org.pk][code] for org, code, _, _ in wanted}
    named: dict[str, list[int]] = {}
    for org, code, _sector, category in wanted:
        if category and not found[(org.pk, code)].category:
            named.setdefault(category, []).append(found[(org.pk, code)].pk)
    for category, ids in named.items():
        EmittingUnit.objects.filter(pk__in=ids, category="").update(category=category)
    return found
