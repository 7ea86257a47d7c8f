"""Error pages: JSON with a stable code under /api/ (clients parse them), Django's pages elsewhere."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.contention import trouble_response
from core.errors import DomainError
from core.middleware import API_PREFIX

logger = logging.getLogger(__name__)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"code": "not_found", "message": _("Not found."), "field": None}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    trouble = trouble_response(request, error) if error is not None else None
    if trouble is not None:  # contention or a database outage met in a middleware (core.contention)
        return trouble
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"code": "server_error", "message": _("The server failed to carry out the request; it has been logged."),
             "field": None},
            status=500,
        )
    return defaults.server_error(request)


def signed_in_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for signed-in users whose refusals about who asks become HTTP answers: out of scope is a
    404, a missing right a 403; any other refusal is left to the view (its form shows it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if error.status == 404:
                raise Http404(error.message) from None
            if error.status == 403:
                raise HttpForbidden(error.message) from None
            raise

    return login_required(wrapper)
