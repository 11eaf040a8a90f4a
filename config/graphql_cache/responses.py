"""The response cache: query results of public data, shared by every app server.

An entry is keyed by the document's hash, the operation name, the variables,
which viewers may share it (catalog.visibility.shared_audience: staff never) and
a fingerprint of the schema and the settings that shape responses; it holds the
catalog version it was computed at (config.graphql_cache.invalidation) and the
body's ETag, and counts only while that version is current (one round trip reads
both); the body itself is stored under its ETag (config.graphql_cache.bodies).
Only successful queries are stored: never a response with errors, a mutation or
an upload.

GET responses carry the ETag and answer a matching ``If-None-Match`` with 304;
anonymous ones are public for ``MAX_AGE`` seconds (then
``STALE_WHILE_REVALIDATE``), other ones ``private, no-store``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from strawberry.http import GraphQLRequestData

from catalog.conf import DEFAULTS as CATALOG_DEFAULTS
from catalog.conf import catalog_setting
from catalog.visibility import ANONYMOUS, shared_audience
from config.graphql_cache import invalidation
from config.graphql_cache.bodies import recent_bodies
from config.graphql_cache.conf import get, response_cache_seconds
from config.graphql_cache.persisted import PersistedQuery, document_hash
from graphql_limits import graphql_settings
from media_store.conf import media_store_settings, signing_key

KEY_PREFIX = "graphql:response:"
# Bodies are stored under their ETag, apart from the entries that name them.
BODY_PREFIX = "graphql:body:"
# What a response to a GET depends on besides its URL.
VARY = ("Authorization", "Cookie")


@dataclass(slots=True)
class Slot:
    """Where the response to one request is kept, and the catalog version it was read at."""

    key: str
    # Who may share it (catalog.visibility.shared_audience).
    audience: str
    version: str = ""


def slot_for(
    request: HttpRequest, data: GraphQLRequestData, persisted: PersistedQuery | None
) -> Slot | None:
    """Where a response to this request is kept, or None if it may not be.

    Only GETs and JSON POSTs (never multipart uploads) of viewers who may share
    what they see, while the response cache is on. No I/O.
    """
    if request.method == "POST" and request.content_type != "application/json":
        return None
    if not response_cache_seconds():
        return None  # before asking who the user is: that may cost a query
    return slot_of(data, persisted, shared_audience(request.user))


def slot_of(
    data: GraphQLRequestData, persisted: PersistedQuery | None, audience: str | None = ANONYMOUS
) -> Slot | None:
    """Where a response to ``data`` for ``audience`` is kept (None: nowhere). No I/O.

    The middleware's way in: it knows the request is anonymous without a user.
    """
    if audience is None or not response_cache_seconds():
        return None
    if persisted is not None:
        sha256 = persisted.sha256
    elif data.query is not None:
        sha256 = document_hash(data.query)
    else:
        return None
    try:
        variables = json.dumps(data.variables or {}, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        return None  # nested too deeply to key; the limits refuse such input anyway
    parts = (fingerprint(), audience, sha256, data.operation_name or "", variables)
    return Slot(KEY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest(), audience)


def cached_response(request: HttpRequest, slot: Slot) -> HttpResponseBase | None:
    """The stored response (or a 304 for a GET that has it), or None; fills ``slot.version``.

    One round trip reads the catalog version and the entry: the entry counts only
    if it was stored at the current version. Its body comes from this process's
    recent bodies, or a second round trip.
    """
    found = cache.get_many([invalidation.VERSION_KEY, slot.key])
    version = found.get(invalidation.VERSION_KEY)
    if version is None:
        slot.version = invalidation.current()  # first use, or lost: every entry is stale
        return None
    slot.version = version
    entry = found.get(slot.key)
    if entry is None or entry[0] != version:
        return None
    etag = entry[1]
    public = slot.audience == ANONYMOUS
    if request.method == "GET" and _matches(request, etag):
        return _http_caching(HttpResponseNotModified(), etag, public=public)
    body = recent_bodies.get(etag)
    if body is None:
        body = cache.get(BODY_PREFIX + etag)
        if body is None:
            return None  # gone before its entry: run the query again
        recent_bodies.put(etag, body)
    # Answered before CommonMiddleware, which would set the length.
    response = HttpResponse(body, content_type="application/json")
    response["Content-Length"] = str(len(body))
    return _respond(request, response, etag, public=public)


def finish(
    request: HttpRequest, response: HttpResponseBase, *, slot: Slot | None, succeeded: bool
) -> HttpResponseBase:
    """Store a response that may be shared, and give a GET its caching headers.

    ``succeeded``: a query that ran without errors; nothing else is stored, and a
    GET of anything else is ``no-store``. The entry is stored with the version
    read before the query ran: if a write committed meanwhile, the entry is
    already stale and never served.
    """
    if not (succeeded and response.status_code == 200 and isinstance(response, HttpResponse)):
        if request.method == "GET":
            patch_cache_control(response, no_store=True)
            patch_vary_headers(response, VARY)
        return response
    body = response.content
    etag = hashlib.sha256(body).hexdigest()[:32]
    if slot is not None:
        cache.set_many(
            {slot.key: (slot.version, etag), BODY_PREFIX + etag: body}, response_cache_seconds()
        )
        recent_bodies.put(etag, body)
    return _respond(request, response, etag, public=not request.user.is_authenticated)


def _respond(
    request: HttpRequest, response: HttpResponse, etag: str, *, public: bool
) -> HttpResponseBase:
    if request.method != "GET":
        return response
    if _matches(request, etag):
        response = HttpResponseNotModified()
    return _http_caching(response, etag, public=public)


def _http_caching(response: HttpResponseBase, etag: str, *, public: bool) -> HttpResponseBase:
    response["ETag"] = f'"{etag}"'
    if public:
        patch_cache_control(
            response,
            public=True,
            max_age=get("MAX_AGE"),
            stale_while_revalidate=get("STALE_WHILE_REVALIDATE"),
        )
    else:
        patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, VARY)
    return response


def _matches(request: HttpRequest, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks for GET) or is *."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or any(tag.removeprefix("W/").strip('"') == etag for tag in tags)


@functools.cache
def fingerprint() -> str:
    """What a stored response depends on besides the data: the schema, and the
    settings that change what a response holds or whether a query is refused.

    A deployment that changes any of them stops using the entries of the old one.
    The URL signing keys are in it (hashed, never stored as such): a new key
    makes every signed URL in the old entries invalid.
    """
    from config.schema import schema  # the schema imports the whole API

    media = {k: v for k, v in media_store_settings().items() if k != "RENDITION_CACHE_DIR"}
    parts: list[Any] = [
        str(schema),
        sorted(graphql_settings().items()),
        get("PERSISTED_QUERIES_ONLY"),
        [(name, catalog_setting(name)) for name in sorted(CATALOG_DEFAULTS)],
        sorted(media.items(), key=lambda item: item[0]),
        settings.SITE_URL,
        settings.MEDIA_URL,
        settings.STORAGES["default"],
        getattr(settings, "IMAGEKIT_URL_ENDPOINT", ""),
        getattr(settings, "IMAGEKIT_PRIVATE_FILES", False),
        getattr(settings, "IMAGEKIT_FOLDER", ""),
        signing_key(),
        getattr(settings, "IMAGEKIT_PRIVATE_KEY", ""),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@receiver(setting_changed)
def _reload(**kwargs: Any) -> None:
    fingerprint.cache_clear()
