"""Compliance periods, benchmark tables and allocation plans (RULEBOOK.md: Allocation).

Allocation lines hold the inputs and the computed figures; the ledger holds what was issued. A plan
is drafted (imported), submitted by one regulator and approved by another, which issues it once.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization
from registry.models import Asset


class UnitCategory(models.TextChoices):
    COAL_GT300 = "coal_gt300", "Coal, above 300 MW"
    COAL_LE300 = "coal_le300", "Coal, 300 MW and below"
    COAL_UNCONVENTIONAL = "coal_unconventional", "Unconventional coal"
    GAS = "gas", "Gas"


class CompliancePeriod(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    code = models.CharField(max_length=9, unique=True, help_text="2021, or 2019-2020 for a two-year period")
    first_year = models.PositiveSmallIntegerField()
    last_year = models.PositiveSmallIntegerField()
    vintages = models.ManyToManyField(Asset, related_name="compliance_periods", limit_choices_to={"kind": Asset.Kind.ALLOWANCE})
    emission_report_deadline = models.DateField()
    verification_deadline = models.DateField()
    surrender_deadline = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class FineRegime(models.TextChoices):
        INTERIM_REGULATIONS = "interim_2024", "Interim Regulations (2024): 5-10 x shortfall x average price"
        MEASURES_2021 = "measures_2021", "2021 Measures: 20,000-30,000 CNY"

    fine_regime = models.CharField(max_length=16, choices=FineRegime.choices, default=FineRegime.INTERIM_REGULATIONS)

    class Meta:
        ordering = ["-first_year"]
        constraints = [models.CheckConstraint(condition=Q(last_year__gte=models.F("first_year")), name="period_years_ordered")]

    def __str__(self) -> str:
        return self.code


class Benchmark(models.Model):
    """One row of a period's benchmark table; regulators may edit it before plans are computed."""

    period = models.ForeignKey(CompliancePeriod, on_delete=models.CASCADE, related_name="benchmarks")
    unit_category = models.CharField(max_length=24, choices=UnitCategory.choices)
    electricity = models.DecimalField(max_digits=8, decimal_places=4, help_text="tCO2 per MWh of electricity")
    heat = models.DecimalField(max_digits=8, decimal_places=4, help_text="tCO2 per GJ of heat")

    class Meta:
        ordering = ["period", "unit_category"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit_category"], name="benchmark_once_per_category"),
            models.CheckConstraint(condition=Q(electricity__gte=0) & Q(heat__gte=0), name="benchmark_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.unit_category}: {self.electricity} t/MWh, {self.heat} t/GJ"


class AllocationPlan(models.Model):
    class Kind(models.TextChoices):
        PRE_ALLOCATION = "pre_allocation", "Pre-allocation (a share of the estimate)"
        TRUE_UP = "true_up", "True-up to the final allocation (top-up or claw-back)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for approval"
        ISSUED = "issued", "Approved and issued"
        REJECTED = "rejected", "Rejected"

    period = models.ForeignKey(CompliancePeriod, on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PRE_ALLOCATION)
    vintage = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    issue_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("70.00"), help_text="Share of the computed allocation issued now"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    source_name = models.CharField(max_length=200, blank=True, help_text="The imported file")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submission_reason = models.CharField(max_length=500, blank=True, help_text="The maker's reason, given at submission")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    total_computed = models.BigIntegerField(default=0)
    total_issue = models.BigIntegerField(default=0)
    total_clawback = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("approve_allocationplan", "Can approve or reject an allocation plan (the checker)")]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({self.period}, {self.vintage}, {self.get_status_display()})"


class AllocationLine(models.Model):
    plan = models.ForeignKey(AllocationPlan, on_delete=models.CASCADE, related_name="lines")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="allocation_lines")
    unit_category = models.CharField(max_length=24, choices=UnitCategory.choices)
    electricity_mwh = models.DecimalField(max_digits=16, decimal_places=3)
    heat_gj = models.DecimalField(max_digits=16, decimal_places=3)
    correction_factor = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("1"))
    computed_allocation = models.BigIntegerField(help_text="Whole tonnes, by the benchmark formula")
    issue_amount = models.BigIntegerField(help_text="What this plan issues to the unit")
    clawback_amount = models.BigIntegerField(default=0, help_text="What a true-up takes back from the unit")
    deduction_amount = models.BigIntegerField(default=0, help_text="Earlier shortfalls withheld from this plan's issue")
    issued_before = models.BigIntegerField(default=0, help_text="True-up: what earlier plans had settled when it was drafted")

    class Meta:
        ordering = ["plan", "organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "organization"], name="allocation_line_once_per_unit"),
            models.CheckConstraint(
                condition=Q(electricity_mwh__gte=0) & Q(heat_gj__gte=0) & Q(correction_factor__gt=0)
                & Q(computed_allocation__gte=0) & Q(issue_amount__gte=0) & Q(clawback_amount__gte=0)
                & Q(deduction_amount__gte=0),
                name="allocation_line_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.uscc}: {self.computed_allocation} t"


class Deduction(models.Model):
    """A unit's earlier shortfall, withheld from its allocation of `period` (RULEBOOK.md: equal
    quantity). Entered by the compliance deadline job (or a regulator); applied, in whole or in part,
    when a plan of the period that includes the unit is approved, so the plan's maker-checker covers it."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="deductions")
    period = models.ForeignKey(CompliancePeriod, on_delete=models.PROTECT, related_name="deductions")
    tonnes = models.BigIntegerField()
    remaining = models.BigIntegerField(help_text="Not yet withheld by an approved plan")
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(tonnes__gt=0) & Q(remaining__gte=0) & Q(remaining__lte=models.F("tonnes")),
                                   name="deduction_amounts_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.remaining} of {self.tonnes} t to withhold"
