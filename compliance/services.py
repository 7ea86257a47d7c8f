"""Writes of the compliance cycle: verified emissions, surrenders and the deadline job."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.roles import Role
from accounts.selectors import organizations_visible_to, user_organization_ids, user_roles
from allocation.formula import co2e_tonnes
from allocation.models import CompliancePeriod, EmittingUnit, Sector
from allocation.services import deductions_enter_many
from allocation.units import unit_resolve, units_by_organization, units_ensure
from allocation.vintages import allowance_eligible, is_borrowing
from compliance import errors
from compliance.models import ComplianceResult, Surrender, VerifiedEmission
from compliance.selectors import Obligation, obligation_of, obligations
from core.audit import audit_record
from core.contention import retry_on_contention
from core.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NotEligible,
    PermissionDenied,
)
from core.imports import ImportRows, RawRow, RowError, duplicate_message, read_table
from core.numbers import NumberRefused, parse_decimal, parse_quantity
from offsets.models import serial_format
from offsets.selectors import compliance_eligible, quantity_held
from offsets.serials import serial_plan
from offsets.services import parse_ranges
from registry.models import Account, Asset
from registry.services import MAX_AMOUNT, allowances_retire

logger = logging.getLogger(__name__)


# --- verified emissions ---


def unit_label(unit: EmittingUnit) -> str:
    """"Company name, unit U1": how messages name a company's unit."""
    return _("%(name)s, unit %(code)s") % {"name": unit.organization.name, "code": unit.code}


def verified_emission_refusal(organization: Organization, period: CompliancePeriod, *, in_scope: bool,
                              recorded: bool, unit: EmittingUnit | None = None) -> str | None:
    """Why a company's unit cannot get verified emissions recorded for a period (by a file or by
    confirming a report), or None: only key emitting units, within the actor's scope, once per unit."""
    if organization.kind != Organization.Kind.KEY_EMITTING_UNIT:
        return _("%(name)s is not a key emitting unit") % {"name": organization.name}
    if not in_scope:
        return _("%(name)s is outside your province") % {"name": organization.name}
    if recorded:
        name = unit_label(unit) if unit else organization.name
        return _("%(name)s already has verified emissions for %(period)s") % {"name": name, "period": period}
    return None


VERIFIED_COLUMNS = ["uscc", "verified_emissions"]
# The units format: a unit code (blank: the company's one unit), its sector (for a unit the file names
# first), and the emissions in total or per gas (tonnes of CO2, CF4, C2F6; tCO2e by COMPLIANCE_GWP).
GAS_COLUMNS = ["co2_t", "cf4_t", "c2f6_t"]
VERIFIED_UNIT_COLUMNS = ["uscc", "unit_code", "sector", "verified_emissions", *GAS_COLUMNS]


def verified_required(names: set[str]) -> list[str]:
    """The total, or the gases (CO2 at least: CF4 and C2F6 may be left out)."""
    return ["uscc", "co2_t"] if "co2_t" in names and "verified_emissions" not in names else VERIFIED_COLUMNS


@dataclass
class VerifiedLine:
    row: int
    uscc: str
    organization: Organization | None
    tonnes: int | None
    errors: list[RowError]
    unit_code: str = ""
    unit: EmittingUnit | None = None
    sector: str = Sector.POWER
    gases: dict[str, Decimal] | None = None  # tonnes per gas, when given per gas


def _gas_figures(row: RawRow, sector: str, found: list[RowError]) -> tuple[int | None, dict[str, Decimal] | None]:
    """The row's emissions: (tCO2e, the tonnes per gas or None). Per gas when co2_t is given; the
    perfluorocarbons count for aluminium units only."""
    total_raw = row.values.get("verified_emissions", "")
    if row.values.get("co2_t", "") == "":
        try:
            return parse_quantity(total_raw, field="verified_emissions", minimum=0, maximum=MAX_AMOUNT), None
        except NumberRefused as refused:
            found.append(RowError(row.number, "verified_emissions", refused.detail))
            return None, None
    if total_raw != "":
        found.append(RowError(row.number, "verified_emissions", _("give the total or the gases, not both")))
    gases: dict[str, Decimal] = {}
    for name in GAS_COLUMNS:
        raw = row.values.get(name, "")
        try:
            gases[name] = Decimal(0) if raw == "" and name != "co2_t" else parse_decimal(raw, field=name, places=3)
        except NumberRefused as refused:
            found.append(RowError(row.number, name, refused.detail))
            continue
        if gases[name] < 0:
            found.append(RowError(row.number, name, _("must not be negative")))
        elif name != "co2_t" and gases[name] and sector != Sector.ALUMINIUM:
            found.append(RowError(row.number, name, _("CF4 and C2F6 count for aluminium units only")))
    if len(gases) < len(GAS_COLUMNS) or any(error.row == row.number for error in found):
        return None, None
    tonnes = co2e_tonnes(co2_t=gases["co2_t"], cf4_t=gases["cf4_t"], c2f6_t=gases["c2f6_t"],
                         cf4_gwp=settings.COMPLIANCE_GWP["cf4"], c2f6_gwp=settings.COMPLIANCE_GWP["c2f6"])
    if tonnes > MAX_AMOUNT:
        found.append(RowError(row.number, "co2_t", _("the total is above %(max)s tCO2e") % {"max": f"{MAX_AMOUNT:,}"}))
        return None, None
    return tonnes, gases


def verified_emissions_check(*, period: CompliancePeriod, rows: ImportRows, actor: Any) -> tuple[list[VerifiedLine], list[RowError]]:
    """Every row of a verified-emissions file checked, nothing saved: (the lines, every row's error).
    The admin's preview shows it; verified_emissions_import saves the lines when there is no error."""
    usccs = {row.values["uscc"].upper() for row in rows}
    organizations = {o.uscc: o for o in Organization.objects.filter(uscc__in=usccs)}
    scope = set(organizations_visible_to(actor).filter(uscc__in=usccs).values_list("uscc", flat=True)) if actor else None
    recorded = set(VerifiedEmission.objects.filter(period=period, organization__uscc__in=usccs)
                   .values_list("organization__uscc", "unit__code"))
    units = units_by_organization(o.pk for o in organizations.values())
    read_errors: dict[int, list[RowError]] = {}
    for error in rows.errors:
        read_errors.setdefault(error.row, []).append(error)
    problems: list[RowError] = []
    lines: list[VerifiedLine] = []
    resolved = []
    for row in rows:
        uscc = row.values["uscc"].upper()
        organization = organizations.get(uscc)
        code, unit, unit_problem = (unit_resolve(organization, row.values.get("unit_code", ""), units) if organization
                                    else (row.values.get("unit_code", "").strip().upper(), None, None))
        resolved.append((uscc, organization, code, unit, unit_problem))
    seen: dict[tuple[str, str], list[int]] = {}
    for row, (uscc, _org, code, _unit, _problem) in zip(rows, resolved, strict=True):
        seen.setdefault((uscc, code), []).append(row.number)
    for row, (uscc, organization, code, unit, unit_problem) in zip(rows, resolved, strict=True):
        found: list[RowError] = []
        problem = (_("no registered organization has USCC %(uscc)s") % {"uscc": uscc or _("(empty)")} if organization is None else
                   verified_emission_refusal(organization, period, in_scope=scope is None or uscc in scope,
                                             recorded=(uscc, code) in recorded))
        if problem:
            found.append(RowError(row.number, "uscc", problem))
        elif unit_problem:
            found.append(RowError(row.number, "unit_code", unit_problem))
        if uscc and len(seen[(uscc, code)]) > 1:  # every row of a duplicate set, the first too
            found.append(RowError(row.number, "uscc", duplicate_message(row.number, seen[(uscc, code)])))
        sector = row.values.get("sector", "").strip().lower()
        if sector and sector not in Sector.values:
            found.append(RowError(row.number, "sector", _("unknown sector %(sector)s; use %(sectors)s") % {
                "sector": repr(sector), "sectors": ", ".join(Sector.values)}))
        elif unit is not None and sector and sector != unit.sector:
            found.append(RowError(row.number, "sector", _("unit %(code)s is in sector %(sector)s") % {
                "code": unit.code, "sector": unit.sector}))
        sector = unit.sector if unit is not None else (sector or Sector.POWER)
        tonnes, gases = _gas_figures(row, sector, found)
        found = read_errors.get(row.number, []) + [error for error in found if error.field not in row.refused]
        problems.extend(found)
        lines.append(VerifiedLine(row.number, uscc, organization, tonnes, found, unit_code=code, unit=unit, sector=sector,
                                  gases=gases))
    return lines, problems


def verified_emissions_import(
    *, period: CompliancePeriod, stream: IO[bytes], filename: str, actor: Any,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> int:
    """Records confirmed verified emissions from a CSV or XLSX `uscc,verified_emissions`: every row
    or none (ImportRefused lists every row's error, RowError: row, field, message). A unit already
    recorded for the period is a row error (a correction is its own, audited act). The file is read
    by core.imports (row cap, streaming, NUL and overlong cells), the tonnes by core.numbers."""
    if actor is not None and not actor.has_perm("compliance.add_verifiedemission"):
        raise PermissionDenied()
    rows = read_table(stream, filename, required=verified_required, columns=VERIFIED_UNIT_COLUMNS,
                      progress=(lambda done: progress("reading", done, None)) if progress else None)
    if progress:
        progress("checking", len(rows), len(rows))
    lines, problems = verified_emissions_check(period=period, rows=rows, actor=actor)
    if problems:
        raise errors.VerifiedEmissionsRefused(problems)
    if progress:
        progress("saving", len(rows), len(rows))
    with transaction.atomic():
        units = units_ensure((line.organization, line.unit_code, line.sector, "") for line in lines)
        records = [VerifiedEmission(period=period, organization=line.organization, unit=units[(line.organization.pk, line.unit_code)],
                                    tonnes=line.tonnes, confirmed_by=actor, source=filename[:200], **_gas_fields(line.gases))
                   for line in lines]
        VerifiedEmission.objects.bulk_create(records, batch_size=2000)
        audit_record(actor=actor, action="verified_emissions.import", object_type="allocation.complianceperiod",
                     object_id=period.pk, after={"file": filename, "units": len(records),
                                                 "tonnes": sum(r.tonnes for r in records)})
    return len(records)




def _gas_fields(gases: dict[str, Decimal] | None) -> dict[str, Any]:
    if gases is None:
        return {}
    return {**gases, "cf4_gwp": settings.COMPLIANCE_GWP["cf4"], "c2f6_gwp": settings.COMPLIANCE_GWP["c2f6"]}


def verified_emissions_import_job(job: Any, stream: IO[bytes], progress: Callable[[str, int, int | None], None]) -> dict[str, Any]:
    """An admin import's job (core.import_jobs): the confirmed upload's verified emissions recorded."""
    period = CompliancePeriod.objects.get(pk=job.params["period"])
    units = verified_emissions_import(period=period, stream=stream, filename=job.source_name or job.upload,
                                      actor=job.created_by, progress=progress)
    return {"period": period.code, "units": units}


# --- surrender ---


def officer_unit(user: Any, permission: str, doing: str) -> Organization:
    """The one unit a company compliance officer acts for, if it holds `permission`."""
    if Role.COMPLIANCE_OFFICER not in user_roles(user) or not user.has_perm(permission):
        raise NotEligible(_("Only a company compliance officer may %(doing)s, for its own organization.") % {"doing": doing})
    organization_ids = user_organization_ids(user)
    if len(organization_ids) != 1:
        raise NotEligible(_("You must belong to exactly one unit to %(doing)s.") % {"doing": doing})
    return Organization.objects.get(pk=next(iter(organization_ids)))


@retry_on_contention
def surrender_create(
    *, user: Any, period: CompliancePeriod | str, asset: Asset | str, quantity: Any, client_request_id: str, blocks: Any = None
) -> tuple[Surrender, bool]:
    """Surrenders allowances of an eligible vintage, or CCER offsets within 5 % of the obligation,
    from the user's organization's available holding into the retirement account. Atomic and
    irreversible; the same client_request_id returns the first surrender. CCER leave as the serial
    ranges the officer chose (`blocks`, [[first, last], ...]), else the oldest eligible first."""
    organization = officer_unit(user, "compliance.surrender", _("surrender"))
    if isinstance(period, str):
        period = CompliancePeriod.objects.filter(code=period).first() or _missing("period", period)
    if isinstance(asset, str):
        asset = Asset.objects.filter(code=asset).first() or _missing("asset", asset)
    client_request_id = (client_request_id or "").strip()
    if not client_request_id or len(client_request_id) > 64:
        raise InvalidInput(_("Give a client_request_id of 1 to 64 characters."), field="client_request_id")
    request = (period.pk, asset.pk, quantity)
    try:
        return _surrender(user, organization, period, asset, quantity, client_request_id, blocks), True
    except (IntegrityError, DomainError) as error:
        # Was the client_request_id used before (a retry, or a racing request with the same id)? The
        # same surrender is a replay, another one a conflict, whatever refused this attempt.
        existing = Surrender.objects.filter(organization=organization, client_request_id=client_request_id).first()
        if existing is None:
            raise error from None
        if (existing.period_id, existing.asset_id, existing.quantity) != request:
            raise IdempotencyConflict(_("This client_request_id was used for a different surrender."),
                                      field="client_request_id") from None
        return existing, False


def _surrender(user: Any, organization: Organization, period: CompliancePeriod, asset: Asset, quantity: Any,
               client_request_id: str, blocks: Any = None) -> Surrender:
    if Surrender.objects.filter(organization=organization, client_request_id=client_request_id).exists():
        raise IdempotencyConflict(field="client_request_id")  # (surrender_create answers it)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput(_("The quantity must be a positive whole number of tonnes."), field="quantity")
    if ComplianceResult.objects.filter(period=period).exists():
        raise errors.PeriodClosed(_("The %(period)s deadline has been processed.") % {"period": period})
    if timezone.localdate() > period.surrender_deadline:
        raise errors.PeriodClosed(
            _("The %(period)s surrender deadline (%(deadline)s) has passed.") % {"period": period, "deadline": period.surrender_deadline}
        )
    ranges = parse_ranges(blocks)
    if ranges is not None and asset.kind != Asset.Kind.OFFSET:
        raise InvalidInput(_("Only offsets have serial numbers."), field="blocks")
    if asset.kind == Asset.Kind.ALLOWANCE and is_borrowing(period.last_year, asset):
        raise errors.IneligibleAsset(_("%(asset)s cannot be surrendered for %(period)s: no borrowing, a later vintage is never "
                                       "eligible for an earlier period.") % {"asset": asset.code, "period": period}, field="asset")
    if not (allowance_eligible(period, asset) or asset.kind == Asset.Kind.OFFSET):
        raise errors.IneligibleAsset(_("%(asset)s cannot be surrendered for %(period)s.") % {"asset": asset.code, "period": period}, field="asset")
    holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
    if holding is None:
        raise NotEligible(_("%(name)s has no registry holding account.") % {"name": organization.name})
    try:
        with transaction.atomic():
            # One surrender at a time per company: the obligation check and the retirement see the
            # same state. NO KEY UPDATE: orders inserted meanwhile check their foreign key to the
            # organization with KEY SHARE at commit, which this lock lets through (a plain FOR UPDATE
            # would make them deadlock with this transaction's balance locks).
            Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
            _check_against_obligation(obligation_of(period, organization), asset, quantity)
            eligible = _check_offsets_eligible(period, holding, asset, quantity, ranges)
            with serial_plan(eligible=eligible, ranges=ranges):  # the chosen ranges, else the oldest eligible first
                transfer = allowances_retire(account=holding, asset=asset, amount=quantity, actor=user,
                                             reference=f"surrender:{period.code}:{client_request_id}"[:64], audited_by_caller=True)
            surrender = Surrender.objects.create(period=period, organization=organization, asset=asset, quantity=quantity,
                                                 client_request_id=client_request_id, transfer=transfer, created_by=user)
            # The one audit event of a surrender (the retirement transfer is named in it, not audited apart).
            audit_record(actor=user, action="surrender.create", obj=surrender,
                         after={"period": period.code, "asset": asset.code, "quantity": quantity, "transfer": transfer.pk,
                                "source": holding.number})
    except InsufficientBalance as short:
        raise InsufficientBalance(short.message, field="quantity") from None
    return surrender


def _missing(field: str, value: str) -> Any:
    if field == "period":
        raise InvalidInput(_("No compliance period %(period)s.") % {"period": repr(value)}, field=field)
    raise InvalidInput(_("No asset %(asset)s.") % {"asset": repr(value)}, field=field)


def _check_offsets_eligible(
    period: CompliancePeriod, holding: Account, asset: Asset, quantity: int, ranges: list[tuple[int, int]] | None
) -> Q | None:
    """Offsets: the holding must have `quantity` t in serial blocks eligible for the period (the legacy
    cut-off, offsets.selectors.compliance_eligible), and every chosen range must lie in one of them;
    returns the blocks' filter for the surrender."""
    if asset.kind != Asset.Kind.OFFSET:
        return None
    eligible = compliance_eligible(period.surrender_deadline)
    for first, last in ranges or []:
        if not quantity_held(holding, asset_id=asset.pk, eligible=eligible & Q(first_serial__lte=first, last_serial__gte=last)):
            raise errors.IneligibleAsset(
                _("Serial numbers %(first)s to %(last)s are not in a block you hold that may be surrendered for %(period)s.")
                % {"first": serial_format(first), "last": serial_format(last), "period": period.code}, field="blocks")
    held = quantity_held(holding, asset_id=asset.pk, eligible=eligible)
    if held < quantity:
        raise errors.IneligibleAsset(
            _("Only %(held)s t of your %(asset)s may be surrendered for %(period)s: credits of projects registered before "
              "%(cutoff)s count only for periods whose surrender deadline is on or before %(last)s.")
            % {"held": f"{held:,}", "asset": asset.code, "period": period.code,
               "cutoff": settings.OFFSETS_LEGACY_REGISTRATION_CUTOFF.isoformat(),
               "last": settings.OFFSETS_LEGACY_LAST_DEADLINE.isoformat()},
            field="quantity")
    return eligible


def _check_against_obligation(obligation: Obligation | None, asset: Asset, quantity: int) -> None:
    if obligation is None or obligation.verified_emissions is None:
        raise errors.NoObligation(field="period")
    if asset.kind == Asset.Kind.OFFSET and obligation.surrendered_offsets + quantity > obligation.offset_cap:
        raise errors.OffsetCapExceeded(
            _("Offsets may cover %(cap)s t of the %(obligation)s t obligation; %(done)s t already surrendered.")
            % {"cap": f"{obligation.offset_cap:,}", "obligation": f"{obligation.obligation:,}",
               "done": f"{obligation.surrendered_offsets:,}"},
            field="quantity")
    if obligation.surrendered + quantity > obligation.obligation:
        raise errors.OverSurrender(
            _("The obligation is %(obligation)s t and %(done)s t are surrendered.")
            % {"obligation": f"{obligation.obligation:,}", "done": f"{obligation.surrendered:,}"},
            field="quantity")


# --- the deadline job ---


def average_price_before(period: CompliancePeriod) -> int | None:
    """Volume-weighted average price (fen) of the period's vintages in the calendar month before the
    surrender deadline, from the daily bars; None without trades."""
    from trading.models import DailyBar

    month_end = period.surrender_deadline.replace(day=1)
    month_start = (month_end - dt.timedelta(days=1)).replace(day=1)
    totals = DailyBar.objects.filter(
        instrument__asset__in=period.vintages.all(), day__gte=month_start, day__lt=month_end
    ).aggregate(volume=Sum("volume"), turnover=Sum("turnover"))
    if not totals["volume"]:
        return None
    return int((Decimal(totals["turnover"]) / totals["volume"]).to_integral_value(rounding=ROUND_HALF_UP))


def compliance_deadline_run(
    *, period: CompliancePeriod, actor: Any = None, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Status A / B / C per unit, the shortfall, the fine basis under the period's regime, and the
    shortfall entered as a deduction from the next period's allocation (approved with that plan);
    then the period is closed.
    Running it again changes nothing: results are rewritten with the same values and each
    deduction is entered once. Units are written in chunks (COMPLIANCE_DEADLINE_CHUNK), each chunk
    in one short transaction, so 10,000 units take seconds and `progress(done, total)` moves."""
    if actor is not None and not actor.has_perm("allocation.approve_allocationplan"):
        raise PermissionDenied()
    price = average_price_before(period)
    next_period = CompliancePeriod.objects.filter(first_year=period.last_year + 1).first()
    found = obligations(period)
    counts = {"A": 0, "B": 0, "C": 0}
    size = settings.COMPLIANCE_DEADLINE_CHUNK
    for start in range(0, len(found), size):
        chunk = [(obligation, _status(obligation)) for obligation in found[start:start + size]]
        for _obligation, status in chunk:
            counts[status] += 1
        with transaction.atomic():
            _results_write(period, chunk, price, next_period)
        if progress:
            progress(start + len(chunk), len(found))
    with transaction.atomic():  # the period is closed: its results are decided
        before = CompliancePeriod.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=period.pk)
        CompliancePeriod.objects.filter(pk=period.pk).update(status=CompliancePeriod.Status.CLOSED)
        audit_record(actor=actor, action="compliance.deadline", obj=period, before={"status": before},
                     after={**counts, "average_price": price, "status": CompliancePeriod.Status.CLOSED})
    period.status = CompliancePeriod.Status.CLOSED
    return counts


_RESULT_FIELDS = ["allocated", "verified_emissions", "obligation", "surrendered_allowances", "surrendered_offsets",
                  "shortfall", "status", "fine_basis_low", "fine_basis_high", "deduction_entered", "units", "computed_at"]


def _results_write(
    period: CompliancePeriod, chunk: list[tuple[Obligation, str]], price: int | None, next_period: CompliancePeriod | None
) -> None:
    """Upserts one chunk's results and enters the deductions not entered before, in one transaction."""
    # Two runs at once take turns chunk by chunk, so a deduction is never entered twice. (No key
    # lock: results and deductions that merely reference the period are not held up.)
    CompliancePeriod.objects.select_for_update(no_key=True).filter(pk=period.pk).first()
    entered = set(ComplianceResult.objects.filter(
        period=period, organization_id__in=[obligation.organization.pk for obligation, _ in chunk], deduction_entered=True,
    ).values_list("organization_id", flat=True))
    shortfalls, rows = [], []
    for obligation, status in chunk:
        deduct = (status == "B" and obligation.shortfall > 0 and next_period is not None
                  and obligation.organization.pk not in entered)
        if deduct:
            shortfalls.append((obligation.organization, obligation.shortfall))
        low, high = _fine_basis(period, obligation, status, price)
        rows.append(ComplianceResult(
            period=period, organization=obligation.organization, allocated=obligation.allocated,
            verified_emissions=obligation.verified_emissions, obligation=obligation.obligation,
            surrendered_allowances=obligation.surrendered_allowances, surrendered_offsets=obligation.surrendered_offsets,
            shortfall=obligation.shortfall, status=status, fine_basis_low=low, fine_basis_high=high,
            deduction_entered=deduct or obligation.organization.pk in entered,
            units=[unit.as_dict() for unit in obligation.units],
        ))
    ComplianceResult.objects.bulk_create(rows, update_conflicts=True, unique_fields=["period", "organization"],
                                         update_fields=_RESULT_FIELDS)
    if shortfalls:
        deductions_enter_many(period=next_period, shortfalls=shortfalls, reason=f"Shortfall of {period}", actor=None)


def _status(obligation: Obligation) -> str:
    if obligation.verified_emissions is None:
        return "C"
    return "A" if obligation.surrendered >= obligation.obligation else "B"


def _fine_basis(period: CompliancePeriod, obligation: Obligation, status: str, price: int | None) -> tuple[int, int]:
    if status != "B" or not obligation.shortfall:
        return 0, 0
    if period.fine_regime == CompliancePeriod.FineRegime.MEASURES_2021:
        return settings.COMPLIANCE_FINE_FIXED
    low, high = settings.COMPLIANCE_FINE_MULTIPLE
    basis = obligation.shortfall * (price or 0)
    return low * basis, high * basis

