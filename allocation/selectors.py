"""What the allocation pages read: a plan's totals for the checker who approves it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Sum

from accounts.provinces import province_name
from allocation.models import AllocationLine, AllocationPlan, UnitCategory

_SUMS = {"units": Count("id"), "computed": Sum("computed_allocation"), "issue": Sum("issue_amount"),
         "clawback": Sum("clawback_amount"), "deduction": Sum("deduction_amount")}


@dataclass(frozen=True)
class PlanTotals:
    """A plan's lines summed: in all, by unit category and by province (rows: label, units, computed,
    issue, clawback, deduction), largest issue first."""

    overall: dict[str, int]
    by_category: list[dict[str, object]]
    by_province: list[dict[str, object]]


def plan_totals(plan: AllocationPlan) -> PlanTotals:
    lines = AllocationLine.objects.filter(plan=plan)
    overall = {key: value or 0 for key, value in lines.aggregate(**_SUMS).items()}
    categories = dict(UnitCategory.choices)
    by_category = [{**row, "label": categories.get(row["unit_category"], row["unit_category"])}
                   for row in lines.values("unit_category").annotate(**_SUMS).order_by("-issue", "unit_category")]
    by_province = [{**row, "label": province_name(row["organization__province"])}
                   for row in lines.values("organization__province").annotate(**_SUMS).order_by("-issue", "organization__province")]
    return PlanTotals(overall=overall, by_category=by_category, by_province=by_province)


def plan_lines(plan: AllocationPlan, search: str = "") -> QuerySet[AllocationLine]:
    """The plan's lines in the order of the imported file's rows (the import saves them in that order,
    so their ids follow it), with `difference`: what the line issues less what it takes back; those
    whose unit's name or USCC contains `search`."""
    lines = (AllocationLine.objects.filter(plan=plan).select_related("organization")
             .annotate(difference=F("issue_amount") - F("clawback_amount")).order_by("id"))
    search = search.strip()
    if search:
        lines = lines.filter(organization__name__icontains=search) | lines.filter(organization__uscc__icontains=search.upper())
    return lines
