"""API token keys: how they look, how they are stored, and the two-factor hook.

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
from typing import Any

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


# --- Two-factor (README: Security) ----------------------------------------------------------------
# A token of a privileged user (regulators, the exchange operator, auditors, staff) is created only
# from a session that passed the second factor (its time is stored on the token) and works for
# API_TOKEN_OTP_TTL after its creation; then the user verifies again and makes a new one. Company
# users' tokens are not limited this way (their two-factor authentication is optional).

OTP_VERIFIED_AT_SESSION_KEY = "otp_verified_at"


def token_create_otp_check(*, user: Any, otp_verified_at: datetime | None) -> None:
    """Refuses a privileged user's token unless it is made from a session that passed the second factor."""
    from accounts.selectors import two_factor_required
    from core.errors import TwoFactorRequired

    if two_factor_required(user) and otp_verified_at is None:
        raise TwoFactorRequired("Your role requires a two-factor verified session to create an API token.", field="otp")


def token_use_check(*, token: Any) -> None:
    """Refuses a privileged user's token that was not created from a verified session, or is older
    than API_TOKEN_OTP_TTL (raised as a 403 `two_factor_required` by the authentication class)."""
    from django.conf import settings
    from django.utils import timezone

    from accounts.selectors import two_factor_required
    from core.errors import TwoFactorRequired

    if not two_factor_required(token.user):
        return
    if token.otp_verified_at is None:
        raise TwoFactorRequired("This token was not created from a two-factor verified session: create a new one.")
    if token.created_at < timezone.now() - timedelta(seconds=settings.API_TOKEN_OTP_TTL):
        raise TwoFactorRequired("Tokens of your role work for a limited time after two-factor verification: create a new one.")


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
