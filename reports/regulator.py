"""The regulator's home (/regulator/): what waits for this regulator, and the state of the market it
regulates (the whole country for a national regulator, its province for a provincial one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, Sum
from django.utils import timezone

from accounts.provinces import province_name
from accounts.selectors import organizations_visible_to, sees_all_organizations
from allocation.models import AllocationLine, AllocationPlan, CompliancePeriod
from compliance.models import EmissionReport, Surrender
from compliance.selectors import Obligation, obligations, regulator_queue
from registry.models import Account, Asset, Balance

LARGEST_SHORTFALLS = 10


@dataclass
class ProvinceProgress:
    """A province's compliance in a period: units by status and the share of the obligations covered."""

    code: str
    units: int = 0
    obligation: int = 0
    covered: int = 0  # surrendered, up to each unit's obligation
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return province_name(self.code)

    @property
    def covered_percent(self) -> float:
        return 100.0 * self.covered / self.obligation if self.obligation else 0.0

    @property
    def bars(self) -> list[tuple[str, int, float]]:
        """(status, units, percent of the province's units) for the chart's stacked bar: A, B, C, open."""
        return [(status, self.statuses[status], 100.0 * self.statuses[status] / self.units)
                for status in ("A", "B", "C", "open") if self.statuses.get(status)]


@dataclass
class Workload:
    plans_to_approve: list[AllocationPlan]
    my_plans_waiting: list[AllocationPlan]
    my_drafts: list[AllocationPlan]
    reports_to_confirm: int
    objections: list[EmissionReport]  # soonest decision first
    overdue: int


def workload(user: Any) -> Workload:
    plans = AllocationPlan.objects.select_related("period", "vintage", "created_by")
    if not sees_all_organizations(user):  # a provincial regulator: plans all of whose units are in its province
        outside = AllocationLine.objects.exclude(organization__in=organizations_visible_to(user))
        plans = plans.exclude(pk__in=outside.values("plan_id"))
    mine = Q(created_by=user) | Q(submitted_by=user)
    submitted = plans.filter(status=AllocationPlan.Status.SUBMITTED)
    to_approve = list(submitted.exclude(mine)) if user.has_perm("allocation.approve_allocationplan") else []
    queue = regulator_queue(user)
    objections = list(queue.filter(status=EmissionReport.Status.OBJECTED).order_by("decision_due", "id"))
    today = timezone.localdate()
    return Workload(
        plans_to_approve=to_approve,
        my_plans_waiting=list(submitted.filter(mine)),
        my_drafts=list(plans.filter(status=AllocationPlan.Status.DRAFT, created_by=user)),
        reports_to_confirm=queue.filter(status=EmissionReport.Status.VERIFIED).count(),
        objections=objections,
        overdue=sum(1 for report in objections if report.decision_due and report.decision_due < today),
    )


@dataclass
class MarketState:
    allocated: int  # allowances allocated to the units in scope by approved plans, net of claw-backs
    held: int  # allowances in their holding accounts now
    surrendered: int  # allowances and CCER they surrendered
    period: CompliancePeriod | None
    provinces: list[ProvinceProgress]
    largest_shortfalls: list[Obligation]


def market_state(user: Any) -> MarketState:
    units = organizations_visible_to(user)
    allocated = AllocationLine.objects.filter(plan__status=AllocationPlan.Status.ISSUED, organization__in=units).aggregate(
        total=Sum(F("issue_amount") - F("clawback_amount")))["total"] or 0
    held = Balance.objects.filter(account__kind=Account.Kind.HOLDING, account__organization__in=units,
                                  asset__kind=Asset.Kind.ALLOWANCE).aggregate(
        total=Sum(Balance.total_expression()))["total"] or 0  # not carried over too: held, though dead
    surrendered = Surrender.objects.filter(organization__in=units).aggregate(total=Sum("quantity"))["total"] or 0
    # The period being complied with: the earliest open one, else the latest.
    period = (CompliancePeriod.objects.filter(status=CompliancePeriod.Status.OPEN).order_by("first_year").first()
              or CompliancePeriod.objects.order_by("-first_year").first())
    provinces: dict[str, ProvinceProgress] = {}
    found: list[Obligation] = []
    if period is not None:
        found = obligations(period, None if sees_all_organizations(user) else set(units.values_list("pk", flat=True)))
        for obligation in found:
            progress = provinces.setdefault(obligation.organization.province, ProvinceProgress(obligation.organization.province))
            progress.units += 1
            progress.obligation += obligation.obligation
            progress.covered += min(obligation.surrendered, obligation.obligation)
            progress.statuses[obligation.status] = progress.statuses.get(obligation.status, 0) + 1
    largest = sorted((o for o in found if o.shortfall), key=lambda o: (-o.shortfall, o.organization.name))
    return MarketState(allocated=allocated, held=held, surrendered=surrendered, period=period,
                       provinces=sorted(provinces.values(), key=lambda p: p.name),
                       largest_shortfalls=largest[:LARGEST_SHORTFALLS])
