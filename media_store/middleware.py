"""Serve cached renditions before the rest of the middleware stack.

A cached hit needs no session, user, CSRF or URL resolving: it needs the
request parsed and authorised (``media_store.cdn.request``, the view's own
parser), the source's version (one ``stat``) and the cached file
(``media_store.cdn.renditions``, the view's own cache). This middleware does
just that and answers; anything else (a refusal, a miss, an original, HEAD)
falls through to ``media_store.views.serve``, which explains refusals,
renders and fills the cache. Only files the view wrote can be served here,
so every refusal the view makes still holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers

from media_store.cdn import renditions
from media_store.cdn.errors import CdnError
from media_store.cdn.request import media_path, parse_request
from media_store.rendering import sniff_content_type
from media_store.views import rendition_headers


class CachedRenditionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "GET" and media_path(request) is not None:
            response = self._cached(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _cached(self, request: HttpRequest) -> HttpResponse | None:
        try:
            cdn = parse_request(request)
        except CdnError:
            return None  # the view explains the refusal
        if cdn.negotiated is None:
            return None  # an original: the view serves it
        try:
            stat = os.stat(os.path.join(storages["default"].location, cdn.name))
        except (OSError, ValueError):
            return None
        key = renditions.rendition_key(cdn.name, stat, cdn.transformation, cdn.negotiated.variant)
        cached = renditions.open_cached(key)
        if cached is None:
            return None
        with cached.handle:
            data = cached.handle.read()
        headers = rendition_headers(key)
        if request.headers.get("If-None-Match") == headers["ETag"]:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(
                data, content_type=sniff_content_type(data[:16]) or "application/octet-stream"
            )
        for name, value in headers.items():
            response.headers[name] = value
        if cdn.negotiated.vary_on_accept:
            patch_vary_headers(response, ("Accept",))
        return response
