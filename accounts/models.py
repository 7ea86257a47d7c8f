from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.provinces import PROVINCE_CHOICES
from accounts.validators import validate_uscc


class User(AbstractUser):
    """The platform's user. Roles are groups (accounts.roles); organizations come through Membership."""

    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True,
        help_text=_("The pages' language; empty: the browser's (or the language switcher's) choice."),
    )
    # Bumped whenever the user's roles, permissions or organizations change (accounts.access).
    access_version = models.PositiveIntegerField(_("access version"), default=0, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Organization(models.Model):
    class Kind(models.TextChoices):
        KEY_EMITTING_UNIT = "key_emitting_unit", _("Key emitting unit")
        INSTITUTION = "institution", _("Institution")
        SYSTEM = "system", _("System")

    class Sector(models.TextChoices):
        POWER = "power", _("Power generation")
        STEEL = "steel", _("Steel")
        CEMENT = "cement", _("Cement")
        ALUMINIUM = "aluminium", _("Aluminium")
        GOVERNMENT = "government", _("Government")
        FINANCE = "finance", _("Finance and exchange")
        SERVICES = "services", _("Technical services")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("USCC"), max_length=18, unique=True, validators=[validate_uscc], help_text=_("Unified Social Credit Code")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices, default=Sector.POWER)
    province = models.CharField(_("province"), max_length=2, choices=PROVINCE_CHOICES, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        permissions = [
            ("view_all_organizations", "Can see every organization and its accounts"),
            ("view_province_organizations", "Can see the organizations of its own province"),
        ]
        indexes = [models.Index(fields=["province", "kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class Membership(models.Model):
    """A user acting for an organization."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization.name}"


class ApiToken(models.Model):
    """A key for the REST API, acting as its user. The key itself is never stored (accounts.tokens)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=8, unique=True, help_text=_("The key's lookup prefix (after ncr_), shown to tell keys apart."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, help_text=_("SHA-256 of the whole key."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    otp_verified_at = models.DateTimeField(
        _("OTP verified at"), null=True, blank=True, help_text=_("When the creator last proved a one-time password before creating it.")
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (ncr_{self.prefix}…)"

    @property
    def display_key(self) -> str:
        return f"ncr_{self.prefix}…"

    def is_active_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)
