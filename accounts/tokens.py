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
from datetime import datetime
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


# --- Two-factor hook (filled in by the security work) ---------------------------------------------
# Tokens of privileged roles (regulators, the exchange operator, auditors, staff) are to be created
# only right after the user proved a one-time password. The pages pass the time of the session's last
# OTP proof to `api_token_create(otp_verified_at=...)`, which calls `token_create_otp_check` before it
# creates anything and stores the time on the token (`ApiToken.otp_verified_at`); every request made
# with a token calls `token_use_check`. Both accept everything until two-factor is enforced.

def token_create_otp_check(*, user: Any, otp_verified_at: datetime | None) -> None:
    """Raise a core.errors.DomainError (e.g. PermissionDenied, field "otp") to refuse creating a token."""
    return None


def token_use_check(*, token: Any) -> None:
    """Raise a core.errors.DomainError to refuse a request made with this (otherwise valid) token."""
    return None


def otp_verified_at_of(request: Any) -> datetime | None:
    """When this browser session last proved a one-time password (None: never, or no two-factor yet).
    The token page passes it to api_token_create; the security work reads it from the session."""
    return None
