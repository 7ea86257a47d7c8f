"""The one DRF exception handler: every error leaves the API as {"code", "message", "field"}."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import DomainError, RateLimited

logger = logging.getLogger(__name__)


def _first_error(detail: Any, path: str | None = None) -> tuple[str | None, Any]:
    """Walks a DRF error structure to its first leaf: (dotted field path, ErrorDetail)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            child = key if key != "non_field_errors" else None
            return _first_error(value, f"{path}.{child}" if path and child else (child or path))
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    return path, detail


def _body(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        return Response(_body("not_found", _("Not found."), None), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, IntegrityError):
        # Services validate first; reaching here means a race lost at a database constraint.
        # Nothing was written (the transaction rolled back), so the client may retry.
        logger.error("integrity error reached the API", exc_info=exc)
        set_rollback()
        return Response(
            _body("conflict", _("The request conflicted with a concurrent change; nothing was saved. Retry."), None),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if isinstance(exc, exceptions.Throttled):
            limited = RateLimited(max(1, math.ceil(exc.wait)) if exc.wait is not None else 1)
            headers["Retry-After"] = str(limited.retry_after)
            return Response(limited.as_dict(), status=limited.status, headers=headers)
        if isinstance(exc, exceptions.ValidationError):
            field, detail = _first_error(exc.detail)
            code = getattr(detail, "code", None) or "invalid"
            body = _body(code, str(detail), field)
            body["errors"] = exc.detail
            return Response(body, status=exc.status_code, headers=headers)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return Response(_body(str(code), str(exc.detail), None), status=exc.status_code, headers=headers)
    return None
