"""Django's error pages, as JSON for API clients.

Refusals Django makes before any view runs (a Host header not in ALLOWED_HOSTS,
a request Django finds suspicious, an unknown path) get GraphQL's error shape
with a code, like every other refusal of this API; the admin keeps its HTML pages.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from graphql_limits import ErrorCode

ADMIN_PREFIX = "/admin/"


def _json(status: int, code: ErrorCode, message: str) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = "The Host header names a host this server does not serve."
    else:
        message = "The request is malformed; check its headers and body."
    return _json(400, ErrorCode.BAD_REQUEST, message)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return defaults.permission_denied(request, exception)
    return _json(403, ErrorCode.FORBIDDEN, "You may not do this; sign in as a user who may.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return defaults.page_not_found(request, exception)
    return _json(
        404, ErrorCode.NOT_FOUND, "Nothing is here: the API is at /graphql/, media at /media/."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return defaults.server_error(request)
    return _json(500, ErrorCode.INTERNAL_SERVER_ERROR, "Unexpected error.")
