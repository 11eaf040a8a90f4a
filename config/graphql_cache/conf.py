"""Persisted queries and the response cache: typed defaults merged with ``settings.GRAPHQL_CACHE``.

Read every option through :data:`graphql_cache_settings` (or :func:`get`);
``appsettings`` caches them and drops them when ``GRAPHQL_CACHE`` or the
signed-URL lifetime they are checked against changes.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

from appsettings import BOOLEAN, POSITIVE_INT, AppSettings, Rule
from media_store.conf import media_store_settings


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


def _finish(merged: dict[str, Any]) -> None:
    budget = signed_url_lifetime() - SIGNED_URL_MARGIN
    if merged["MAX_AGE"] + merged["STALE_WHILE_REVALIDATE"] > budget:
        raise graphql_cache_settings.error(
            "MAX_AGE",
            "+ ['STALE_WHILE_REVALIDATE'] (GRAPHQL_CACHE_MAX_AGE, "
            "GRAPHQL_CACHE_STALE_WHILE_REVALIDATE) must leave signed URLs "
            f"{SIGNED_URL_MARGIN} s of their lifetime ({signed_url_lifetime()} s): at most "
            f"{budget} s together, or lengthen the signed URLs' lifetime",
        )


SECONDS = Rule(
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "0 or more seconds"
)

graphql_cache_settings: AppSettings[GraphQLCacheSettings] = AppSettings(
    "GRAPHQL_CACHE",
    DEFAULTS,
    rules={
        "PERSISTED_QUERIES_ONLY": BOOLEAN,
        "MAX_PERSISTED_QUERY_BYTES": POSITIVE_INT,
        "RESPONSE_CACHE_SECONDS": SECONDS,
        "MAX_AGE": SECONDS,
        "STALE_WHILE_REVALIDATE": SECONDS,
    },
    finish=_finish,
)
"""Every option: the defaults overlaid with ``settings.GRAPHQL_CACHE``, checked (also
against the signed URLs' lifetime, so it is read again when MEDIA_STORE changes)."""
graphql_cache_settings.depends_on(media_store_settings)


def get(name: Option) -> Any:
    """Return one option, e.g. ``get("MAX_AGE")``."""
    return graphql_cache_settings.get(name)


def signed_url_lifetime() -> int:
    """Seconds a signed URL in a response stays valid after it is built (both storages)."""
    return media_store_settings.get("SIGNED_URL_EXPIRE")


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
