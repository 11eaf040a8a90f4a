"""media_store's settings: typed defaults merged with ``settings.MEDIA_STORE``.

Read every option through :func:`media_store_settings` (or :func:`get`), never
with ``getattr(settings, ...)``; :mod:`appsettings` caches them and drops them
when ``MEDIA_STORE`` changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

from appsettings import (
    POSITIVE_INT,
    TEXT,
    AppSettings,
    Rule,
    derived_from,
    int_between,
    list_of,
    number_between,
    optional,
)
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import Transformation, parse_definition


class MediaStoreSettings(TypedDict):
    """Every ``MEDIA_STORE`` option, with its type."""

    # Longest side, in pixels, a transformed image may have.
    MAX_OUTPUT_SIDE: int
    # Sources with more pixels than this are refused before decoding.
    MAX_SOURCE_PIXELS: int
    # Where rendered transformations are cached; None means a ``renditions``
    # folder next to MEDIA_ROOT (outside it, so renditions are never served
    # or listed as originals).
    RENDITION_CACHE_DIR: str | Path | None
    # Encoder quality (1-100) for JPEG, WebP and AVIF when the URL has no ``q``.
    DEFAULT_QUALITY: int
    # Key for the local CDN's URL signatures; None derives one from SECRET_KEY.
    SIGNING_KEY: str | None
    # Lifetime, in seconds, of the signed URLs of private files, on both storages
    # (ImageKitStorage's ``signed_url_expire`` defaults to it).
    SIGNED_URL_EXPIRE: int
    # Named transformations, usable as ``n-<name>`` in URLs and ``preset`` in GraphQL.
    # The local CDN renders them by name; ImageKit gets their steps (see below).
    PRESETS: dict[str, str]
    # Presets the local CDN renders without a signature (their cost is known);
    # None means every preset.
    PUBLIC_PRESETS: tuple[str, ...] | None
    # Presets created, with the same definition, as named transformations in the
    # ImageKit dashboard: ImageKit URLs name them (``n-card``). Every other preset
    # is written out as its steps in ImageKit URLs, which needs no dashboard set-up.
    IMAGEKIT_NAMED_PRESETS: tuple[str, ...]
    # Render budget (media_store.rendering.budget), checked before decoding by the
    # CDN and when the API builds a transformation URL. Steps after preset expansion:
    MAX_CHAIN_STEPS: int
    # Estimated work units of one render (about 1 ns of one core each: 1e9 ~ 1 s).
    MAX_RENDER_WORK: int
    # Estimated bytes of images one render holds at once, decoded source included.
    MAX_RENDER_MEMORY: int
    # Image work one process runs at once (renders, and the decodes of uploads:
    # media_store.limiter); its estimated memory is also kept under MAX_RENDER_MEMORY
    # times this. Cached renditions are never limited. None: the
    # cores the process may use (at most 4) shared among SERVER_PROCESSES, at least 1.
    MAX_CONCURRENT_RENDERS: int | None
    # Server processes on this host that share its cores (gunicorn's workers:
    # config/gunicorn.py exports WEB_CONCURRENCY), so that their renders together
    # keep to the host's cores and memory.
    SERVER_PROCESSES: int
    # Seconds a render waits for a slot before the CDN answers 503 with Retry-After.
    RENDER_QUEUE_TIMEOUT: float
    # Bytes the rendition cache may hold; least recently used renditions go first.
    RENDITION_CACHE_MAX_BYTES: int


# Stored names under this prefix are private: their URLs, originals included,
# are always signed with an expiry, on both backends.
PRIVATE_PREFIX = "private/"

Option = Literal[
    "MAX_OUTPUT_SIDE",
    "MAX_SOURCE_PIXELS",
    "RENDITION_CACHE_DIR",
    "DEFAULT_QUALITY",
    "SIGNING_KEY",
    "SIGNED_URL_EXPIRE",
    "PRESETS",
    "PUBLIC_PRESETS",
    "IMAGEKIT_NAMED_PRESETS",
    "MAX_CHAIN_STEPS",
    "MAX_RENDER_WORK",
    "MAX_RENDER_MEMORY",
    "MAX_CONCURRENT_RENDERS",
    "SERVER_PROCESSES",
    "RENDER_QUEUE_TIMEOUT",
    "RENDITION_CACHE_MAX_BYTES",
]


def _cores() -> int:
    """Cores this process may run on, at most 4: past that, the memory renders hold
    together (MAX_RENDER_MEMORY each) matters more than their speed."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


DEFAULTS: MediaStoreSettings = {
    "MAX_OUTPUT_SIDE": 4096,
    "MAX_SOURCE_PIXELS": 40_000_000,
    "RENDITION_CACHE_DIR": None,
    "DEFAULT_QUALITY": 80,
    "SIGNING_KEY": None,
    "SIGNED_URL_EXPIRE": 3600,
    "PRESETS": {
        "thumbnail": "w-150,h-150",
        "card": "w-400,h-300",
        "zoom": "w-1600",
    },
    "PUBLIC_PRESETS": None,
    "IMAGEKIT_NAMED_PRESETS": (),
    # Calibrated on a 2-core machine (bench/bench_render_budget.py): the dearest
    # render these allow takes about 1 s of one core and under 100 MB, so two at
    # once on two cores stay under 2 s and a process under ~300 MB.
    "MAX_CHAIN_STEPS": 5,
    "MAX_RENDER_WORK": 1_000_000_000,
    "MAX_RENDER_MEMORY": 100 * 2**20,
    "MAX_CONCURRENT_RENDERS": None,
    "SERVER_PROCESSES": 1,
    "RENDER_QUEUE_TIMEOUT": 0.5,
    "RENDITION_CACHE_MAX_BYTES": 2**30,
}


def _finish(merged: dict[str, Any]) -> None:
    if merged["MAX_CONCURRENT_RENDERS"] is None:
        merged["MAX_CONCURRENT_RENDERS"] = max(1, _cores() // merged["SERVER_PROCESSES"])
    if not isinstance(merged["PRESETS"], Mapping):
        raise media_store_settings.error(
            "PRESETS", "must be a dict of name to chain, as in {'card': 'w-400,h-300'}"
        )
    if merged["PUBLIC_PRESETS"] is None:
        merged["PUBLIC_PRESETS"] = tuple(merged["PRESETS"])
    for option in ("PUBLIC_PRESETS", "IMAGEKIT_NAMED_PRESETS"):
        merged[option] = tuple(merged[option])
        undefined = sorted(set(merged[option]) - set(merged["PRESETS"]))
        if undefined:
            raise media_store_settings.error(
                option,
                f"names undefined preset(s): {', '.join(undefined)}; "
                "define them in MEDIA_STORE['PRESETS'] or remove them",
            )


# Not a string: "card" would otherwise read as the presets c, a, r and d.
PRESET_NAMES = Rule(
    lambda v: isinstance(v, list | tuple | set | frozenset) and all(isinstance(i, str) for i in v),
    "a list of preset names",
)

media_store_settings: AppSettings[MediaStoreSettings] = AppSettings(
    "MEDIA_STORE",
    DEFAULTS,
    rules={
        "MAX_OUTPUT_SIDE": POSITIVE_INT,
        "MAX_SOURCE_PIXELS": POSITIVE_INT,
        "DEFAULT_QUALITY": int_between(1, 100),
        "SIGNING_KEY": optional(TEXT),
        "SIGNED_URL_EXPIRE": POSITIVE_INT,
        "PUBLIC_PRESETS": optional(list_of(TEXT)),
        "IMAGEKIT_NAMED_PRESETS": PRESET_NAMES,
        "MAX_CHAIN_STEPS": POSITIVE_INT,
        "MAX_RENDER_WORK": POSITIVE_INT,
        "MAX_RENDER_MEMORY": POSITIVE_INT,
        "MAX_CONCURRENT_RENDERS": optional(POSITIVE_INT),
        "SERVER_PROCESSES": POSITIVE_INT,
        "RENDER_QUEUE_TIMEOUT": number_between(0, 60, unit="seconds"),
        "RENDITION_CACHE_MAX_BYTES": POSITIVE_INT,
    },
    finish=_finish,
)
"""Every option: the defaults overlaid with ``settings.MEDIA_STORE``, checked."""


@derived_from(media_store_settings)
def presets() -> dict[str, Transformation]:
    """The PRESETS, parsed; raises ImproperlyConfigured for the first invalid one.

    The system check ``media_store.E002`` reports them all at start-up.
    """
    parsed = {}
    for name, chain in media_store_settings()["PRESETS"].items():
        try:
            parsed[name] = parse_definition(name, chain)
        except InvalidTransformationError as e:
            raise ImproperlyConfigured(preset_error(name, e)) from e
    return parsed


def preset_error(name: str, error: InvalidTransformationError) -> str:
    """The message for an invalid preset: the setting, the preset and what is wrong."""
    return f"MEDIA_STORE['PRESETS'][{name!r}] is invalid: {error}."


def signing_key() -> str:
    """The key the local CDN signs and checks transformation URLs with.

    Derived from SECRET_KEY by default, so the secret itself never signs URLs.
    """
    configured = get("SIGNING_KEY")
    if configured:
        return configured
    return salted_hmac("media_store.signing", "url-signing-key").hexdigest()


def get(name: Option) -> Any:
    """Return one option, e.g. ``get("MAX_OUTPUT_SIDE")``."""
    return media_store_settings.get(name)


def rendition_cache_dir() -> Path:
    """The folder for cached renditions, resolved against the current MEDIA_ROOT."""
    configured = get("RENDITION_CACHE_DIR")
    if configured:
        return Path(configured)
    # Not cached: it follows MEDIA_ROOT, which tests change per test.
    return Path(settings.MEDIA_ROOT).resolve().parent / "renditions"
