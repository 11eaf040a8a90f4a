"""Serve cached renditions before the rest of the middleware stack.

A cached hit needs no session, user, CSRF or URL resolving: it needs the
signature checked, the source's version (one ``stat``) and the cached file.
This middleware does just that and answers; anything else (a miss, an error,
an original, a 304 worth computing properly) falls through to
``media_store.views.serve``, which renders and fills the cache. Only files the
view wrote can be served here, so every refusal the view makes still holds.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers

from media_store.conf import PRIVATE_PREFIX, rendition_cache_dir, signing_key
from media_store.grammar import Transformation, parse
from media_store.presets import expand, only_public_presets
from media_store.rendering import negotiate, sniff_content_type
from media_store.signing import SignatureError, split_target, verify
from media_store.views import RENDITION_CACHE_CONTROL, rendition_key


@functools.lru_cache(maxsize=512)
def _chain(spec: str) -> tuple[Transformation, Transformation]:
    """(as requested, presets expanded); raises on bad grammar (the view reports it)."""
    requested = parse(spec)
    return requested, expand(requested)


class CachedRenditionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        prefix = urlsplit(settings.MEDIA_URL).path
        if request.method == "GET" and request.path_info.startswith(prefix):
            response = self._cached(request, request.path_info[len(prefix) :])
            if response is not None:
                return response
        return self.get_response(request)

    def _cached(self, request: HttpRequest, rest: str) -> HttpResponse | None:
        query = request.META.get("QUERY_STRING", "")
        if rest.startswith("tr:"):
            spec, _, name = rest[3:].partition("/")
            if "tr=" in query:
                return None
        elif "tr=" in query:
            spec, name = request.GET.get("tr", ""), rest
        else:
            return None  # an original: the view serves it
        if not name or "\0" in name or name.startswith("/") or ".." in name.split("/"):
            return None
        try:
            requested, transformation = _chain(spec)
            negotiated = negotiate(transformation, request.headers.get("Accept", ""))
        except Exception:
            return None
        if negotiated is None or negotiated.variant == "original":
            return None
        if name.startswith(PRIVATE_PREFIX) or not only_public_presets(requested):
            try:
                verify(split_target(rest, query), signing_key())
            except SignatureError:
                return None  # the view explains the refusal
        try:
            stat = os.stat(os.path.join(storages["default"].location, name))
            key = rendition_key(name, stat, transformation, negotiated.variant)
            with open(rendition_cache_dir() / key[:2] / key, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        etag = f'"{key[:40]}"'
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(
                data, content_type=sniff_content_type(data[:16]) or "application/octet-stream"
            )
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = RENDITION_CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        if negotiated.vary_on_accept:
            patch_vary_headers(response, ("Accept",))
        return response
