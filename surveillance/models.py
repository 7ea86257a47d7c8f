"""Market surveillance (RULEBOOK "Block trades, auctions and surveillance"): related-party groups
(集团) kept by the exchange operator, and the alerts the nightly job raises with their evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from trading.models import Instrument


class PartyGroup(models.Model):
    """Organizations under common control (a power group and its plants). With self-trade prevention
    on, the matcher treats the group as one owner: orders of two members never trade together."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    self_trade_prevention = models.BooleanField(
        _("self-trade prevention across the group"), default=True,
        help_text=_("On: an order never trades with a resting order of another member of the group."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("related-party group")
        verbose_name_plural = _("related-party groups")

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(PartyGroup, on_delete=models.CASCADE, related_name="members", verbose_name=_("group"))
    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, related_name="party_group_membership",
                                        verbose_name=_("organization"), help_text=_("An organization belongs to one group at most."))

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")

    def __str__(self) -> str:
        return f"{self.group}: {self.organization}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        RELATED_PARTY = "related_party", _("Trades between related parties")
        LARGE_HOLDER = "large_holder", _("Large holder")
        LAYERING = "layering", _("Order-to-trade ratio with fast cancels (layering)")
        MARKING_CLOSE = "marking_close", _("Marking the close")
        LIMIT_PRICE = "limit_price", _("Trades at the price limits")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        ESCALATED = "escalated", _("Escalated to the regulator")

    day = models.DateField(_("trading day"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("instrument"))
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organization"))
    subject = models.CharField(_("subject"), max_length=100, help_text=_("What the alert is about, e.g. org:12 or pair:3-7"))
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        ordering = ["-day", "kind", "pk"]
        verbose_name = _("surveillance alert")
        verbose_name_plural = _("surveillance alerts")
        permissions = [("decide_alert", "Can dismiss or escalate surveillance alerts")]
        constraints = [
            # The nightly job may run twice: one alert per day, kind, instrument and subject.
            models.UniqueConstraint(fields=["day", "kind", "instrument", "subject"], name="alert_once",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()} {self.subject}"
