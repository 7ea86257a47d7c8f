"""DRF authentication by API token: `Authorization: Token ncr_...` or `Authorization: Bearer ncr_...`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.services import api_token_touch
from accounts.tokens import api_token_for_key, token_use_check
from core.errors import DomainError

KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: let session authentication try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give exactly one key after the keyword."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = api_token_for_key(key)
        now = timezone.now()
        # One message for unknown, revoked and expired keys: a caller learns nothing about other keys.
        if token is None or not token.is_active_at(now):
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        try:
            token_use_check(token=token)
        except DomainError as error:
            if error.status == 403:  # e.g. two_factor_required: the key is right, the user must act
                raise exceptions.PermissionDenied(error.message, code=error.code) from None
            raise exceptions.AuthenticationFailed(error.message) from None
        api_token_touch(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (/api/schema/) describes this authentication."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": 'An API token from /profile/tokens/, as "Token ncr_..." or "Bearer ncr_..."',
        }
