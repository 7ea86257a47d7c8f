"""Who belongs where and who may see which organizations."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.access import access_of
from accounts.models import ApiToken, Organization
from accounts.roles import Role
from core.errors import NotFound


def user_roles(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(access_of(user).roles)


# Where each role's work is, in this order of precedence (a company role wins: its dashboard).
_LANDING = [
    ({Role.COMPANY_TRADER, Role.COMPLIANCE_OFFICER}, "home"),
    ({Role.NATIONAL_REGULATOR, Role.PROVINCIAL_REGULATOR}, "regulator-home"),
    ({Role.EXCHANGE_OPERATOR}, "admin:index"),
    ({Role.AUDITOR}, "reports-index"),
    ({Role.VERIFIER}, "compliance-verifier"),
]


def landing_path(user: Any) -> str:
    """Where a person lands after logging in (without a `next`): where their role's work is."""
    from django.urls import reverse

    roles = user_roles(user)
    for wanted, name in _LANDING:
        if roles & wanted:
            return reverse(name)
    return reverse("admin:index" if getattr(user, "is_staff", False) else "home")


def is_company_user(user: Any) -> bool:
    """A company's trader or compliance officer: the dashboard, trading, orders and trades are theirs."""
    return bool(user_roles(user) & {Role.COMPANY_TRADER, Role.COMPLIANCE_OFFICER})


def is_regulator(user: Any) -> bool:
    """A national or provincial regulator: the regulator's home is theirs."""
    return bool(user_roles(user) & {Role.NATIONAL_REGULATOR, Role.PROVINCIAL_REGULATOR})


def user_organization_ids(user: Any) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(access_of(user).organization_ids)


def user_province(user: Any) -> str | None:
    """The province a provincial regulator is scoped to: that of its own organization."""
    if Role.PROVINCIAL_REGULATOR not in user_roles(user):
        return None
    provinces = set(
        Organization.objects.filter(pk__in=user_organization_ids(user)).exclude(province="").values_list("province", flat=True)
    )
    return provinces.pop() if len(provinces) == 1 else None


def sees_all_organizations(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or user.has_perm("accounts.view_all_organizations")
    )


def organizations_visible_to(user: Any) -> QuerySet[Organization]:
    if sees_all_organizations(user):
        return Organization.objects.all()
    if user.has_perm("accounts.view_province_organizations"):
        province = user_province(user)
        return Organization.objects.filter(province=province) if province else Organization.objects.none()
    return Organization.objects.filter(pk__in=user_organization_ids(user))


def rows_in_scope(queryset: QuerySet, user: Any, *organization_fields: str) -> QuerySet:
    """The rows of `queryset` whose organization (any of `organization_fields`, e.g. a trade's buyer
    and seller) the user may see; every row for those who see every organization."""
    if sees_all_organizations(user):
        return queryset
    visible = organizations_visible_to(user)
    condition = Q()
    for field in organization_fields:
        condition |= Q(**{f"{field}__in": visible})
    return queryset.filter(condition)


def organization_in_scope(user: Any, organization: Organization) -> bool:
    return organizations_visible_to(user).filter(pk=organization.pk).exists()


# Roles that must pass TOTP two-factor authentication (staff and superusers too); company users may.
TWO_FACTOR_ROLES = frozenset(
    {Role.NATIONAL_REGULATOR, Role.PROVINCIAL_REGULATOR, Role.EXCHANGE_OPERATOR, Role.AUDITOR}
)


def two_factor_required(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_staff or user.is_superuser or bool(user_roles(user) & TWO_FACTOR_ROLES)
    )


def totp_device_confirmed(user: Any) -> Any:
    """The user's confirmed TOTP device, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def backup_codes_left(user: Any) -> int | None:
    """How many unused backup codes the user has; None when none were ever made."""
    from django_otp.plugins.otp_static.models import StaticDevice

    device = StaticDevice.objects.filter(user=user).first()
    return None if device is None else device.token_set.count()


def two_factor_pending(user: Any) -> str | None:
    """What the user's session still lacks: "verify" (a device exists, this session has not used it),
    "enrol" (a privileged user without a device) or None."""
    if not getattr(user, "is_authenticated", False) or user.is_verified():
        return None
    if totp_device_confirmed(user) is not None:
        return "verify"
    return "enrol" if two_factor_required(user) else None

def api_tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("created_by")


def api_token_get_for(user: Any, token_id: int) -> ApiToken:
    """One of the user's own tokens; anyone else's is NotFound."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."))
    return token
