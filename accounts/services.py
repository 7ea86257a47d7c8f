"""Writes to organizations, users and memberships. Each one audited in its own transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.validators import validate_uscc
from core.audit import audit_record
from core.errors import AlreadyExists, InvalidCode, InvalidInput, InvalidUSCC, PermissionDenied


def organization_create(
    *, name: str, uscc: str, kind: str, sector: str = Organization.Sector.POWER, province: str = "", actor: Any
) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput("An organization needs a name.", field="name")
    try:
        validate_uscc(uscc)
    except ValidationError as error:
        raise InvalidUSCC(error.messages[0], field="uscc") from None
    if kind not in Organization.Kind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", field="kind")
    if sector not in Organization.Sector.values:
        raise InvalidInput(f"Unknown sector {sector!r}.", field="sector")
    if province and province not in dict(Organization._meta.get_field("province").choices):
        raise InvalidInput(f"Unknown province code {province!r}.", field="province")
    with transaction.atomic():
        if Organization.objects.filter(uscc=uscc).exists():
            raise AlreadyExists(f"An organization with USCC {uscc} is already registered.", field="uscc")
        organization = Organization.objects.create(name=name, uscc=uscc, kind=kind, sector=sector, province=province)
        audit_record(
            actor=actor,
            action="organization.create",
            obj=organization,
            after={"name": name, "uscc": uscc, "kind": kind, "sector": sector, "province": province},
        )
    return organization


def user_create(
    *, username: str, password: str | None, roles: list[str], organization: Organization | None = None, actor: Any, **fields: Any
) -> User:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise InvalidInput(f"Unknown roles: {', '.join(sorted(unknown))}.", field="roles")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AlreadyExists(f"The username {username} is taken.", field="username")
        user = User.objects.create_user(username=username, password=password, **fields)
        user.groups.set(Group.objects.filter(name__in=roles))
        if organization is not None:
            Membership.objects.create(user=user, organization=organization)
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            after={"username": username, "roles": sorted(roles), "organization": organization.uscc if organization else None},
        )
    return user


# --- authentication: two-factor devices, passwords, sessions ---

def totp_device_start(*, user: User) -> Any:
    """Starts TOTP enrolment: a new unconfirmed device (any earlier unconfirmed one is replaced).
    It counts only once confirmed with a code (totp_device_confirm)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise AlreadyExists("Two-factor authentication is already set up.", field=None)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        audit_record(actor=user, action="two_factor.enrol_start", obj=device)
    return device


def totp_device_confirm(*, user: User, code: str) -> Any:
    """Confirms the pending device with a code from the app; refuses a wrong code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            raise InvalidInput("Start the set-up first.", field="code")
        accepted = device.verify_token(code.strip())
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit_record(actor=user, action="two_factor.enrol", obj=device)
    if not accepted:
        raise InvalidCode()
    return device


def totp_device_verify(*, user: User, code: str) -> Any:
    """Checks a code against the user's confirmed device (throttled by django-otp after failures);
    the caller marks the session verified."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        if device is None:
            raise InvalidInput("Two-factor authentication is not set up.", field="code")
        # verify_token counts failures on the device (django-otp's throttle): raised only after the
        # commit, so that the count survives.
        accepted = device.verify_is_allowed()[0] and device.verify_token(code.strip())
        if accepted:
            audit_record(actor=user, action="two_factor.verify", obj=device)
    if not accepted:
        raise InvalidCode()
    return device


def totp_devices_remove(*, user: User, actor: Any) -> int:
    """Turns two-factor authentication off (company users only; a privileged role must keep it)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.selectors import two_factor_required

    if two_factor_required(user):
        raise PermissionDenied("Your role requires two-factor authentication.")
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        if removed:
            audit_record(actor=actor, action="two_factor.disable", obj=user)
    return removed


def user_password_change(*, user: User, new_password: str) -> None:
    """Sets a new password. Every other session of the user ends with it: Django checks each session's
    stored password hash on every request (the caller keeps its own session with update_session_auth_hash)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action="user.password_change", obj=user)


def session_event_record(*, user: Any, action: str) -> None:
    """Audits a login or a logout (called from the auth signals, so the admin's login counts too)."""
    with transaction.atomic():
        audit_record(actor=user, action=action, obj=user if getattr(user, "pk", None) else None)
