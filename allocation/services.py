"""Allocation: compliance periods, importing plans, and maker-checker issuance (RULEBOOK.md:
Allocation; DESIGN.md: Allocation and compliance).

Issuance goes national issuance account -> the unit's holding account directly (not through the
provincial accounts): the provincial regulator's part is proposing and checking its units, which
the plan records; routing the units through a provincial account would add a transfer per unit and
prove nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from allocation.formula import DEFAULT_BENCHMARKS, allocation_for, intensity_allocation, issue_share, sector_benchmarks
from allocation.importing import RawRow, RowError, read_rows
from allocation.models import (
    SECTOR_OF_CATEGORY,
    AllocationCut,
    AllocationLine,
    AllocationPlan,
    Benchmark,
    CompliancePeriod,
    Deduction,
    EmittingUnit,
    Method,
    PreAllocationBasis,
    Sector,
    UnitCategory,
)
from allocation.units import unit_resolve, units_by_organization, units_ensure
from allocation.vintages import vintages_check
from core.audit import audit_record, audit_record_many
from core.errors import AlreadyExists, DomainError, ImportRefused, InvalidInput, PermissionDenied
from core.imports import duplicate_message
from core.numbers import NumberRefused, parse_decimal
from registry.models import Account, Asset
from registry.services import allowances_clawback, allowances_issue_and_allocate


class PlanNotInState(DomainError):
    code = "plan_state"
    status = 409
    default_message = gettext_lazy("The plan is not in a state that allows this.")


class SameRegulator(DomainError):
    code = "maker_checker"
    status = 403
    default_message = gettext_lazy("A plan must be approved by a regulator other than the one who drafted or submitted it.")


# Statuses as a message names them (the models' choice labels are not translated).
PLAN_STATUS_WORDS = {
    AllocationPlan.Status.DRAFT: pgettext_lazy("plan status", "draft"),
    AllocationPlan.Status.SUBMITTED: pgettext_lazy("plan status", "submitted for approval"),
    AllocationPlan.Status.ISSUED: pgettext_lazy("plan status", "approved and issued"),
    AllocationPlan.Status.REJECTED: pgettext_lazy("plan status", "rejected"),
}
ORGANIZATION_STATUS_WORDS = {
    Organization.Status.ACTIVE: pgettext_lazy("organization status", "active"),
    Organization.Status.SUSPENDED: pgettext_lazy("organization status", "suspended"),
    Organization.Status.CLOSED: pgettext_lazy("organization status", "closed"),
}


def _require(actor: Any, permission: str) -> None:
    if not (getattr(actor, "pk", None) and actor.is_active and actor.has_perm(permission)):
        raise PermissionDenied()


# --- periods ---


def period_create(
    *, code: str, first_year: int, last_year: int, vintages: list[Asset], surrender_deadline: dt.date | None = None,
    actor: Any,
) -> CompliancePeriod:
    """A compliance period with its benchmark table seeded from RULEBOOK.md (editable in the admin)."""
    _require(actor, "allocation.add_complianceperiod")
    if last_year < first_year:
        raise InvalidInput(_("The last year comes before the first."), field="last_year")
    vintages_check(last_year=last_year, vintages=vintages)
    table = DEFAULT_BENCHMARKS.get(code) or DEFAULT_BENCHMARKS.get(str(last_year)) or DEFAULT_BENCHMARKS["2022"]
    following = last_year + 1
    with transaction.atomic():
        if CompliancePeriod.objects.filter(code=code).exists():
            raise AlreadyExists(_("Period %(period)s exists.") % {"period": code}, field="code")
        period = CompliancePeriod.objects.create(
            code=code, first_year=first_year, last_year=last_year,
            emission_report_deadline=dt.date(following, 3, 31), verification_deadline=dt.date(following, 6, 30),
            surrender_deadline=surrender_deadline or dt.date(following, 12, 31),
        )
        period.vintages.set(vintages)
        Benchmark.objects.bulk_create(
            [Benchmark(period=period, unit_category=category, electricity=Decimal(e), heat=Decimal(h))
             for category, (e, h) in table.items()]
            + [Benchmark(period=period, **row) for row in sector_benchmarks(first_year, last_year)]
        )
        audit_record(actor=actor, action="period.create", obj=period,
                     after={"code": code, "vintages": [v.code for v in vintages]})
    return period


# --- importing a plan ---


@dataclass
class PreviewLine:
    row: int
    uscc: str
    organization: Organization | None
    unit_category: str
    electricity_mwh: Decimal | None
    heat_gj: Decimal | None
    correction_factor: Decimal | None
    computed_allocation: int | None = None
    issued_before: int = 0  # true-up: what earlier issued plans of the period gave the unit
    issue_amount: int | None = None
    clawback_amount: int = 0
    deduction_amount: int = 0
    unit_code: str = ""
    unit: EmittingUnit | None = None  # None: a unit the file names for the first time (created on saving)
    sector: str = ""
    method: str = Method.BENCHMARK
    product_output_t: Decimal | None = None
    verified_basis: int | None = None


@dataclass
class ImportPreview:
    lines: list[PreviewLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_computed(self) -> int:
        return sum(line.computed_allocation or 0 for line in self.lines)

    @property
    def total_issue(self) -> int:
        return sum(line.issue_amount or 0 for line in self.lines)

    @property
    def total_clawback(self) -> int:
        return sum(line.clawback_amount for line in self.lines)


def issued_to_date(
    period: CompliancePeriod, vintage: Asset, unit_ids: set[int], *, excluding: AllocationPlan | None = None
) -> dict[int, int]:
    """Net tonnes of allocation the issued plans of a period have settled for each unit (by unit id):
    issued, or withheld against an earlier shortfall, less clawed back."""
    rows = (
        AllocationLine.objects.filter(plan__period=period, plan__vintage=vintage, plan__status=AllocationPlan.Status.ISSUED,
                                      unit_id__in=unit_ids)
        .exclude(plan=excluding)
        .values("unit_id")
        .annotate(issued=Sum("issue_amount"), withheld=Sum("deduction_amount"), clawed=Sum("clawback_amount"))
    )
    return {row["unit_id"]: row["issued"] + row["withheld"] - row["clawed"] for row in rows}


def _decimal(
    raw: str, field_name: str, row: int, errors: list[RowError], *, places: int, default: Decimal | None = None
) -> Decimal | None:
    """A number that fits its column exactly (core.numbers: digits 0-9 or full-width, written in
    full, at most `places` decimals, below 10^13), or None with the row's error."""
    if raw == "" and default is not None:
        return default
    try:
        return parse_decimal(raw, field=field_name, places=places)
    except NumberRefused as refused:
        errors.append(RowError(row, field_name, refused.detail))
        return None


def _organization_refusal(organization: Organization | None, uscc: str, in_scope: set[str]) -> str | None:
    if not uscc:
        return _("missing")
    if organization is None:
        return _("no registered organization has USCC %(uscc)s") % {"uscc": uscc}
    if organization.kind != Organization.Kind.KEY_EMITTING_UNIT:
        return _("%(name)s is not a key emitting unit") % {"name": organization.name}
    if uscc not in in_scope:
        return _("%(name)s is outside your province") % {"name": organization.name}
    if organization.status != Organization.Status.ACTIVE:
        return _("%(name)s is %(status)s, not active") % {
            "name": organization.name, "status": ORGANIZATION_STATUS_WORDS.get(organization.status, organization.status)}
    return None


def _verified_by_unit(periods: set[int], organization_ids: set[int]) -> dict[tuple[int, int], int]:
    """(period id, unit id) -> verified tCO2e, for the units of the companies (read through the units'
    relation: the compliance app builds on this one, not the other way round)."""
    rows = EmittingUnit.objects.filter(organization_id__in=organization_ids, verified_emissions__period_id__in=periods)
    return {(period_id, unit_id): tonnes for period_id, unit_id, tonnes in rows.values_list(
        "verified_emissions__period_id", "pk", "verified_emissions__tonnes")}


def allocation_preview(
    *, period: CompliancePeriod, rows: list[RawRow], issue_percent: Decimal, actor: Any,
    kind: str = AllocationPlan.Kind.PRE_ALLOCATION, vintage: Asset | None = None,
) -> ImportPreview:
    """Every row's computed figures and every row's error, without saving anything.

    Each row is a unit (a company's USCC and its unit code; no code: the company's one unit), computed
    by its category's method on the period's benchmark table: `benchmark` (power's formula), `intensity`
    (product output x intensity x correction factor) or `verified` (the unit's verified emissions of
    the row's `verified_period`). A pre-allocation issues the category's pre-allocation share (or
    `issue_percent`) of each computed allocation, which for a `previous_verified` basis is the unit's
    verified emissions of the previous year. A true-up computes the final allocation and issues the
    difference to what the period's issued plans already gave the unit, or claws back the excess."""
    preview = ImportPreview()
    benchmarks = {b.unit_category: b for b in period.benchmarks.all()}
    usccs = {row.values.get("uscc", "").upper() for row in rows}
    organizations = {o.uscc: o for o in Organization.objects.filter(uscc__in=usccs)}
    in_scope = set(organizations_visible_to(actor).filter(uscc__in=usccs).values_list("uscc", flat=True)) if actor else set(organizations)
    units = units_by_organization(o.pk for o in organizations.values())
    pre_allocated: dict[tuple[int, str], int] = {}
    if kind == AllocationPlan.Kind.PRE_ALLOCATION:
        pre_allocated = {(org, code): plan for org, code, plan in AllocationLine.objects.filter(
            plan__period=period, plan__kind=AllocationPlan.Kind.PRE_ALLOCATION,
            plan__status__in=[AllocationPlan.Status.DRAFT, AllocationPlan.Status.SUBMITTED, AllocationPlan.Status.ISSUED],
            organization__uscc__in=usccs,
        ).values_list("organization_id", "unit__code", "plan_id")}
    previous = CompliancePeriod.objects.filter(last_year=period.first_year - 1).first()
    verified = _verified_by_unit({b.verified_period_id or period.pk for b in benchmarks.values()} | ({previous.pk} if previous else set()),
                                 {o.pk for o in organizations.values()})
    resolved = [_row_unit(row, organizations, units) for row in rows]
    seen: dict[str, list[int]] = {}
    for row, (_code, key, _unit, _problem) in zip(rows, resolved, strict=True):
        seen.setdefault(key, []).append(row.number)
    read_errors: dict[int, list[RowError]] = {}
    for error in getattr(rows, "errors", []):  # NUL or overlong cells, found while reading
        read_errors.setdefault(error.row, []).append(error)
    for row, (code, key, unit, unit_problem) in zip(rows, resolved, strict=True):
        errors: list[RowError] = []
        uscc = row.values.get("uscc", "").upper()
        organization = organizations.get(uscc)
        problem = _organization_refusal(organization, uscc, in_scope)
        if problem:
            errors.append(RowError(row.number, "uscc", problem))
        elif unit_problem:
            errors.append(RowError(row.number, "unit_code", unit_problem))
        elif (organization.pk, code) in pre_allocated:
            errors.append(RowError(row.number, "uscc", _("%(name)s already has a pre-allocation for %(period)s: plan %(plan)s") % {
                "name": f"{organization.name} {code}", "period": period, "plan": pre_allocated[(organization.pk, code)]}))
        if uscc and len(seen[key]) > 1:  # every row of a duplicate set, the first too: none of them is valid
            errors.append(RowError(row.number, "uscc", duplicate_message(row.number, seen[key])))
        category = row.values.get("unit_category", "").strip().lower()
        benchmark = benchmarks.get(category)
        if category not in UnitCategory.values:
            errors.append(RowError(row.number, "unit_category", _("unknown category %(category)s; use %(categories)s") % {
                "category": repr(category), "categories": ", ".join(UnitCategory.values)}))
        elif benchmark is None:
            errors.append(RowError(row.number, "unit_category", _("period %(period)s has no benchmark for %(category)s") % {
                "period": period, "category": category}))
        sector = _row_sector(row, category, unit, errors)
        method = benchmark.method if benchmark else Method.BENCHMARK
        power = method == Method.BENCHMARK
        zero = None if power else Decimal(0)  # the power columns may be blank on other methods' rows
        electricity = _decimal(row.values.get("electricity_mwh", ""), "electricity_mwh", row.number, errors, places=3, default=zero)
        heat = _decimal(row.values.get("heat_gj", ""), "heat_gj", row.number, errors, places=3, default=zero)
        output = None
        if row.values.get("product_output_t", "") != "":
            output = _decimal(row.values["product_output_t"], "product_output_t", row.number, errors, places=3)
        factor = _decimal(row.values.get("correction_factor", ""), "correction_factor", row.number, errors, places=4,
                          default=Decimal(1))
        for name, value in (("electricity_mwh", electricity), ("heat_gj", heat), ("product_output_t", output)):
            if value is not None and value < 0:
                errors.append(RowError(row.number, name, _("must not be negative")))
        if factor is not None and not Decimal("0") < factor <= Decimal("2"):
            errors.append(RowError(row.number, "correction_factor", _("must be above 0 and at most 2")))
        line = PreviewLine(row.number, uscc, organization, category, electricity, heat, factor, unit_code=code, unit=unit,
                           sector=sector, method=method, product_output_t=output)
        if benchmark is not None and not errors:
            _line_compute(line, benchmark, kind=kind, period=period, previous=previous, verified=verified,
                          issue_percent=issue_percent, errors=errors, row=row.number)
        # A cell the reader refused is reported once, by the reader.
        errors = read_errors.get(row.number, []) + [error for error in errors if error.field not in row.refused]
        if errors:
            line.computed_allocation = line.issue_amount = None
        preview.lines.append(line)
        preview.errors.extend(errors)
    if kind == AllocationPlan.Kind.TRUE_UP:
        if vintage is None:
            raise InvalidInput(_("A true-up needs the vintage it corrects."), field="vintage")
        before = issued_to_date(period, vintage, {line.unit.pk for line in preview.lines if line.unit})
        for line in preview.lines:
            if line.computed_allocation is None or line.organization is None:
                continue
            line.issued_before = before.get(line.unit.pk, 0) if line.unit else 0
            difference = line.computed_allocation - line.issued_before
            line.issue_amount, line.clawback_amount = max(difference, 0), max(-difference, 0)
    organization_ids = {line.organization.pk for line in preview.lines if line.organization}
    pending, cuts = pending_deductions(period, organization_ids), allocation_cuts(period, organization_ids)
    for line in preview.lines:  # a cut is a share of each of the company's lines; its deductions are withheld from them in file order
        if line.issue_amount and line.organization and cuts.get(line.organization.pk):
            line.deduction_amount = issue_share(line.issue_amount, cuts[line.organization.pk])
            line.issue_amount -= line.deduction_amount
        if line.issue_amount and line.organization and pending.get(line.organization.pk):
            withheld = min(pending[line.organization.pk], line.issue_amount)
            line.deduction_amount += withheld
            line.issue_amount -= withheld
            pending[line.organization.pk] -= withheld
    return preview


def _row_unit(row: RawRow, organizations: dict[str, Organization],
              units: dict[int, dict[str, EmittingUnit]]) -> tuple[str, str, EmittingUnit | None, str | None]:
    """(the unit's code, the key duplicates are found by, the unit if it exists, a unit_code error)."""
    uscc = row.values.get("uscc", "").strip().upper()
    organization = organizations.get(uscc)
    if organization is None:
        return "", f"{uscc}/{row.values.get('unit_code', '').strip().upper()}", None, None
    code, unit, problem = unit_resolve(organization, row.values.get("unit_code", ""), units)
    return code, f"{uscc}/{code}", unit, problem


def _row_sector(row: RawRow, category: str, unit: EmittingUnit | None, errors: list[RowError]) -> str:
    """The row's sector: the `sector` column, which must agree with the category's and the unit's."""
    raw = row.values.get("sector", "").strip().lower()
    of_category = SECTOR_OF_CATEGORY.get(category, "")
    if raw and raw not in Sector.values:
        errors.append(RowError(row.number, "sector", _("unknown sector %(sector)s; use %(sectors)s") % {
            "sector": repr(raw), "sectors": ", ".join(Sector.values)}))
        return ""
    if raw and of_category and raw != of_category:
        errors.append(RowError(row.number, "sector", _("category %(category)s belongs to sector %(sector)s") % {
            "category": category, "sector": of_category}))
        return raw
    sector = raw or of_category
    if unit is not None and sector and unit.sector != sector:
        errors.append(RowError(row.number, "sector", _("unit %(code)s is in sector %(sector)s") % {
            "code": unit.code, "sector": unit.sector}))
    return sector


def _line_compute(line: PreviewLine, benchmark: Benchmark, *, kind: str, period: CompliancePeriod,
                  previous: CompliancePeriod | None, verified: dict[tuple[int, int], int], issue_percent: Decimal,
                  errors: list[RowError], row: int) -> None:
    """The line's computed allocation and issue by its benchmark row's method (errors: what is missing)."""
    unit_id = line.unit.pk if line.unit else None
    share = issue_percent
    if kind == AllocationPlan.Kind.PRE_ALLOCATION and benchmark.pre_allocation_share is not None:
        share = benchmark.pre_allocation_share
    basis = None  # the period whose verified emissions are the allocation (or the pre-allocation's estimate)
    if kind == AllocationPlan.Kind.PRE_ALLOCATION and benchmark.pre_allocation_basis == PreAllocationBasis.PREVIOUS_VERIFIED:
        basis = previous
        if basis is None:
            errors.append(RowError(row, "unit_category", _("no period precedes %(period)s") % {"period": period}))
            return
    elif benchmark.method == Method.VERIFIED:
        basis = benchmark.verified_period or period
    if basis is not None:
        line.verified_basis = verified.get((basis.pk, unit_id)) if unit_id else None
        if line.verified_basis is None:
            errors.append(RowError(row, "unit_code", _("unit %(code)s has no verified emissions for %(period)s") % {
                "code": line.unit_code, "period": basis}))
            return
        line.computed_allocation = line.verified_basis
    elif benchmark.method == Method.INTENSITY:
        if line.product_output_t is None:
            errors.append(RowError(row, "product_output_t", _("missing")))
            return
        line.computed_allocation = intensity_allocation(output_t=line.product_output_t, intensity=benchmark.product_intensity,
                                                        correction_factor=line.correction_factor)
    else:
        line.computed_allocation = allocation_for(
            electricity_mwh=line.electricity_mwh, heat_gj=line.heat_gj, correction_factor=line.correction_factor,
            electricity_benchmark=benchmark.electricity, heat_benchmark=benchmark.heat,
        )
    line.issue_amount = issue_share(line.computed_allocation, share)


def allocation_cuts(period: CompliancePeriod, organization_ids: set[int], *, before: dt.datetime | None = None) -> dict[int, Decimal]:
    """The share of each unit's allocation of `period` cut (AllocationCut; the largest if several),
    entered before `before` when given."""
    rows = AllocationCut.objects.filter(period=period, organization_id__in=organization_ids)
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    cuts: dict[int, Decimal] = {}
    for organization_id, percent in rows.values_list("organization_id", "percent"):
        cuts[organization_id] = max(percent, cuts.get(organization_id, Decimal(0)))
    return cuts


def allocation_cut_enter(*, organization: Organization, period: CompliancePeriod, percent: Decimal, reason: str,
                         actor: Any) -> AllocationCut:
    """Records a cut of `percent` of the unit's allocation of `period`, withheld by the plans of the
    period approved from now on. Call it inside the transaction of the decision that orders it."""
    if not Decimal(0) < percent <= Decimal(100):
        raise InvalidInput(_("The cut must be above 0 and at most 100 percent."), field="percent")
    with transaction.atomic():
        cut = AllocationCut.objects.create(organization=organization, period=period, percent=percent,
                                           reason=reason.strip()[:500], created_by=actor)
        audit_record(actor=actor, action="allocation_cut.enter", obj=cut,
                     after={"uscc": organization.uscc, "period": period.code, "percent": str(percent), "reason": cut.reason})
    return cut


def pending_deductions(period: CompliancePeriod, organization_ids: set[int]) -> dict[int, int]:
    rows = (
        Deduction.objects.filter(period=period, organization_id__in=organization_ids, remaining__gt=0)
        .values("organization_id").annotate(total=Sum("remaining"))
    )
    return {row["organization_id"]: row["total"] for row in rows}


def deduction_enter(*, organization: Organization, period: CompliancePeriod, tonnes: int, reason: str, actor: Any) -> Deduction:
    """Records a shortfall to withhold from the unit's allocation of `period` (applied by the next
    approved plan of that period, whose maker-checker covers it). `actor=None`: the compliance job."""
    return deductions_enter_many(period=period, shortfalls=[(organization, tonnes)], reason=reason, actor=actor)[0]


def deductions_enter_many(
    *, period: CompliancePeriod, shortfalls: list[tuple[Organization, int]], reason: str, actor: Any
) -> list[Deduction]:
    """`deduction_enter` for many units at once (the compliance deadline job's batches): the same rows
    and audit events, written in one INSERT each. Call it inside the transaction of the change."""
    if actor is not None:
        _require(actor, "allocation.add_allocationplan")
    if any(isinstance(tonnes, bool) or not isinstance(tonnes, int) or tonnes <= 0 for _, tonnes in shortfalls):
        raise InvalidInput(_("The deduction must be a positive whole number of tonnes."), field="tonnes")
    if not (reason or "").strip():
        raise InvalidInput(_("Give the reason (the shortfall it carries)."), field="reason")
    reason = reason.strip()
    with transaction.atomic():
        deductions = Deduction.objects.bulk_create(
            [Deduction(organization=organization, period=period, tonnes=tonnes, remaining=tonnes, reason=reason,
                       created_by=actor) for organization, tonnes in shortfalls],
            batch_size=1000,
        )
        audit_record_many(actor=actor, action="deduction.enter", objects=deductions, after=lambda d: {
            "uscc": d.organization.uscc, "period": period.code, "tonnes": d.tonnes, "reason": reason})
    return deductions


def deductions_reduce(*, organization: Organization, period: CompliancePeriod, tonnes: int, reason: str, actor: Any) -> int:
    """Lowers what is still to be withheld from the unit's allocation of `period` by up to `tonnes`
    (newest deduction first): a shortfall made good later (a forced surrender) is not deducted as
    well. Returns the tonnes taken off. Call it inside the transaction of the change."""
    left = tonnes
    with transaction.atomic():
        for deduction in list(Deduction.objects.select_for_update().filter(
                period=period, organization=organization, remaining__gt=0).order_by("-id")):
            if not left:
                break
            take = min(left, deduction.remaining)
            Deduction.objects.filter(pk=deduction.pk).update(remaining=deduction.remaining - take)
            audit_record(actor=actor, action="deduction.reduce", obj=deduction, before={"remaining": deduction.remaining},
                         after={"remaining": deduction.remaining - take, "reason": reason})
            left -= take
    return tonnes - left


def _deductions_apply(plan: AllocationPlan) -> None:
    """Consumes the deductions a plan's lines withheld, oldest first (under row locks), after the part an
    allocation cut withheld (its share of the line's issue before withholding; cuts are not consumed)."""
    lines = list(plan.lines.filter(deduction_amount__gt=0).values_list("organization_id", "deduction_amount", "issue_amount"))
    cuts = allocation_cuts(plan.period, {org for org, _, _ in lines}, before=plan.created_at)
    for organization_id, withheld, issued in lines:
        if organization_id in cuts:
            withheld -= min(withheld, issue_share(issued + withheld, cuts[organization_id]))
        for deduction in Deduction.objects.select_for_update().filter(
            period=plan.period, organization_id=organization_id, remaining__gt=0
        ).order_by("id"):
            if not withheld:
                break
            take = min(withheld, deduction.remaining)
            Deduction.objects.filter(pk=deduction.pk).update(remaining=deduction.remaining - take)
            withheld -= take
        if withheld:
            raise PlanNotInState(_("A deduction the plan withholds was applied elsewhere meanwhile; import the plan again."))


def allocation_import(
    *, period: CompliancePeriod, vintage: Asset, stream: IO[bytes], filename: str, actor: Any,
    issue_percent: Decimal = Decimal("70"), kind: str = AllocationPlan.Kind.PRE_ALLOCATION,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> AllocationPlan:
    """Saves a draft plan from a file: all rows or none (ImportRefused lists every row's error).
    `actor=None` is the system (an operator's batch import); it is only ever the maker.
    `progress(phase, done, total)`: reading (rows read), checking, saving (an admin import's job)."""
    if actor is not None:
        _require(actor, "allocation.add_allocationplan")
    if kind not in AllocationPlan.Kind.values:
        raise InvalidInput(_("Unknown plan kind %(kind)s.") % {"kind": repr(kind)}, field="kind")
    if kind == AllocationPlan.Kind.TRUE_UP:
        issue_percent = Decimal(100)  # a true-up settles on the whole final allocation
    if not period.vintages.filter(pk=vintage.pk).exists():
        raise InvalidInput(_("Period %(period)s does not allocate %(vintage)s.") % {"period": period, "vintage": vintage}, field="vintage")
    if not Decimal(0) < issue_percent <= Decimal(100) or issue_percent != issue_percent.quantize(Decimal("0.01")):
        raise InvalidInput(_("The issue share must be above 0 and at most %(max)s%%, with at most two decimals.") % {"max": 100},
                           field="issue_percent")
    rows = read_rows(stream, filename, progress=(lambda done: progress("reading", done, None)) if progress else None)
    if progress:
        progress("checking", len(rows), len(rows))
    preview = allocation_preview(period=period, rows=rows, issue_percent=issue_percent, actor=actor, kind=kind,
                                 vintage=vintage)
    if not preview.ok:
        raise ImportRefused(preview.errors)
    if progress:
        progress("saving", len(rows), len(rows))
    with transaction.atomic():
        plan = AllocationPlan.objects.create(
            period=period, kind=kind, vintage=vintage, issue_percent=issue_percent, source_name=filename[:200],
            created_by=actor, total_computed=preview.total_computed, total_issue=preview.total_issue,
            total_clawback=preview.total_clawback,
        )
        units = units_ensure((line.organization, line.unit_code, line.sector, line.unit_category) for line in preview.lines)
        AllocationLine.objects.bulk_create(
            [AllocationLine(plan=plan, organization=line.organization, unit=units[(line.organization.pk, line.unit_code)],
                            unit_category=line.unit_category, method=line.method, product_output_t=line.product_output_t,
                            verified_basis=line.verified_basis,
                            electricity_mwh=line.electricity_mwh, heat_gj=line.heat_gj, correction_factor=line.correction_factor,
                            computed_allocation=line.computed_allocation, issue_amount=line.issue_amount,
                            clawback_amount=line.clawback_amount, deduction_amount=line.deduction_amount,
                            issued_before=line.issued_before)
             for line in preview.lines],
            batch_size=2000,
        )
        audit_record(actor=actor, action="plan.import", obj=plan,
                     after={"file": filename, "kind": kind, "units": len(preview.lines), "total_computed": plan.total_computed,
                            "total_issue": plan.total_issue, "total_clawback": plan.total_clawback})
    return plan


def allocation_import_job(job: Any, stream: IO[bytes], progress: Callable[[str, int, int | None], None]) -> dict[str, Any]:
    """An admin import's job (core.import_jobs): the confirmed upload saved as a draft plan."""
    params = job.params
    plan = allocation_import(
        period=CompliancePeriod.objects.get(pk=params["period"]), vintage=Asset.objects.get(pk=params["vintage"]),
        stream=stream, filename=job.source_name or job.upload, actor=job.created_by,
        issue_percent=Decimal(params["issue_percent"]), kind=params["kind"], progress=progress,
    )
    return {"plan": plan.pk, "units": plan.lines.count(), "total_issue": plan.total_issue,
            "total_clawback": plan.total_clawback}


# --- maker-checker ---


def _transition(plan: AllocationPlan, *, from_status: str, checker: Any = None, **changes: Any) -> bool:
    """A conditional update: True for the one caller that moved the plan on (races lose cleanly).
    With a checker, the row itself must say someone else drafted and submitted it (not the caller's
    possibly stale copy of the plan)."""
    rows = AllocationPlan.objects.filter(pk=plan.pk, status=from_status)
    if checker is not None:
        rows = rows.exclude(created_by=checker).exclude(submitted_by=checker)
    if rows.update(**changes) == 1:
        return True
    if checker is not None and AllocationPlan.objects.filter(pk=plan.pk, status=from_status).exists():
        raise SameRegulator()
    return False


def plan_submit(*, plan: AllocationPlan, actor: Any, reason: str = "") -> AllocationPlan:
    """The maker submits a draft for a checker's approval, with the reason the checker will read."""
    _require(actor, "allocation.add_allocationplan")
    _require_plan_in_scope(plan, actor)
    reason = reason.strip()[:500]
    with transaction.atomic():
        if not _transition(plan, from_status=AllocationPlan.Status.DRAFT, status=AllocationPlan.Status.SUBMITTED, submitted_by=actor,
                           submission_reason=reason):
            raise PlanNotInState(_("Plan %(plan)s is %(status)s, not a draft.") % {"plan": plan.pk, "status": PLAN_STATUS_WORDS[plan.status]})
        audit_record(actor=actor, action="plan.submit", obj=plan, before={"status": plan.status},
                     after={"status": AllocationPlan.Status.SUBMITTED, "reason": reason})
    plan.refresh_from_db()
    return plan


def plan_approve(*, plan: AllocationPlan, actor: Any, reason: str = "") -> AllocationPlan:
    """The checker's approval: issues the plan's allowances once (the status moves from submitted to
    issued in the same transaction as the issuance, by a conditional update only one caller wins)."""
    _require(actor, "allocation.approve_allocationplan")
    _check_checker(plan, actor)
    with transaction.atomic():
        if not _transition(plan, from_status=AllocationPlan.Status.SUBMITTED, checker=actor, status=AllocationPlan.Status.ISSUED,
                           decided_by=actor, decided_at=timezone.now(), decision_reason=reason.strip()):
            raise PlanNotInState(_("Plan %(plan)s is not awaiting approval.") % {"plan": plan.pk})
        lines = list(plan.lines.values_list("organization_id", "issue_amount", "clawback_amount"))
        holdings = dict(
            Account.objects.filter(organization_id__in=[org for org, _, _ in lines], kind=Account.Kind.HOLDING)
            .values_list("organization_id", "pk")
        )
        missing = [org for org, _, _ in lines if org not in holdings]
        if missing:
            raise InvalidInput(_("%(count)s unit(s) have no registry holding account.") % {"count": len(missing)}, field="plan")
        accounts = Account.objects.in_bulk(list(holdings.values()))
        if plan.kind == AllocationPlan.Kind.TRUE_UP:
            _check_true_up_still_current(plan)
        _deductions_apply(plan)
        reference, memo = f"plan:{plan.pk}", f"Allocation plan {plan.pk}, period {plan.period}"
        issues = [(accounts[holdings[org]], amount) for org, amount, _ in lines if amount]
        clawbacks = [(accounts[holdings[org]], amount) for org, _, amount in lines if amount]
        if issues:
            allowances_issue_and_allocate(asset=plan.vintage, allocations=issues, actor=actor, reference=reference, memo=memo)
        if clawbacks:
            # All or none: a unit that no longer holds enough stops the whole approval (InsufficientBalance
            # names it); the regulators then freeze, or deduct the rest at the next allocation.
            allowances_clawback(asset=plan.vintage, clawbacks=clawbacks, actor=actor, reference=reference, memo=memo)
        audit_record(actor=actor, action="plan.approve", obj=plan, before={"status": AllocationPlan.Status.SUBMITTED},
                     after={"status": AllocationPlan.Status.ISSUED, "total_issue": plan.total_issue,
                            "total_clawback": plan.total_clawback, "reason": reason})
    plan.refresh_from_db()
    return plan


def _check_true_up_still_current(plan: AllocationPlan) -> None:
    """A true-up's differences were worked out against what had been settled when it was drafted;
    if another plan of the period has been approved since, they are stale."""
    lines = list(plan.lines.values_list("unit_id", "issued_before"))
    now = issued_to_date(plan.period, plan.vintage, {unit for unit, _ in lines}, excluding=plan)
    if any(now.get(unit, 0) != before for unit, before in lines):
        raise PlanNotInState(
            _("Another plan of %(period)s was approved after true-up plan %(plan)s was drafted; import it again.")
            % {"period": plan.period, "plan": plan.pk}
        )


def plan_reject(*, plan: AllocationPlan, actor: Any, reason: str) -> AllocationPlan:
    _require(actor, "allocation.approve_allocationplan")
    _check_checker(plan, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the rejection."), field="reason")
    with transaction.atomic():
        if not _transition(plan, from_status=AllocationPlan.Status.SUBMITTED, checker=actor, status=AllocationPlan.Status.REJECTED,
                           decided_by=actor, decided_at=timezone.now(), decision_reason=reason):
            raise PlanNotInState(_("Plan %(plan)s is not awaiting approval.") % {"plan": plan.pk})
        audit_record(actor=actor, action="plan.reject", obj=plan, before={"status": AllocationPlan.Status.SUBMITTED},
                     after={"status": AllocationPlan.Status.REJECTED, "reason": reason})
    plan.refresh_from_db()
    return plan


def _check_checker(plan: AllocationPlan, actor: Any) -> None:
    if actor.pk in {plan.created_by_id, plan.submitted_by_id}:
        raise SameRegulator()
    _require_plan_in_scope(plan, actor)


def _require_plan_in_scope(plan: AllocationPlan, actor: Any) -> None:
    outside = plan.lines.exclude(organization__in=organizations_visible_to(actor)).exists()
    if outside:
        raise PermissionDenied(_("The plan has units outside your province."))
