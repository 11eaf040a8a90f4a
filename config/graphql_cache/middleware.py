"""Answer anonymous GETs of the GraphQL endpoint from the response cache, early.

A stored response needs no session, user, CSRF check, URL resolving or view: it
needs the GET's parameters, its persisted query's hash checked
(config.graphql_cache.persisted) and one round trip to the cache
(config.graphql_cache.responses, the view's own functions). This middleware
does just that for requests that are anonymous on their face (no
``Authorization`` header, no session cookie) and answers; anything else (a
miss, a malformed parameter, a POST) goes on to the view, which answers it as
always and fills the cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from strawberry.http import GraphQLRequestData

from config.graphql_cache import responses
from config.graphql_cache.persisted import read_extension
from config.request_errors import RequestError


class CachedResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self._path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "GET" and (response := self._cached(request)) is not None:
            return response
        return self.get_response(request)

    def _cached(self, request: HttpRequest) -> HttpResponseBase | None:
        if self._path is None:
            self._path = reverse("graphql")
        if (
            request.path != self._path
            or "HTTP_AUTHORIZATION" in request.META
            or settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            return None
        data = _graphql_get(request)
        if data is None:
            return None
        try:
            persisted = read_extension(data.extensions, data.query)
        except RequestError:
            return None  # the view explains the refusal
        slot = responses.slot_of(data, persisted)
        if slot is None:
            return None
        request.get_host()  # ALLOWED_HOSTS, as the rest of the stack would check it
        return responses.cached_response(request, slot)


def _graphql_get(request: HttpRequest) -> GraphQLRequestData | None:
    """A GET's operation, if its parameters are well formed (else the view says why)."""
    params = request.GET
    query = params.get("query")
    variables = _json(params.get("variables"))
    extensions = _json(params.get("extensions"))
    if (
        (query is None and extensions is None)
        or variables is _MALFORMED
        or extensions is _MALFORMED
        or not isinstance(variables, dict | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=params.get("operationName"),
        extensions=extensions,
    )


_MALFORMED: Any = object()


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return _MALFORMED
