"""API token keys: how they look, how they are stored, how a request's key finds its token, and the
two-factor hook.

A key is `ncr_` + an 8-character lookup prefix + a 40-character secret (base62). Only the prefix and
a SHA-256 of the whole key are stored: the key is shown once, when it is created. A key has about
286 bits of randomness, so a fast hash is enough (a slow password hash would cost every API
request milliseconds and buy nothing against guessing).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
from accounts.selectors import two_factor_required
from core.db import Prepared, instance_from_row, statements_execute
from core.errors import TwoFactorRequired

KEY_SCHEME = "ncr_"
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits


def key_generate() -> tuple[str, str]:
    """A new key and its lookup prefix."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{KEY_SCHEME}{prefix}{secret}", prefix


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None (nothing to look up)."""
    if len(key) != len(KEY_SCHEME) + PREFIX_LENGTH + SECRET_LENGTH or not key.startswith(KEY_SCHEME):
        return None
    body = key[len(KEY_SCHEME):]
    if any(char not in _ALPHABET for char in body):
        return None
    return body[:PREFIX_LENGTH]


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(key_hash(key), stored_hash)


def api_token_for_key(key: str) -> ApiToken | None:
    """The token whose key this is, with its user (revoked or expired ones too: the caller decides),
    or None. On every API request: one plain, prepared query (the ORM took longer to build it than
    the database to answer it)."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    with connection.cursor() as cursor:
        statements_execute(cursor, [(_token_with_user_sql(), [prefix])])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ApiToken._meta.concrete_fields)
    token = instance_from_row(ApiToken, row[:width])
    if not key_matches(key, token.key_hash):
        return None
    token.user = instance_from_row(User, row[width:])
    return token


@cache
def _token_with_user_sql() -> Prepared:
    quote = connection.ops.quote_name
    columns = [f"t.{quote(field.column)}" for field in ApiToken._meta.concrete_fields]
    columns += [f"u.{quote(field.column)}" for field in User._meta.concrete_fields]
    return Prepared(
        f"SELECT {', '.join(columns)} FROM {ApiToken._meta.db_table} t "
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id WHERE t.prefix = %s"
    )


# --- Two-factor (README: Security) ----------------------------------------------------------------
# A token of a privileged user (regulators, the exchange operator, auditors, staff) is created only
# from a session that passed the second factor (its time is stored on the token) and works for
# API_TOKEN_OTP_TTL after its creation; then the user verifies again and makes a new one. Company
# users' tokens are not limited this way (their two-factor authentication is optional).

OTP_VERIFIED_AT_SESSION_KEY = "otp_verified_at"


def token_create_otp_check(*, user: Any, otp_verified_at: datetime | None) -> None:
    """Refuses a privileged user's token unless it is made from a session that passed the second factor."""
    if two_factor_required(user) and otp_verified_at is None:
        raise TwoFactorRequired(_("Your role requires a two-factor verified session to create an API token."), field="otp")


def token_use_check(*, token: Any) -> None:
    """Refuses a privileged user's token that was not created from a verified session, or is older
    than API_TOKEN_OTP_TTL (raised as a 403 `two_factor_required` by the authentication class)."""
    if not two_factor_required(token.user):
        return
    if token.otp_verified_at is None:
        raise TwoFactorRequired(_("This token was not created from a two-factor verified session: create a new one."))
    if token.created_at < timezone.now() - timedelta(seconds=settings.API_TOKEN_OTP_TTL):
        raise TwoFactorRequired(_("Tokens of your role work for a limited time after two-factor verification: create a new one."))


def otp_verified_at_mark(request: Any) -> None:
    """Records in the session that it has just passed the second factor (accounts.views)."""
    request.session[OTP_VERIFIED_AT_SESSION_KEY] = datetime.now(tz=UTC).isoformat()


def otp_verified_at_of(request: Any) -> datetime | None:
    """When this browser session last proved a one-time password (None: never, or not verified now)."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_verified", lambda: False)():
        return None
    raw = request.session.get(OTP_VERIFIED_AT_SESSION_KEY)
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
