"""Obligations: what each unit owes for a period, worked out from the allocation, the verified
emissions and the surrenders (RULEBOOK.md: Allocation (shortfall cap), Compliance cycle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from allocation.models import AllocationLine, AllocationPlan, CompliancePeriod, EmittingUnit, Sector, UnitCategory
from allocation.units import units_by_organization
from compliance.models import ComplianceResult, EmissionReport, Surrender, VerifiedEmission, VerifierAssignment
from core.errors import NotFound
from core.models import AuditEvent
from registry.models import Asset


@dataclass
class UnitObligation:
    """One unit's part of its company's obligation."""

    code: str
    sector: str
    category: str
    allocated: int
    verified_emissions: int | None
    obligation: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "sector": self.sector, "category": self.category, "allocated": self.allocated,
                "verified_emissions": self.verified_emissions, "obligation": self.obligation}


@dataclass
class Obligation:
    """A company's obligation: the sum of its units' (each capped by the shortfall cap on its own)."""

    organization: Organization
    period: CompliancePeriod
    allocated: int
    verified_emissions: int | None
    obligation: int
    surrendered_allowances: int
    surrendered_offsets: int
    gas: bool
    status: str = "open"
    units: list[UnitObligation] = field(default_factory=list)

    @property
    def surrendered(self) -> int:
        return self.surrendered_allowances + self.surrendered_offsets

    @property
    def shortfall(self) -> int:
        return max(self.obligation - self.surrendered, 0)

    @property
    def offset_cap(self) -> int:
        """CCER may cover at most this share of the obligation (whole tonnes, rounded down)."""
        return int((Decimal(self.obligation) * settings.COMPLIANCE_OFFSET_SHARE).to_integral_value(rounding=ROUND_FLOOR))


def unit_text(unit: dict[str, Any]) -> str:
    """A unit's part of the obligation as a person reads it (the compliance table, its exports, the admin):
    "P1 (Power): allocated 81,770 t, verified 90,000 t, obligation 90,000 t"."""
    verified = unit.get("verified_emissions")
    return _("%(code)s (%(sector)s): allocated %(allocated)s t, verified %(verified)s t, obligation %(obligation)s t") % {
        "code": unit["code"], "sector": dict(Sector.choices).get(unit["sector"], unit["sector"]),
        "allocated": f"{unit['allocated']:,}", "verified": "—" if verified is None else f"{verified:,}",
        "obligation": f"{unit['obligation']:,}"}


def obligation_amount(*, allocated: int, verified: int | None, gas: bool) -> int:
    """The verified emissions, capped at the free allocation plus 20 % of them; a gas unit's at its
    allocation (it pays nothing for a shortfall). No verified emissions: nothing is known yet."""
    if verified is None:
        return 0
    if gas:
        return min(verified, allocated)
    cap = allocated + int((Decimal(verified) * settings.COMPLIANCE_SHORTFALL_CAP_SHARE).to_integral_value(rounding=ROUND_FLOOR))
    return min(verified, cap)


def obligations(period: CompliancePeriod, organization_ids: set[int] | None = None) -> list[Obligation]:
    """One per company that was allocated in the period or has verified emissions for it, with its
    units' breakdown. Each unit's obligation is worked out on its own (a gas unit's is capped at its
    allocation) and the company's is their sum; its verified emissions are its units' that are known
    (None: none of them is)."""
    lines = AllocationLine.objects.filter(plan__period=period, plan__status=AllocationPlan.Status.ISSUED)
    verified_rows = VerifiedEmission.objects.filter(period=period)
    surrenders = Surrender.objects.filter(period=period)
    if organization_ids is not None:
        lines = lines.filter(organization_id__in=organization_ids)
        verified_rows = verified_rows.filter(organization_id__in=organization_ids)
        surrenders = surrenders.filter(organization_id__in=organization_ids)
    allocated: dict[int, int] = {}
    unit_of: dict[int, int] = {}
    for row in lines.values("organization_id", "unit_id").annotate(
        issued=Sum("issue_amount"), withheld=Sum("deduction_amount"), clawed=Sum("clawback_amount")
    ).order_by():
        allocated[row["unit_id"]] = row["issued"] + row["withheld"] - row["clawed"]
        unit_of[row["unit_id"]] = row["organization_id"]
    categories = dict(lines.order_by("plan_id").values_list("unit_id", "unit_category"))
    verified: dict[int, int] = {}
    for organization_id, unit_id, tonnes in verified_rows.order_by().values_list("organization_id", "unit_id", "tonnes"):
        verified[unit_id] = tonnes
        unit_of[unit_id] = organization_id
    units_by_org: dict[int, list[UnitObligation]] = {}
    for unit_id, code, sector, category in EmittingUnit.objects.filter(pk__in=unit_of).order_by("code").values_list(
            "pk", "code", "sector", "category"):
        category = categories.get(unit_id, category)
        given, emitted = allocated.get(unit_id, 0), verified.get(unit_id)
        units_by_org.setdefault(unit_of[unit_id], []).append(UnitObligation(
            code=code, sector=sector, category=category, allocated=given, verified_emissions=emitted,
            obligation=obligation_amount(allocated=given, verified=emitted, gas=category == UnitCategory.GAS)))
    surrendered: dict[tuple[int, str], int] = {}
    for row in surrenders.values("organization_id", "asset__kind").annotate(total=Sum("quantity")).order_by():
        surrendered[(row["organization_id"], row["asset__kind"])] = row["total"]
    results = dict(ComplianceResult.objects.filter(period=period).values_list("organization_id", "status"))
    out = []
    for organization in Organization.objects.filter(pk__in=units_by_org).order_by("name"):
        units = units_by_org[organization.pk]
        known = [unit.verified_emissions for unit in units if unit.verified_emissions is not None]
        out.append(Obligation(
            organization=organization, period=period, allocated=sum(unit.allocated for unit in units),
            verified_emissions=sum(known) if known else None, obligation=sum(unit.obligation for unit in units),
            surrendered_allowances=surrendered.get((organization.pk, Asset.Kind.ALLOWANCE), 0),
            surrendered_offsets=surrendered.get((organization.pk, Asset.Kind.OFFSET), 0),
            gas=all(unit.category == UnitCategory.GAS for unit in units), status=results.get(organization.pk, "open"),
            units=units,
        ))
    return out


def obligation_of(period: CompliancePeriod, organization: Organization) -> Obligation | None:
    found = obligations(period, {organization.pk})
    return found[0] if found else None


def obligations_visible_to(user: Any, period: CompliancePeriod) -> list[Obligation]:
    """Own obligations for company users; all within scope for regulators and auditors."""
    return obligations(period, set(organizations_visible_to(user).values_list("pk", flat=True)))


# --- emission reports ---


def reports_visible_to(user: Any) -> QuerySet[EmissionReport]:
    """Regulators and auditors: the reports within their scope; a verifier: those of the units
    assigned to it for the report's period; a compliance officer: its own unit's; anyone else: none."""
    reports = EmissionReport.objects.select_related("period", "organization", "unit")
    if not getattr(user, "is_authenticated", False):
        return reports.none()
    if user.has_perm("compliance.view_emissionreport"):
        return reports.filter(organization__in=organizations_visible_to(user))
    if user.has_perm("compliance.verify_emissionreport"):
        assigned = VerifierAssignment.objects.filter(verifier=user, period=OuterRef("period"),
                                                     organization=OuterRef("organization"))
        return reports.filter(Exists(assigned))
    if user.has_perm("compliance.add_emissionreport"):
        return reports.filter(organization__in=organizations_visible_to(user))
    return reports.none()


def report_get_for(user: Any, report_id: int) -> EmissionReport:
    report = reports_visible_to(user).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such emission report."))
    return report


def report_history(report: EmissionReport) -> QuerySet[AuditEvent]:
    """The report's steps, oldest first, from the audit trail."""
    return AuditEvent.objects.filter(object_type=EmissionReport._meta.label_lower, object_id=str(report.pk)).order_by("id")


def verifier_queue(user: Any) -> list[tuple[VerifierAssignment, list[EmissionReport], list[str]]]:
    """The companies assigned to a verifier, each with its units' reports for the period (none: not
    filed yet) and the codes of its units that have filed none."""
    assignments = list(VerifierAssignment.objects.filter(verifier=user).select_related("period", "organization")
                       .order_by("-period__first_year", "organization__name"))
    reports: dict[tuple[int, int], list[EmissionReport]] = {}
    for report in EmissionReport.objects.filter(organization_id__in={a.organization_id for a in assignments}).select_related(
            "period", "organization", "unit").order_by("unit__code"):
        reports.setdefault((report.period_id, report.organization_id), []).append(report)
    units = units_by_organization(a.organization_id for a in assignments)
    rows = []
    for assignment in assignments:
        filed = reports.get((assignment.period_id, assignment.organization_id), [])
        codes = {report.unit.code for report in filed}
        rows.append((assignment, filed, [code for code in units.get(assignment.organization_id, {}) if code not in codes]))
    return rows


def units_to_report(organization: Organization) -> list[tuple[CompliancePeriod, list[str]]]:
    """The company's units that have filed no report for the periods it is to report for (a verifier
    is assigned to it and the deadline job has not run), by period."""
    periods = CompliancePeriod.objects.filter(verifier_assignments__organization=organization).exclude(
        results__isnull=False).order_by("-first_year").distinct()
    units = list(units_by_organization([organization.pk]).get(organization.pk, {}))
    filed = set(EmissionReport.objects.filter(organization=organization).values_list("period_id", "unit__code"))
    found = [(period, [code for code in units if (period.pk, code) not in filed]) for period in periods]
    return [(period, codes) for period, codes in found if codes]


def regulator_queue(user: Any) -> QuerySet[EmissionReport]:
    """Reports within the user's scope waiting for a provincial regulator: verified (to confirm) or
    objected (to decide)."""
    if not user.has_perm("compliance.view_emissionreport"):
        return EmissionReport.objects.none()
    return reports_visible_to(user).filter(
        status__in=[EmissionReport.Status.VERIFIED, EmissionReport.Status.OBJECTED]).order_by("verified_at")
