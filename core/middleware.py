from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.context import request_ip


class RequestContextMiddleware:
    """Makes the client's address available to audit events written deeper down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
