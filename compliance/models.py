"""The compliance cycle (RULEBOOK.md: Compliance cycle): verified emissions, surrenders, and the
deadline job's result per unit and period."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from allocation.models import CompliancePeriod, EmittingUnit
from registry.models import Asset, Transfer


class VerifiedEmission(models.Model):
    """A unit's verified emissions for a period, as confirmed by the provincial regulator: in total
    (tCO2e, what obligations use) and, when given per gas, the tonnes of each gas with the GWPs that
    turned them into tCO2e (settings.COMPLIANCE_GWP at the time)."""

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="verified_emissions")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="verified_emissions")
    unit = models.ForeignKey(EmittingUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="verified_emissions")
    tonnes = models.BigIntegerField(_("verified emissions"), help_text=_("Verified emissions, tCO2e"))
    co2_t = models.DecimalField(_("CO2 (t)"), max_digits=16, decimal_places=3, null=True, blank=True)
    cf4_t = models.DecimalField(_("CF4 (t)"), max_digits=16, decimal_places=3, null=True, blank=True)
    c2f6_t = models.DecimalField(_("C2F6 (t)"), max_digits=16, decimal_places=3, null=True, blank=True)
    cf4_gwp = models.PositiveIntegerField(_("CF4 GWP"), null=True, blank=True, help_text=_("The GWP the total was computed with"))
    c2f6_gwp = models.PositiveIntegerField(_("C2F6 GWP"), null=True, blank=True, help_text=_("The GWP the total was computed with"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("The imported file, or 'entry'"))

    class Meta:
        verbose_name = _("verified emissions")
        verbose_name_plural = _("verified emissions")
        ordering = ["period", "organization__name", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="verified_emission_once"),
            models.CheckConstraint(condition=Q(tonnes__gte=0), name="verified_emission_not_negative"),
            models.CheckConstraint(condition=(Q(co2_t__isnull=True) | Q(co2_t__gte=0)) & (Q(cf4_t__isnull=True) | Q(cf4_t__gte=0))
                                   & (Q(c2f6_t__isnull=True) | Q(c2f6_t__gte=0)), name="verified_emission_gases_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s %(period)s: %(tonnes)s t") % {"uscc": f"{self.organization.uscc}/{self.unit.code}", "period": self.period,
                                                              "tonnes": f"{self.tonnes:,}"}


class Surrender(models.Model):
    """Allowances or offsets a unit gave up for a period's obligation: atomic and irreversible."""

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="surrenders")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="surrenders")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity"))
    client_request_id = models.CharField(_("client request id"), max_length=64)
    transfer = models.OneToOneField(Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("surrender")
        verbose_name_plural = _("surrenders")
        ordering = ["-id"]
        permissions = [("surrender", "Can surrender its own organization's allowances")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_request_id"], name="surrender_request_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="surrender_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.quantity:,} {self.asset_id}"


class ComplianceResult(models.Model):
    """What the deadline job found for one unit and period. Running the job again rewrites the same row."""

    class Status(models.TextChoices):
        A = "A", _("A: surrendered at least the obligation")
        B = "B", _("B: surrendered less than the obligation")
        C = "C", _("C: no verified emissions")

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="results")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="compliance_results")
    allocated = models.BigIntegerField(_("allocated"))
    verified_emissions = models.BigIntegerField(_("verified emissions"), null=True)
    obligation = models.BigIntegerField(_("obligation"))
    surrendered_allowances = models.BigIntegerField(_("surrendered allowances"))
    surrendered_offsets = models.BigIntegerField(_("surrendered offsets"))
    shortfall = models.BigIntegerField(_("shortfall"))
    status = models.CharField(_("status"), max_length=1, choices=Status.choices)
    fine_basis_low = models.BigIntegerField(_("fine basis low"), default=0, help_text=_("fen"))
    fine_basis_high = models.BigIntegerField(_("fine basis high"), default=0, help_text=_("fen"))
    deduction_entered = models.BooleanField(_("deduction entered"), default=False)
    units = models.JSONField(_("units"), default=list, blank=True,
                             help_text=_("Per unit: code, sector, category, allocated, verified emissions, obligation"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("compliance result")
        verbose_name_plural = _("compliance results")
        ordering = ["period", "organization__name"]
        # Obligations are worked out, not stored; reading them (and the verdicts) is this right.
        permissions = [("view_obligation", "Can see the obligations of the units within its scope")]
        constraints = [models.UniqueConstraint(fields=["period", "organization"], name="compliance_result_once")]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.status}"


class VerifierAssignment(models.Model):
    """The verifier (a technical service body's user) that verifies a unit's emissions for a period,
    assigned by a regulator of the unit's scope."""

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="verifier_assignments")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="verifier_assignments")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verifier"), on_delete=models.PROTECT, related_name="verifier_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), auto_now=True)

    class Meta:
        verbose_name = _("verifier assignment")
        verbose_name_plural = _("verifier assignments")
        ordering = ["period", "organization__name"]
        constraints = [models.UniqueConstraint(fields=["period", "organization"], name="verifier_assignment_once")]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.verifier}"


def report_upload_to(report: EmissionReport, filename: str) -> str:
    # A generated name: nothing of the uploaded name (kept, made safe, in attachment_name) nor of any
    # other text a user typed reaches the path; the extension is the kind the content was recognised as.
    return f"emission-reports/{report.period_id}/{uuid.uuid4().hex}.{report.attachment_kind}"


class EmissionReport(models.Model):
    """An emitting unit's emissions for a period as its company's compliance officer filed them, with
    the verifier's figure, the company's objection (if any) and the provincial regulator's
    confirmation, which records the unit's VerifiedEmission. A company with several units files one
    report per unit.

    filed -> verified -> confirmed; an objection (within the objection window that opens at
    verification) holds the report in `objected` until the regulator decides it."""

    class Status(models.TextChoices):
        FILED = "filed", _("Filed, awaiting verification")
        VERIFIED = "verified", _("Verified, awaiting confirmation")
        OBJECTED = "objected", _("Objection awaiting decision")
        CONFIRMED = "confirmed", _("Confirmed")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the verified figure is corrected")
        REJECTED = "rejected", _("Rejected: the verified figure stands")

    class AttachmentKind(models.TextChoices):
        PDF = "pdf", _("PDF")
        XLSX = "xlsx", _("XLSX")
        CSV = "csv", _("CSV")

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="emission_reports")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="emission_reports")
    unit = models.ForeignKey(EmittingUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="emission_reports")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.FILED)
    emissions = models.BigIntegerField(_("reported emissions"), help_text=_("Reported emissions, tCO2e"))
    attachment = models.FileField(_("attachment"), upload_to=report_upload_to, max_length=255)
    attachment_name = models.CharField(_("attachment name"), max_length=200, help_text=_("The file name as uploaded"))
    attachment_kind = models.CharField(_("attachment kind"), max_length=4, choices=AttachmentKind.choices)
    attachment_size = models.PositiveIntegerField(_("attachment size"))
    attachment_sha256 = models.CharField(_("attachment sha256"), max_length=64)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    verified_emissions = models.BigIntegerField(_("verified emissions"), null=True, blank=True, help_text=_("tCO2e, as the verifier found them"))
    verification_note = models.TextField(_("verification note"), blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    objection_due = models.DateField(_("objection due"), null=True, blank=True, help_text=_("The last day the company may object"))

    objection_reason = models.TextField(_("objection reason"), blank=True)
    objected_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("objected by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    objected_at = models.DateTimeField(_("objected at"), null=True, blank=True)
    decision_due = models.DateField(_("decision due"), null=True, blank=True, help_text=_("The last day the regulator should decide"))
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    verified_emission = models.OneToOneField(VerifiedEmission, verbose_name=_("verified emission"), null=True, blank=True, on_delete=models.PROTECT,
                                             related_name="report", help_text=_("The record obligations use"))

    class Meta:
        verbose_name = _("emission report")
        verbose_name_plural = _("emission reports")
        ordering = ["-id"]
        permissions = [
            ("verify_emissionreport", "Can enter verified emissions for the units assigned to it"),
            ("confirm_emissionreport", "Can confirm verified emissions and decide objections within its scope"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="emission_report_once_per_unit"),
            models.CheckConstraint(condition=Q(emissions__gte=0), name="emission_report_not_negative"),
            models.CheckConstraint(condition=Q(verified_emissions__gte=0), name="emission_report_verified_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s %(period)s: %(tonnes)s t (%(status)s)") % {
            "uscc": f"{self.organization.uscc}/{self.unit.code}", "period": self.period, "tonnes": f"{self.emissions:,}",
            "status": self.get_status_display()}
