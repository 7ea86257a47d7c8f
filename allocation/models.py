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
from accounts.provinces import PROVINCE_CHOICES
from registry.models import Asset


class Sector(models.TextChoices):
    """The covered sectors (RULEBOOK.md: 2024-2026 rules, expansion)."""

    POWER = "power", _("Power")
    STEEL = "steel", _("Steel")
    CEMENT = "cement", _("Cement")
    ALUMINIUM = "aluminium", _("Aluminium")


class UnitCategory(models.TextChoices):
    COAL_GT300 = "coal_gt300", _("Coal, above 300 MW")
    COAL_LE300 = "coal_le300", _("Coal, 300 MW and below")
    COAL_UNCONVENTIONAL = "coal_unconventional", _("Unconventional coal")
    GAS = "gas", _("Gas")
    CRUDE_STEEL = "crude_steel", _("Crude steel (blast furnace-basic oxygen furnace)")
    CLINKER = "clinker", _("Cement clinker")
    ALUMINIUM = "aluminium", _("Primary aluminium (electrolysis)")


# The sector each category belongs to.
SECTOR_OF_CATEGORY: dict[str, str] = {
    UnitCategory.COAL_GT300: Sector.POWER, UnitCategory.COAL_LE300: Sector.POWER,
    UnitCategory.COAL_UNCONVENTIONAL: Sector.POWER, UnitCategory.GAS: Sector.POWER,
    UnitCategory.CRUDE_STEEL: Sector.STEEL, UnitCategory.CLINKER: Sector.CEMENT, UnitCategory.ALUMINIUM: Sector.ALUMINIUM,
}


class Method(models.TextChoices):
    """How a benchmark row computes a unit's allocation."""

    BENCHMARK = "benchmark", _("Benchmark: electricity x benchmark x correction factor + heat x heat benchmark")
    INTENSITY = "intensity", _("Intensity: product output x intensity benchmark x correction factor")
    VERIFIED = "verified", _("Verified: the unit's verified emissions of a given period")


class PreAllocationBasis(models.TextChoices):
    ESTIMATE = "estimate", _("The allocation computed from the plan's file")
    PREVIOUS_VERIFIED = "previous_verified", _("The unit's verified emissions of the previous year")


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
    """One row of a period's benchmark table: the method that computes the allocation of a category's
    units and its parameters; regulators may edit it before plans are computed (each edit is audited
    and kept in the admin's history)."""

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.CASCADE, related_name="benchmarks")
    sector = models.CharField(_("sector"), max_length=12, choices=Sector.choices, default=Sector.POWER)
    unit_category = models.CharField(_("unit category"), max_length=24, choices=UnitCategory.choices)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.BENCHMARK)
    electricity = models.DecimalField(_("electricity"), max_digits=8, decimal_places=4, default=Decimal(0),
                                      help_text=_("tCO2 per MWh of electricity"))
    heat = models.DecimalField(_("heat"), max_digits=8, decimal_places=4, default=Decimal(0), help_text=_("tCO2 per GJ of heat"))
    product_intensity = models.DecimalField(_("product intensity"), max_digits=8, decimal_places=4, null=True, blank=True,
                                            help_text=_("tCO2e per tonne of product (intensity method)"))
    verified_period = models.ForeignKey(
        CompliancePeriod, verbose_name=_("verified emissions of"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Verified method: the period whose verified emissions are the allocation (blank: this period)"))
    pre_allocation_share = models.DecimalField(
        _("pre-allocation share"), max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("Percent a pre-allocation issues for this category (blank: the plan's issue share)"))
    pre_allocation_basis = models.CharField(_("pre-allocation basis"), max_length=20, choices=PreAllocationBasis.choices,
                                            default=PreAllocationBasis.ESTIMATE)
    assumed = models.BooleanField(_("assumed"), default=False, help_text=_("A default assumed without a primary text: check it"))

    class Meta:
        verbose_name = _("benchmark")
        verbose_name_plural = _("benchmarks")
        ordering = ["period", "unit_category"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit_category"], name="benchmark_once_per_category"),
            models.CheckConstraint(condition=Q(electricity__gte=0) & Q(heat__gte=0), name="benchmark_not_negative"),
            models.CheckConstraint(condition=Q(product_intensity__isnull=True) | Q(product_intensity__gte=0),
                                   name="benchmark_intensity_not_negative"),
            models.CheckConstraint(
                condition=Q(pre_allocation_share__isnull=True) | (Q(pre_allocation_share__gt=0) & Q(pre_allocation_share__lte=100)),
                name="benchmark_share_percent"),
            models.CheckConstraint(condition=~Q(method="intensity") | Q(product_intensity__isnull=False),
                                   name="benchmark_intensity_has_value"),
        ]

    def __str__(self) -> str:
        if self.method == Method.INTENSITY:
            return gettext("%(period)s %(category)s: %(intensity)s tCO2e/t of product") % {
                "period": self.period, "category": self.get_unit_category_display(), "intensity": self.product_intensity}
        if self.method == Method.VERIFIED:
            return gettext("%(period)s %(category)s: verified emissions") % {
                "period": self.period, "category": self.get_unit_category_display()}
        return gettext("%(period)s %(category)s: %(electricity)s t/MWh, %(heat)s t/GJ") % {
            "period": self.period, "category": self.get_unit_category_display(), "electricity": self.electricity,
            "heat": self.heat}


class EmittingUnit(models.Model):
    """A company's emitting unit (a power plant's generating unit, a clinker line, a potline):
    allocation is computed per unit, the obligation is the company's (the sum of its units)."""

    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("unit code"), max_length=32, help_text=_("Unique within the company, e.g. U1"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    sector = models.CharField(_("sector"), max_length=12, choices=Sector.choices, default=Sector.POWER)
    category = models.CharField(_("unit category"), max_length=24, choices=UnitCategory.choices, blank=True)
    province = models.CharField(_("province"), max_length=2, choices=PROVINCE_CHOICES, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("emitting unit")
        verbose_name_plural = _("emitting units")
        ordering = ["organization__name", "code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="unit_code_once_per_organization")]

    def __str__(self) -> str:
        return f"{self.organization.uscc}/{self.code}"


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
    unit = models.ForeignKey(EmittingUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="allocation_lines")
    unit_category = models.CharField(_("unit category"), max_length=24, choices=UnitCategory.choices)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.BENCHMARK)
    product_output_t = models.DecimalField(_("product output (t)"), max_digits=16, decimal_places=3, null=True, blank=True)
    verified_basis = models.BigIntegerField(_("verified basis"), null=True, blank=True,
                                            help_text=_("The verified emissions (t) the line's allocation or pre-allocation used"))
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
        ordering = ["plan", "organization__name", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "unit"], name="allocation_line_once_per_unit"),
            models.CheckConstraint(
                condition=Q(electricity_mwh__gte=0) & Q(heat_gj__gte=0) & Q(correction_factor__gt=0)
                & Q(computed_allocation__gte=0) & Q(issue_amount__gte=0) & Q(clawback_amount__gte=0)
                & Q(deduction_amount__gte=0),
                name="allocation_line_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s: %(tonnes)s t") % {"uscc": f"{self.organization.uscc}/{self.unit.code}",
                                                      "tonnes": f"{self.computed_allocation:,}"}


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
