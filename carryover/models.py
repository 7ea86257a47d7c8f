"""The carry-over (banking) cap of a plan window (RULEBOOK.md, "2024-2026 rules").

When a plan window (e.g. 2019-2024) closes, each company may carry allowances of the window's and
earlier vintages beyond it only up to `base_tonnes + sales_multiplier x net sales` over the window.
A regulator computes the statements (one line per company), submits them, and another approves them;
the approval marks what exceeds each cap as not carried over (ledger transfers into the holding's
`not_carried` bucket, registry.models.Bucket).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization


def _default_base_tonnes() -> int:
    return settings.CARRY_OVER_BASE_TONNES


def _default_multiplier() -> Decimal:
    return settings.CARRY_OVER_SALES_MULTIPLIER


class CarryOverWindow(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved and marked")

    code = models.CharField(_("code"), max_length=16, unique=True, help_text=_("e.g. 2019-2024"))
    first_year = models.PositiveSmallIntegerField(_("first year"))
    last_year = models.PositiveSmallIntegerField(
        _("last year"), help_text=_("Vintages up to this year are carried over only up to the cap"))
    trades_from = models.DateField(_("trades from"), help_text=_("Net sales count trades from this trading day ..."))
    trades_until = models.DateField(_("trades until"), help_text=_("... up to and including this trading day"))
    base_tonnes = models.BigIntegerField(_("base (t)"), default=_default_base_tonnes,
                                         help_text=_("Every company may carry over this much"))
    sales_multiplier = models.DecimalField(_("multiplier of net sales"), max_digits=6, decimal_places=3,
                                           default=_default_multiplier,
                                           help_text=_("Plus this many tonnes per tonne of net sales over the window"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("computed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submission_reason = models.CharField(_("submission reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)
    # The parameters the lines were computed with: a submission refuses lines the window has outgrown.
    computed_parameters = models.JSONField(_("computed with"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("carry-over window")
        verbose_name_plural = _("carry-over windows")
        ordering = ["-last_year", "-id"]
        permissions = [("approve_carryoverwindow", "Can approve a carry-over computation (the checker)")]
        constraints = [
            models.CheckConstraint(condition=Q(last_year__gte=models.F("first_year")), name="carryover_years_ordered"),
            models.CheckConstraint(condition=Q(trades_until__gte=models.F("trades_from")), name="carryover_trades_ordered"),
            models.CheckConstraint(condition=Q(base_tonnes__gte=0) & Q(sales_multiplier__gte=0),
                                   name="carryover_parameters_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("Carry-over %(code)s") % {"code": self.code}


class CarryOverLine(models.Model):
    """One company's statement: its net sales over the window, its cap, what it held and what was not
    carried over. The `holding` and `excess` are the computation's; `not_carried` is what the
    approval marked (holdings may have moved between the two: the approval reads them again)."""

    window = models.ForeignKey(CarryOverWindow, verbose_name=_("window"), on_delete=models.CASCADE, related_name="lines")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT,
                                     related_name="carry_over_lines")
    sold = models.BigIntegerField(_("sold (t)"))
    bought = models.BigIntegerField(_("bought (t)"))
    net_sales = models.BigIntegerField(_("net sales (t)"), help_text=_("Sold less bought, at least 0"))
    cap = models.BigIntegerField(_("carry-over cap (t)"))
    holding = models.BigIntegerField(_("holding (t)"), help_text=_("The window's vintages held when computed, every bucket"))
    excess = models.BigIntegerField(_("above the cap (t)"), help_text=_("Holding less cap, at least 0, when computed"))
    holding_at_approval = models.BigIntegerField(_("holding at approval (t)"), null=True, blank=True)
    not_carried = models.BigIntegerField(_("not carried over (t)"), default=0)
    unmarked = models.BigIntegerField(
        _("above the cap but not marked (t)"), default=0,
        help_text=_("Reserved by open orders, pending or frozen at approval: only available allowances can be marked"))

    class Meta:
        verbose_name = _("carry-over statement")
        verbose_name_plural = _("carry-over statements")
        ordering = ["window", "organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["window", "organization"], name="carryover_line_once_per_company"),
            models.CheckConstraint(
                condition=Q(sold__gte=0) & Q(bought__gte=0) & Q(net_sales__gte=0) & Q(cap__gte=0) & Q(holding__gte=0)
                & Q(excess__gte=0) & Q(not_carried__gte=0) & Q(unmarked__gte=0),
                name="carryover_line_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(uscc)s: cap %(cap)s t") % {"uscc": self.organization.uscc, "cap": f"{self.cap:,}"}
