"""Catalog options: defaults here, overrides in ``settings.CATALOG``."""

from __future__ import annotations

from typing import Any, TypedDict

from django.conf import settings


class CatalogSettings(TypedDict):
    MAX_UPLOAD_BYTES: int
    MAX_UPLOAD_PIXELS: int
    SMALL_VARIANT_SIZE: int
    # Most distinct widths one `srcset` may ask for.
    MAX_SRCSET_WIDTHS: int
    # Widths (and lone heights) in URLs the API builds are rounded up to the next
    # of these, so renditions, and therefore caches, stay few; None keeps them as asked.
    SNAP_WIDTHS: tuple[int, ...] | None
    # Like ImageKit's "restrict unnamed transformations": anonymous viewers get
    # presets only (`url(preset:)`, `small`, the original), never `transform(s)`.
    ANONYMOUS_PRESETS_ONLY: bool


DEFAULTS: CatalogSettings = {
    "MAX_UPLOAD_BYTES": 25 * 1024 * 1024,
    "MAX_UPLOAD_PIXELS": 40_000_000,
    "SMALL_VARIANT_SIZE": 320,
    "MAX_SRCSET_WIDTHS": 10,
    "SNAP_WIDTHS": None,
    "ANONYMOUS_PRESETS_ONLY": False,
}


def catalog_setting(name: str) -> Any:
    """Read one option; read on each call so ``override_settings`` applies."""
    return getattr(settings, "CATALOG", {}).get(name, DEFAULTS[name])
