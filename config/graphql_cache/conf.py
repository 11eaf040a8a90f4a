"""Persisted queries and the response cache: typed defaults merged with ``settings.GRAPHQL_CACHE``.

Read every option through :func:`graphql_cache_settings` (or :func:`get`). The
merged dict is cached and dropped when ``GRAPHQL_CACHE`` (or a signed-URL
lifetime it is checked against) changes, so ``override_settings`` and
pytest-django's ``settings`` fixture take effect on the next request.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, TypedDict, cast

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from media_store.conf import get as media_store_setting


class GraphQLCacheSettings(TypedDict):
    """Every ``GRAPHQL_CACHE`` option, with its type."""

    # Allow-list mode: only documents registered with `manage.py
    # register_persisted_queries` run; clients cannot register any.
    PERSISTED_QUERIES_ONLY: bool
    # Largest document, in UTF-8 bytes, stored as a persisted query (a client's
    # or the command's); the GraphQL limits apply to every document besides.
    MAX_PERSISTED_QUERY_BYTES: int
    # Seconds a query's response stays in the shared cache; 0 turns the response
    # cache off. Shortened so that signed URLs never outlive their signature
    # (see response_cache_seconds).
    RESPONSE_CACHE_SECONDS: int
    # Cache-Control of successful anonymous GET responses: how long browsers and
    # CDNs may use one without asking, then how long they may serve it while asking.
    MAX_AGE: int
    STALE_WHILE_REVALIDATE: int


Option = Literal[
    "PERSISTED_QUERIES_ONLY",
    "MAX_PERSISTED_QUERY_BYTES",
    "RESPONSE_CACHE_SECONDS",
    "MAX_AGE",
    "STALE_WHILE_REVALIDATE",
]

DEFAULTS: GraphQLCacheSettings = {
    "PERSISTED_QUERIES_ONLY": False,
    "MAX_PERSISTED_QUERY_BYTES": 32 * 1024,
    "RESPONSE_CACHE_SECONDS": 300,
    "MAX_AGE": 30,
    "STALE_WHILE_REVALIDATE": 60,
}

# What a signed URL must still have left when a browser finally uses it: pages
# load lazily, images below the fold minutes after the response arrived.
SIGNED_URL_MARGIN = 300

_SECONDS = ("RESPONSE_CACHE_SECONDS", "MAX_AGE", "STALE_WHILE_REVALIDATE")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@functools.cache
def graphql_cache_settings() -> GraphQLCacheSettings:
    """Return the defaults overlaid with ``settings.GRAPHQL_CACHE``.

    Raises ImproperlyConfigured for an unknown option, an invalid value, or HTTP
    lifetimes that would let a CDN keep signed URLs past their expiry.
    """
    overrides: dict[str, Any] = dict(getattr(settings, "GRAPHQL_CACHE", None) or {})
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown GRAPHQL_CACHE option(s): {', '.join(unknown)}. "
            f"Valid options: {', '.join(DEFAULTS)}."
        )
    merged = cast(GraphQLCacheSettings, {**DEFAULTS, **overrides})
    if not isinstance(merged["PERSISTED_QUERIES_ONLY"], bool):
        raise ImproperlyConfigured("GRAPHQL_CACHE['PERSISTED_QUERIES_ONLY'] must be True or False.")
    if not _is_int(merged["MAX_PERSISTED_QUERY_BYTES"]) or merged["MAX_PERSISTED_QUERY_BYTES"] < 1:
        raise ImproperlyConfigured(
            "GRAPHQL_CACHE['MAX_PERSISTED_QUERY_BYTES'] must be a positive integer."
        )
    for name in _SECONDS:
        value = merged[name]  # type: ignore[literal-required]
        if not _is_int(value) or value < 0:
            raise ImproperlyConfigured(f"GRAPHQL_CACHE[{name!r}] must be 0 or more seconds.")
    budget = signed_url_lifetime() - SIGNED_URL_MARGIN
    if merged["MAX_AGE"] + merged["STALE_WHILE_REVALIDATE"] > budget:
        raise ImproperlyConfigured(
            "GRAPHQL_CACHE['MAX_AGE'] + ['STALE_WHILE_REVALIDATE'] (GRAPHQL_CACHE_MAX_AGE, "
            "GRAPHQL_CACHE_STALE_WHILE_REVALIDATE) must leave signed URLs "
            f"{SIGNED_URL_MARGIN} s of their lifetime ({signed_url_lifetime()} s): at most "
            f"{budget} s together, or lengthen the signed URLs' lifetime."
        )
    return merged


def get(name: Option) -> Any:
    """Return one option, e.g. ``get("MAX_AGE")``."""
    return graphql_cache_settings()[name]


def signed_url_lifetime() -> int:
    """Seconds the shortest-lived signed URL in a response stays valid after it is built.

    The local storage's lifetime, and ImageKit's own while it has one.
    """
    lifetimes = [media_store_setting("SIGNED_URL_EXPIRE")]
    imagekit = getattr(settings, "IMAGEKIT_SIGNED_URL_EXPIRE", None)
    if imagekit is not None:
        lifetimes.append(imagekit)
    return min(lifetimes)


def response_cache_seconds() -> int:
    """How long a response may stay in the shared cache; 0: the response cache is off.

    Off with a per-process cache (local memory): a write through one process could
    not invalidate the entries of the others. Otherwise RESPONSE_CACHE_SECONDS, but
    no longer than signed URLs allow: a URL signed when the response was computed
    may be served from here for this long, then kept by a CDN or browser for
    MAX_AGE + STALE_WHILE_REVALIDATE, and must still be valid SIGNED_URL_MARGIN
    later, when the page loads the image. So these four add up to at most the
    signed URLs' lifetime (graphql_cache_settings checks that the last three fit).
    """
    if not shared_cache():
        return 0
    conf = graphql_cache_settings()
    left = (
        signed_url_lifetime() - SIGNED_URL_MARGIN - conf["MAX_AGE"] - conf["STALE_WHILE_REVALIDATE"]
    )
    return max(0, min(conf["RESPONSE_CACHE_SECONDS"], left))


def shared_cache() -> bool:
    """Whether the default cache is one that every app server shares (Redis), as
    /readyz also judges it (ops.health)."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in {"GRAPHQL_CACHE", "MEDIA_STORE", "IMAGEKIT_SIGNED_URL_EXPIRE"}:
        graphql_cache_settings.cache_clear()
