"""Enforcement under the Interim Regulations (2024) and the annual disclosure (RULEBOOK.md: 2024-2026
rules, Enforcement): data-fraud cases, decisions (forced surrender, fines, a production halt, an
allocation cut) proposed by one regulator and approved by another, and each covered company's
disclosure. Nothing here can be deleted: the tables refuse DELETE and TRUNCATE (migration 0002)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from allocation.models import AllocationCut, CompliancePeriod


class FraudCase(models.Model):
    """A data-fraud case (Art. 22) against a covered company or a verifier (a technical service body)
    about a period's emission data, with the illegal gains established (fen; 0 when none)."""

    class Subject(models.TextChoices):
        COMPANY = "company", _("Covered company")
        VERIFIER = "verifier", _("Verifier")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="fraud_cases")
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="fraud_cases")
    summary = models.TextField(_("summary"), help_text=_("What was falsified, and how it was found"))
    gains = models.BigIntegerField(_("illegal gains"), default=0, help_text=_("fen; 0 when there were none"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fraud case")
        verbose_name_plural = _("fraud cases")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(gains__gte=0), name="fraud_case_gains_not_negative")]

    def __str__(self) -> str:
        return gettext("Case %(id)s: %(name)s (%(period)s)") % {"id": self.pk, "name": self.organization.name, "period": self.period}


class Decision(models.Model):
    """One enforcement decision with its legal basis and its amount, quantity or share, checked against
    its range (recorded beside it) when proposed and again when approved. Proposed by one regulator,
    approved or rejected by another; approval carries it out (a surrender, an allocation cut, the halt
    flag). A production halt may later be lifted: one regulator proposes the lift, another approves it."""

    class Kind(models.TextChoices):
        FORCED_SURRENDER = "forced_surrender", _("Forced surrender")
        NON_SURRENDER_FINE = "non_surrender_fine", _("Fine for not surrendering")
        PRODUCTION_HALT = "production_halt", _("Production halt order")
        CONFISCATION = "confiscation", _("Confiscation of illegal gains")
        FRAUD_FINE = "fraud_fine", _("Fine for data fraud")
        INDIVIDUAL_FINE = "individual_fine", _("Fine on a responsible individual")
        ALLOCATION_CUT = "allocation_cut", _("Cut of the next year's allocation")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed, awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        LIFTING = "lifting", _("Lift proposed, awaiting approval")
        LIFTED = "lifted", _("Lifted")

    # A halt in these is in force: approved, and its lift (if proposed) not yet approved.
    IN_FORCE = (Status.APPROVED, Status.LIFTING)

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="enforcement_decisions")
    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="enforcement_decisions",
                               help_text=_("The period not complied with, or the case's period"))
    case = models.ForeignKey(FraudCase, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    legal_basis = models.CharField(_("legal basis"), max_length=500)
    facts = models.TextField(_("facts"), blank=True)
    amount = models.BigIntegerField(_("amount"), null=True, blank=True, help_text=_("fen"))
    quantity = models.BigIntegerField(_("quantity"), null=True, blank=True, help_text=_("t"))
    percent = models.DecimalField(_("share cut (percent)"), max_digits=5, decimal_places=2, null=True, blank=True)
    range_low = models.BigIntegerField(_("range low"), null=True, blank=True, help_text=_("fen, t or percent, as the decision's kind counts"))
    range_high = models.BigIntegerField(_("range high"), null=True, blank=True)
    individual_name = models.CharField(_("individual"), max_length=200, blank=True, help_text=_("The responsible individual fined"))
    target_period = models.ForeignKey(CompliancePeriod, verbose_name=_("allocation period"), null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text=_("The period whose allocation is cut"))
    allocation_cut = models.OneToOneField(AllocationCut, verbose_name=_("allocation cut"), null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="decision")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    lift_proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lift proposed by"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    lift_proposed_at = models.DateTimeField(_("lift proposed at"), null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lifted by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_note = models.CharField(_("lift note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("enforcement decision")
        verbose_name_plural = _("enforcement decisions")
        ordering = ["-id"]
        permissions = [("approve_decision", "Can approve or reject an enforcement decision (the checker)")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="decision_amount_positive"),
            models.CheckConstraint(condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="decision_quantity_positive"),
            models.CheckConstraint(condition=Q(percent__isnull=True) | (Q(percent__gt=0) & Q(percent__lte=100)),
                                   name="decision_percent_valid"),
        ]

    def __str__(self) -> str:
        return gettext("Decision %(id)s: %(kind)s, %(name)s") % {"id": self.pk, "kind": self.get_kind_display(),
                                                                 "name": self.organization.name}

    @property
    def reference(self) -> str:
        """The decision's reference, named by the ledger transfers it causes."""
        return f"ENF-{self.pk:06d}"


class Disclosure(models.Model):
    """A covered company's annual disclosure (Art. 11): its emissions, emitting facilities and
    monitoring methods, submitted by its compliance officer and published once a regulator confirms it.
    A regulator may return it with a note; the company then corrects and submits it again."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted, awaiting confirmation")
        RETURNED = "returned", _("Returned for correction")
        PUBLISHED = "published", _("Confirmed and published")

    period = models.ForeignKey(CompliancePeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="disclosures")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="disclosures")
    emissions = models.BigIntegerField(_("emissions"), help_text=_("tCO2e"))
    facilities = models.TextField(_("emitting facilities"))
    methods = models.TextField(_("methods"), help_text=_("How the emissions were monitored and calculated"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    return_note = models.CharField(_("return note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["period", "organization__name"]
        permissions = [("confirm_disclosure", "Can confirm (publish) or return a covered company's disclosure")]
        constraints = [
            models.UniqueConstraint(fields=["period", "organization"], name="disclosure_once"),
            models.CheckConstraint(condition=Q(emissions__gte=0), name="disclosure_emissions_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s %(period)s disclosure (%(status)s)") % {
            "uscc": self.organization.uscc, "period": self.period, "status": self.get_status_display()}
