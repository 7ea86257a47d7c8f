"""Two-factor enforcement for sessions: pages, the admin and the API alike.

A session whose user has a confirmed TOTP device must have verified it; a privileged user (regulators,
the exchange operator, auditors, staff) must have one. Until then the pages redirect to the
verification (or enrolment) page, and the API answers 403 `two_factor_required`. Token requests are
checked by the API's authentication class (accounts.authentication), since they carry no session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from accounts.selectors import two_factor_pending
from core.errors import TwoFactorRequired

# Pages a session that still owes its second factor may reach, by what it owes.
_OPEN_TO = {"verify": ("two-factor-verify",), "enrol": ("two-factor",)}
_ALWAYS_OPEN = ("login", "logout", "admin:logout")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def _open_paths(self) -> dict[str, set[str]]:
        always = {reverse(name) for name in _ALWAYS_OPEN}
        return {pending: always | {reverse(name) for name in names} for pending, names in _OPEN_TO.items()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending = two_factor_pending(request.user)
        if pending is None or request.path_info in self._open_paths[pending] or request.path_info.startswith(
            "/" + settings.STATIC_URL.lstrip("/")
        ):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(TwoFactorRequired().as_dict(), status=TwoFactorRequired.status)
        target = reverse(_OPEN_TO[pending][0])
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
