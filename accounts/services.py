"""Writes to organizations, users and memberships. Each one audited in its own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Membership, Organization, User
from accounts.roles import Role
from accounts.tokens import key_generate, key_hash, token_create_otp_check
from accounts.validators import validate_uscc
from core.audit import audit_record
from core.errors import AlreadyExists, InvalidCode, InvalidInput, InvalidUSCC, PermissionDenied


def organization_create(
    *, name: str, uscc: str, kind: str, sector: str = Organization.Sector.POWER, province: str = "", actor: Any
) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput(_("An organization needs a name."), field="name")
    try:
        validate_uscc(uscc)
    except ValidationError as error:
        raise InvalidUSCC(error.messages[0], field="uscc") from None
    if kind not in Organization.Kind.values:
        raise InvalidInput(_("Unknown kind %(kind)s.") % {"kind": repr(kind)}, field="kind")
    if sector not in Organization.Sector.values:
        raise InvalidInput(_("Unknown sector %(sector)s.") % {"sector": repr(sector)}, field="sector")
    if province and province not in dict(Organization._meta.get_field("province").choices):
        raise InvalidInput(_("Unknown province code %(province)s.") % {"province": repr(province)}, field="province")
    with transaction.atomic():
        if Organization.objects.filter(uscc=uscc).exists():
            raise AlreadyExists(_("An organization with USCC %(uscc)s is already registered.") % {"uscc": uscc}, field="uscc")
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
        raise InvalidInput(_("Unknown roles: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}, field="roles")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AlreadyExists(_("The username %(username)s is taken.") % {"username": username}, field="username")
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


# --- API tokens ---------------------------------------------------------------------------------
API_TOKEN_NAME_MAX = 100
API_TOKENS_PER_USER_MAX = 50
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def api_token_create(
    *, user: User, name: str, actor: Any, expires_at: datetime | None = None, otp_verified_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token for `user`, and its key: the only time the key exists outside the client."""
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the program that will use it."), field="name")
    if len(name) > API_TOKEN_NAME_MAX:
        raise InvalidInput(_("A token's name has at most %(max)s characters.") % {"max": API_TOKEN_NAME_MAX}, field="name")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(_("The expiry must be in the future."), field="expires_at")
    if not user.is_active:
        raise InvalidInput(_("An inactive user cannot have API tokens."), field="user")
    token_create_otp_check(user=user, otp_verified_at=otp_verified_at)
    key, prefix = key_generate()
    with transaction.atomic():
        # The user's row lock serialises its token creations, so the cap below holds under concurrency.
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        live = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=now).count()
        if live >= API_TOKENS_PER_USER_MAX:
            raise InvalidInput(
                _("You already have %(count)s active tokens; revoke one you no longer use first.") % {"count": live}, field="name"
            )
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, key_hash=key_hash(key), expires_at=expires_at,
            created_by=actor if getattr(actor, "pk", None) else None, otp_verified_at=otp_verified_at,
        )
        audit_record(
            actor=actor, action="api_token.create", obj=token,
            after={"user": user.get_username(), "name": name, "prefix": prefix,
                   "expires_at": expires_at.isoformat() if expires_at else None},
        )
    return token, key


def api_token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revokes the token at once (its next request is refused). Revoking twice changes nothing."""
    with transaction.atomic():
        now = timezone.now()
        # A conditional update: of two concurrent revocations exactly one writes (and is audited).
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.refresh_from_db(fields=["revoked_at"])
        if changed:
            audit_record(
                actor=actor, action="api_token.revoke", obj=token,
                before={"revoked_at": None}, after={"revoked_at": now.isoformat(), "name": token.name, "prefix": token.prefix},
            )
    return token


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Records a token's use, at most once a minute (not an audited change: bookkeeping of reads)."""
    if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- profile ------------------------------------------------------------------------------------
def user_profile_update(
    *, user: User, first_name: str, last_name: str, email: str, language: str, actor: Any
) -> User:
    """The user's own name, email and page language."""
    fields = {"first_name": first_name.strip(), "last_name": last_name.strip(), "email": email.strip(), "language": language}
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language %(language)s.") % {"language": repr(language)}, field="language")
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise InvalidInput(_("Not a valid email address."), field="email") from None
    for name in ("first_name", "last_name"):
        if len(fields[name]) > 150:
            raise InvalidInput(_("At most 150 characters."), field=name)
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        before = {name: getattr(locked, name) for name in fields}
        changed = {name: value for name, value in fields.items() if before[name] != value}
        if changed:
            User.objects.filter(pk=user.pk).update(**changed)
            audit_record(actor=actor, action="user.profile_update", obj=locked,
                         before={name: before[name] for name in changed}, after=changed)
    for name, value in fields.items():
        setattr(user, name, value)
    return user


def user_password_change(*, user: User, old_password: str, new_password: str, actor: Any) -> User:
    """Changes the user's password after checking the current one and the password rules."""
    if not user.check_password(old_password):
        raise InvalidInput(_("The current password is not right."), field="old_password")
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="new_password1") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="user.password_change", obj=user)  # never the password itself
    return user


# --- authentication: two-factor devices and sessions ---

def totp_device_start(*, user: User) -> Any:
    """Starts TOTP enrolment: a new unconfirmed device (any earlier unconfirmed one is replaced).
    It counts only once confirmed with a code (totp_device_confirm)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise AlreadyExists(_("Two-factor authentication is already set up."), field=None)
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
            raise InvalidInput(_("Start the set-up first."), field="code")
        accepted = device.verify_token(code.strip())
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit_record(actor=user, action="two_factor.enrol", obj=device)
    if not accepted:
        raise InvalidCode()
    return device


def totp_device_verify(*, user: User, code: str) -> Any:
    """Checks a six-digit code against the user's confirmed device, or else a backup code (which is
    used up), each throttled by django-otp after failures; the caller marks the session verified."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.selectors import totp_device_confirmed

    code = code.strip().lower()
    with transaction.atomic():
        if totp_device_confirmed(user) is None:
            raise InvalidInput(_("Two-factor authentication is not set up."), field="code")
        backup = not code.isdigit()
        model = StaticDevice if backup else TOTPDevice
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        # verify_token counts failures on the device (django-otp's throttle): raised only after the
        # commit, so that the count survives.
        accepted = device is not None and device.verify_is_allowed()[0] and device.verify_token(code)
        if accepted:
            audit_record(actor=user, action="two_factor.verify", obj=device,
                         after={"backup_codes_left": device.token_set.count()} if backup else None)
    if not accepted:
        raise InvalidCode()
    return device


BACKUP_CODE_COUNT = 10


def backup_codes_generate(*, user: User) -> list[str]:
    """New single-use backup codes, for a login without the authenticator app (a lost phone); any
    earlier ones stop working. The caller shows them once."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from accounts.selectors import totp_device_confirmed

    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        codes.add(StaticToken.random_token())
    with transaction.atomic():
        if totp_device_confirmed(user) is None:
            raise InvalidInput(_("Set up two-factor authentication first."), field=None)
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_record(actor=user, action="two_factor.backup_codes", obj=device, after={"codes": len(codes)})
    return sorted(codes)


def totp_devices_remove(*, user: User, actor: Any) -> int:
    """Turns two-factor authentication off (company users only; a privileged role must keep it)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.selectors import two_factor_required

    if two_factor_required(user):
        raise PermissionDenied(_("Your role requires two-factor authentication."))
    from django_otp.plugins.otp_static.models import StaticDevice

    with transaction.atomic():
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()  # the backup codes go with it
        if removed:
            audit_record(actor=actor, action="two_factor.disable", obj=user)
    return removed


def session_event_record(*, user: Any, action: str) -> None:
    """Audits a login or a logout (called from the auth signals, so the admin's login counts too)."""
    with transaction.atomic():
        audit_record(actor=user, action=action, obj=user if getattr(user, "pk", None) else None)
