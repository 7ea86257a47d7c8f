"""Compliance periods, benchmark tables and allocation plans (RULEBOOK.md: Allocation).

Allocation lines hold the inputs and the computed figures; the ledger holds what was issued. A plan
is drafted (imported), submitted by one regulator and approved by another, which issues it once.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from registry.models import Asset


class UnitCategory(models.TextChoices):
    COAL_GT300 = "coal_gt300", _("Coal, above 300 MW")
    COAL_LE300 = "coal_le300", _("Coal, 300 MW and below")
    COAL_UNCONVENTIONAL = "coal_unconventional", _("Unconventional coal")
    GAS = "gas", _("Gas")


class CompliancePeriod(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("code"), max_length=9, unique=True, help_text=_("2021, or 2019-2020 for a two-year period"))
    first_year = models.PositiveSmallIntegerField(_("first year"))
    last_year = models.PositiveSmallIntegerField(_("last year"))
    vintages = models.ManyToManyField(Asset, verbose_name=_("vintages"), related_name="compliance_periods", limit_choices_to={"kind": Asset.Kind.ALLOWANCE})
    emission_report_deadline = models.DateField(_("emission report deadline"))
    verification_deadline = models.DateField(_("verification deadline"))
    surrender_deadline = models.DateField(_("surrender deadline"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)

    class FineRegime(models.TextChoices):
        INTERIM_REGULATIONS = "interim_2024", _("Interim Regulations (2024): 5-10 x shortfall x average price")
        MEASURES_2021 = "measures_2021", _("2021 Measures: 20,000-30,000 CNY")

    fine_regime = models.CharField(_("fine regime"), max_length=16, choices=FineRegime.choices, default=FineRegime.INTERIM_REGULATIONS)

    class Meta:
        verbose_name = _("compliance period")
        verbose_name_plural = _("compliance periods")
        ordering = ["-first_year"]
        constraints = [models.CheckConstraint(condition=Q(last_year__gte=models.F("first_year")), name="period_years_ordered")]

    def __str__(self) -> str:
        return self.code


class Benchmark(models.Model):
    """One row of a period's benchmark table; regulators may edit it before plans are computed."""

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.CASCADE, related_name="benchmarks")
    unit_category = models.CharField(_("unit category"), max_length=24, choices=UnitCategory.choices)
    electricity = models.DecimalField(_("electricity"), max_digits=8, decimal_places=4, help_text=_("tCO2 per MWh of electricity"))
    heat = models.DecimalField(_("heat"), max_digits=8, decimal_places=4, help_text=_("tCO2 per GJ of heat"))

    class Meta:
        verbose_name = _("benchmark")
        verbose_name_plural = _("benchmarks")
        ordering = ["period", "unit_category"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit_category"], name="benchmark_once_per_category"),
            models.CheckConstraint(condition=Q(electricity__gte=0) & Q(heat__gte=0), name="benchmark_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(period)s %(category)s: %(electricity)s t/MWh, %(heat)s t/GJ") % {
            "period": self.period, "category": self.get_unit_category_display(), "electricity": self.electricity,
            "heat": self.heat}


class AllocationPlan(models.Model):
    class Kind(models.TextChoices):
        PRE_ALLOCATION = "pre_allocation", _("Pre-allocation (a share of the estimate)")
        TRUE_UP = "true_up", _("True-up to the final allocation (top-up or claw-back)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        ISSUED = "issued", _("Approved and issued")
        REJECTED = "rejected", _("Rejected")

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PRE_ALLOCATION)
    vintage = models.ForeignKey(Asset, verbose_name=_("vintage"), on_delete=models.PROTECT, related_name="+")
    issue_percent = models.DecimalField(
        _("issue percent"), max_digits=5, decimal_places=2, default=Decimal("70.00"), help_text=_("Share of the computed allocation issued now")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    source_name = models.CharField(_("source name"), max_length=200, blank=True, help_text=_("The imported file"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submission_reason = models.CharField(_("submission reason"), max_length=500, blank=True, help_text=_("The maker's reason, given at submission"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)
    total_computed = models.BigIntegerField(_("total computed"), default=0)
    total_issue = models.BigIntegerField(_("total issue"), default=0)
    total_clawback = models.BigIntegerField(_("total clawback"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation plan")
        verbose_name_plural = _("allocation plans")
        ordering = ["-id"]
        permissions = [("approve_allocationplan", "Can approve or reject an allocation plan (the checker)")]

    def __str__(self) -> str:
        return gettext("Plan %(id)s (%(period)s, %(vintage)s, %(status)s)") % {
            "id": self.pk, "period": self.period, "vintage": self.vintage, "status": self.get_status_display()}


class AllocationLine(models.Model):
    plan = models.ForeignKey(AllocationPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="lines")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="allocation_lines")
    unit_category = models.CharField(_("unit category"), max_length=24, choices=UnitCategory.choices)
    electricity_mwh = models.DecimalField(_("electricity (MWh)"), max_digits=16, decimal_places=3)
    heat_gj = models.DecimalField(_("heat (GJ)"), max_digits=16, decimal_places=3)
    correction_factor = models.DecimalField(_("correction factor"), max_digits=6, decimal_places=4, default=Decimal("1"))
    computed_allocation = models.BigIntegerField(_("computed allocation"), help_text=_("Whole tonnes, by the benchmark formula"))
    issue_amount = models.BigIntegerField(_("issue amount"), help_text=_("What this plan issues to the unit"))
    clawback_amount = models.BigIntegerField(_("clawback amount"), default=0, help_text=_("What a true-up takes back from the unit"))
    deduction_amount = models.BigIntegerField(_("deduction amount"), default=0, help_text=_("Earlier shortfalls withheld from this plan's issue"))
    issued_before = models.BigIntegerField(_("issued before"), default=0, help_text=_("True-up: what earlier plans had settled when it was drafted"))

    class Meta:
        verbose_name = _("allocation line")
        verbose_name_plural = _("allocation lines")
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
        return gettext("%(uscc)s: %(tonnes)s t") % {"uscc": self.organization.uscc, "tonnes": f"{self.computed_allocation:,}"}


class Deduction(models.Model):
    """A unit's earlier shortfall, withheld from its allocation of `period` (RULEBOOK.md: equal
    quantity). Entered by the compliance deadline job (or a regulator); applied, in whole or in part,
    when a plan of the period that includes the unit is approved, so the plan's maker-checker covers it."""

    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="deductions")
    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="deductions")
    tonnes = models.BigIntegerField(_("quantity"))
    remaining = models.BigIntegerField(_("remaining"), help_text=_("Not yet withheld by an approved plan"))
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(tonnes__gt=0) & Q(remaining__gte=0) & Q(remaining__lte=models.F("tonnes")),
                                   name="deduction_amounts_valid"),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s %(period)s: %(remaining)s of %(tonnes)s t to withhold") % {
            "uscc": self.organization.uscc, "period": self.period, "remaining": f"{self.remaining:,}",
            "tonnes": f"{self.tonnes:,}"}


class AllocationCut(models.Model):
    """A share of a unit's allocation of `period` withheld from every plan of the period approved after
    it was entered (Interim Regulations Art. 22: 50 % to 100 % of the next year's allocation cut for
    a company that refuses to correct falsified data). Entered by an approved enforcement decision;
    each plan's line withholds `percent` of its issue (rounded half up) in its deduction amount, so the
    plan's maker-checker covers it like a shortfall deduction."""

    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="allocation_cuts")
    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="allocation_cuts")
    percent = models.DecimalField(_("share cut (percent)"), max_digits=5, decimal_places=2, help_text=_("Share of each plan's issue withheld"))
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation cut")
        verbose_name_plural = _("allocation cuts")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=100), name="allocation_cut_percent_valid")]

    def __str__(self) -> str:
        return gettext("%(uscc)s %(period)s: %(percent)s%% of the allocation cut") % {
            "uscc": self.organization.uscc, "period": self.period, "percent": self.percent}
