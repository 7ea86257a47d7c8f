from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from core.context import request_ip
from core.errors import DomainError, InvalidInput, RequestTooLarge
from core.http import client_ip

API_PREFIX = "/api/"


class RequestContextMiddleware:
    """Makes the client's address available to audit events written deeper down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY on every response: scripts only from this site, so no
    inline script or event handler runs (templates keep their JavaScript in static/js/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class NulInUrlMiddleware:
    """Refuses a NUL character anywhere in a URL (path or query, raw or %00) with a 400, on pages and
    API alike: PostgreSQL cannot store or compare one, so it would otherwise fail deep down as a
    server error. (Bodies are covered by the forms' and serializers' own NUL checks.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return refusal_response(request, InvalidInput(_("The URL contains a NUL character.")))
        return self.get_response(request)


def refusal_response(request: HttpRequest, error: DomainError, headers: dict[str, str] | None = None) -> HttpResponse:
    """A refusal answered before (or instead of) a view: JSON under /api/, a plain page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error.as_dict(), status=error.status, headers=headers)
    page = render_to_string("refusal.html", {"status": error.status, "message": error.message})
    return HttpResponse(page, status=error.status, headers=headers)
def _client_language(request: HttpRequest) -> translation.override:
    """The language the client asks for (Accept-Language, the language cookie), for a refusal made
    before LocaleMiddleware has activated it."""
    return translation.override(translation.get_language_from_request(request))


class ApiRequestSizeMiddleware:
    """Refuses an API request whose declared body is larger than API_MAX_BODY_SIZE with a 413, before
    anything reads it. (Django reads no more than Content-Length, so a body without one is empty.)
    Pages are left alone: the admin's file imports are larger and have their own limits; so are the
    API's upload paths (API_UPLOAD_LIMITS)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.API_UPLOAD_LIMITS.get(request.path, settings.API_MAX_BODY_SIZE)
            if length > limit:
                with _client_language(request):
                    error = RequestTooLarge(_("The request body is %(length)s bytes; the API accepts at most %(limit)s.")
                                            % {"length": f"{length:,}", "limit": f"{limit:,}"})
                return refusal_response(request, error)
        return self.get_response(request)
