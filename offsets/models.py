"""The offset (CCER) registry: methodologies, projects, issuances of serial-numbered credits, the
serial blocks each account holds, the history of every range that moved, and voluntary cancellation
certificates.

The ledger (registry) stays the source of balances; serial blocks are its detail. Every posting of an
offset asset between two accounts moves whole serial ranges (offsets.serials, a registry posting
hook), in the posting's transaction; `check_ledger` proves that the blocks each account holds sum to
its balance of that asset (all buckets).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.provinces import PROVINCE_CHOICES
from registry.models import Account, Asset, Transfer

SERIAL_DIGITS = 12


def serial_format(serial: int) -> str:
    """A serial number as shown and searched: zero-padded, so that ranges sort as text too."""
    return f"{serial:0{SERIAL_DIGITS}d}"


class Methodology(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("CCER-14-001-V01 ..."))
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=100)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("methodology")
        verbose_name_plural = _("methodologies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Project(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    identifier = models.CharField(_("identifier"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(Organization, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="offset_projects")
    province = models.CharField(_("province"), max_length=2, choices=PROVINCE_CHOICES)
    methodology = models.ForeignKey(Methodology, verbose_name=_("methodology"), on_delete=models.PROTECT, related_name="projects")
    crediting_start = models.DateField(_("crediting period start"))
    crediting_end = models.DateField(_("crediting period end"))
    registration_date = models.DateField(_("registration date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("offset project")
        verbose_name_plural = _("offset projects")
        ordering = ["identifier"]
        constraints = [
            models.CheckConstraint(condition=Q(crediting_start__lte=F("crediting_end")), name="project_crediting_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"


class Issuance(models.Model):
    """Credits of a project for a monitoring period: proposed by one regulator, approved (and issued as
    one serial block into the owner's holding account) by another."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", _("Rejected")

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="issuances")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="+")
    vintage = models.PositiveSmallIntegerField(_("vintage year"))
    monitoring_start = models.DateField(_("monitoring period start"))
    monitoring_end = models.DateField(_("monitoring period end"))
    quantity = models.BigIntegerField(_("quantity (t)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    first_serial = models.BigIntegerField(_("first serial"), null=True, blank=True, unique=True)
    last_serial = models.BigIntegerField(_("last serial"), null=True, blank=True, unique=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("offset issuance")
        verbose_name_plural = _("offset issuances")
        ordering = ["-id"]
        permissions = [("approve_issuance", "Can approve an offset issuance proposed by another regulator")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="issuance_quantity_positive"),
            models.CheckConstraint(condition=Q(monitoring_start__lte=F("monitoring_end")), name="issuance_monitoring_in_order"),
            models.CheckConstraint(
                condition=(Q(status="issued") & Q(first_serial__isnull=False) & Q(last_serial=F("first_serial") + F("quantity") - 1))
                | (~Q(status="issued") & Q(first_serial__isnull=True) & Q(last_serial__isnull=True)),
                name="issuance_serials_when_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.identifier} {self.vintage} ({self.quantity:,} t)"

    @property
    def serial_range(self) -> str:
        if self.first_serial is None or self.last_serial is None:
            return ""
        return f"{serial_format(self.first_serial)}–{serial_format(self.last_serial)}"


class SerialBlock(models.Model):
    """A contiguous range of serial numbers of one issuance that one account holds now. Split when part
    of it moves, merged with an adjacent range of the same issuance when they meet again."""

    issuance = models.ForeignKey(Issuance, verbose_name=_("issuance"), on_delete=models.PROTECT, related_name="blocks")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="serial_blocks")
    first_serial = models.BigIntegerField(_("first serial"))
    last_serial = models.BigIntegerField(_("last serial"))

    class Meta:
        verbose_name = _("serial block")
        verbose_name_plural = _("serial blocks")
        ordering = ["account_id", "first_serial"]
        constraints = [
            models.CheckConstraint(condition=Q(first_serial__lte=F("last_serial")), name="serialblock_range_in_order"),
            models.UniqueConstraint(fields=["first_serial"], name="serialblock_first_once"),
            models.UniqueConstraint(fields=["last_serial"], name="serialblock_last_once"),
        ]
        indexes = [models.Index(fields=["account", "asset"])]

    def __str__(self) -> str:
        return f"{serial_format(self.first_serial)}–{serial_format(self.last_serial)}"

    @property
    def quantity(self) -> int:
        return self.last_serial - self.first_serial + 1


class BlockMovement(models.Model):
    """One serial range moved by one ledger transfer (issuance: from nowhere). Append-only: with the
    issuances, the path of every serial number."""

    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="+")
    issuance = models.ForeignKey(Issuance, verbose_name=_("issuance"), on_delete=models.PROTECT, related_name="movements")
    first_serial = models.BigIntegerField(_("first serial"))
    last_serial = models.BigIntegerField(_("last serial"))
    source = models.ForeignKey(Account, verbose_name=_("source"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Account, verbose_name=_("destination"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("serial range movement")
        verbose_name_plural = _("serial range movements")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(first_serial__lte=F("last_serial")), name="blockmovement_range_in_order"),
        ]
        indexes = [models.Index(fields=["first_serial", "last_serial"])]

    def __str__(self) -> str:
        return f"{serial_format(self.first_serial)}–{serial_format(self.last_serial)}"

    @property
    def quantity(self) -> int:
        return self.last_serial - self.first_serial + 1


class Certificate(models.Model):
    """A voluntary cancellation: units of an asset (allowances or CCER) taken out of circulation by their
    holder for a purpose, with a numbered certificate anyone can verify. Append-only."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity (t)"))
    purpose = models.CharField(_("purpose"), max_length=500)
    beneficiary = models.CharField(_("on behalf of"), max_length=200, blank=True)
    transfer = models.OneToOneField(Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="+")
    client_request_id = models.CharField(_("client request id"), max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("cancelled by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("cancelled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cancellation certificate")
        verbose_name_plural = _("cancellation certificates")
        ordering = ["-id"]
        permissions = [("cancel_units", "Can cancel the organization's units voluntarily")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="certificate_quantity_positive"),
            models.UniqueConstraint(fields=["organization", "client_request_id"], name="certificate_request_once"),
        ]

    def __str__(self) -> str:
        return self.number
