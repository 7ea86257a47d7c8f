"""The compliance cycle (RULEBOOK.md: Compliance cycle): verified emissions, surrenders, and the
deadline job's result per unit and period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization
from allocation.models import CompliancePeriod
from registry.models import Asset, Transfer


class VerifiedEmission(models.Model):
    """A unit's verified emissions for a period, as confirmed by the provincial regulator."""

    period = models.ForeignKey(CompliancePeriod, on_delete=models.PROTECT, related_name="verified_emissions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="verified_emissions")
    tonnes = models.BigIntegerField(help_text="Verified emissions, tCO2e")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=200, blank=True, help_text="The imported file, or 'entry'")

    class Meta:
        ordering = ["period", "organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["period", "organization"], name="verified_emission_once"),
            models.CheckConstraint(condition=Q(tonnes__gte=0), name="verified_emission_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.tonnes} t"


class Surrender(models.Model):
    """Allowances or offsets a unit gave up for a period's obligation: atomic and irreversible."""

    period = models.ForeignKey(CompliancePeriod, on_delete=models.PROTECT, related_name="surrenders")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="surrenders")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    client_request_id = models.CharField(max_length=64)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("surrender", "Can surrender its own organization's allowances")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_request_id"], name="surrender_request_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="surrender_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.quantity} {self.asset_id}"


class ComplianceResult(models.Model):
    """What the deadline job found for one unit and period. Running the job again rewrites the same row."""

    class Status(models.TextChoices):
        A = "A", "A: surrendered at least the obligation"
        B = "B", "B: surrendered less than the obligation"
        C = "C", "C: no verified emissions"

    period = models.ForeignKey(CompliancePeriod, on_delete=models.PROTECT, related_name="results")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="compliance_results")
    allocated = models.BigIntegerField()
    verified_emissions = models.BigIntegerField(null=True)
    obligation = models.BigIntegerField()
    surrendered_allowances = models.BigIntegerField()
    surrendered_offsets = models.BigIntegerField()
    shortfall = models.BigIntegerField()
    status = models.CharField(max_length=1, choices=Status.choices)
    fine_basis_low = models.BigIntegerField(default=0, help_text="fen")
    fine_basis_high = models.BigIntegerField(default=0, help_text="fen")
    deduction_entered = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period", "organization__name"]
        # Obligations are worked out, not stored; reading them (and the verdicts) is this right.
        permissions = [("view_obligation", "Can see the obligations of the units within its scope")]
        constraints = [models.UniqueConstraint(fields=["period", "organization"], name="compliance_result_once")]

    def __str__(self) -> str:
        return f"{self.organization.uscc} {self.period}: {self.status}"
