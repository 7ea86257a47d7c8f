from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from core.context import request_ip
from core.errors import InvalidInput, RequestTooLarge
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


def _client_language(request: HttpRequest) -> translation.override:
    """The language the client asks for (Accept-Language, the language cookie), for a refusal made
    before LocaleMiddleware has activated it."""
    return translation.override(translation.get_language_from_request(request))


class ApiRequestSizeMiddleware:
    """Refuses an API request whose declared body is larger than API_MAX_BODY_SIZE with a 413, before
    anything reads it. (Django reads no more than Content-Length, so a body without one is empty.)
    Pages are left alone: the admin's file imports are larger and have their own limits; so are the
    API's upload paths (API_UPLOAD_LIMITS).

    Also refuses a NUL character in an API URL (path or query) with a 400: PostgreSQL cannot store
    or compare one, so it would otherwise fail deep down as a server error. (Bodies are covered by
    the serializers' own NUL check.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
                with _client_language(request):
                    refused = InvalidInput(_("The URL contains a NUL character."))
                return JsonResponse(refused.as_dict(), status=refused.status)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.API_UPLOAD_LIMITS.get(request.path, settings.API_MAX_BODY_SIZE)
            if length > limit:
                with _client_language(request):
                    error = RequestTooLarge(_("The request body is %(length)s bytes; the API accepts at most %(limit)s.")
                                            % {"length": f"{length:,}", "limit": f"{limit:,}"})
                return JsonResponse(error.as_dict(), status=error.status)
        return self.get_response(request)
