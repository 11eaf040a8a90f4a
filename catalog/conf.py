"""Catalog options: typed defaults merged with ``settings.CATALOG``.

Read every option through :func:`catalog_settings` (or :func:`catalog_setting`);
:mod:`appsettings` caches them and drops them when ``CATALOG`` changes.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from appsettings import BOOLEAN, POSITIVE_INT, AppSettings, list_of, number_between, optional


class CatalogSettings(TypedDict):
    """Every ``CATALOG`` option, with its type."""

    # Largest accepted upload, in bytes, and image, in pixels.
    MAX_UPLOAD_BYTES: int
    MAX_UPLOAD_PIXELS: int
    # Longest side of the small variant made at upload.
    SMALL_VARIANT_SIZE: int
    # Seconds an upload waits for an image-work slot (media_store.limiter:
    # MEDIA_STORE's MAX_CONCURRENT_RENDERS per process) before it is refused as busy.
    UPLOAD_QUEUE_TIMEOUT: float
    # Most distinct widths one `srcset` may ask for.
    MAX_SRCSET_WIDTHS: int
    # Widths (and lone heights) in URLs the API builds are rounded up to the next
    # of these, so renditions, and therefore caches, stay few; None (or empty)
    # keeps them as asked. Read back sorted, without repeats.
    SNAP_WIDTHS: tuple[int, ...] | None
    # Like ImageKit's "restrict unnamed transformations": anonymous viewers get
    # presets only (`url(preset:)`, `small`, the original), never `transform(s)`.
    ANONYMOUS_PRESETS_ONLY: bool


Option = Literal[
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PIXELS",
    "SMALL_VARIANT_SIZE",
    "UPLOAD_QUEUE_TIMEOUT",
    "MAX_SRCSET_WIDTHS",
    "SNAP_WIDTHS",
    "ANONYMOUS_PRESETS_ONLY",
]

DEFAULTS: CatalogSettings = {
    "MAX_UPLOAD_BYTES": 25 * 1024 * 1024,
    "MAX_UPLOAD_PIXELS": 40_000_000,
    "SMALL_VARIANT_SIZE": 320,
    "UPLOAD_QUEUE_TIMEOUT": 30.0,
    "MAX_SRCSET_WIDTHS": 10,
    "SNAP_WIDTHS": None,
    "ANONYMOUS_PRESETS_ONLY": False,
}


def _finish(merged: dict[str, Any]) -> None:
    merged["SNAP_WIDTHS"] = tuple(sorted(set(merged["SNAP_WIDTHS"] or ()))) or None


catalog_settings: AppSettings[CatalogSettings] = AppSettings(
    "CATALOG",
    DEFAULTS,
    rules={
        "MAX_UPLOAD_BYTES": POSITIVE_INT,
        "MAX_UPLOAD_PIXELS": POSITIVE_INT,
        "SMALL_VARIANT_SIZE": POSITIVE_INT,
        "UPLOAD_QUEUE_TIMEOUT": number_between(0, 600, unit="seconds"),
        "MAX_SRCSET_WIDTHS": POSITIVE_INT,
        "SNAP_WIDTHS": optional(list_of(POSITIVE_INT)),
        "ANONYMOUS_PRESETS_ONLY": BOOLEAN,
    },
    finish=_finish,
)
"""Every option: the defaults overlaid with ``settings.CATALOG``, checked."""


def catalog_setting(name: Option) -> Any:
    """Return one option, e.g. ``catalog_setting("MAX_UPLOAD_BYTES")``."""
    return catalog_settings.get(name)
