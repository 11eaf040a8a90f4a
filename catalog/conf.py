"""Catalog options: defaults here, overrides in ``settings.CATALOG``."""

from __future__ import annotations

from typing import Any, TypedDict

from django.conf import settings


class CatalogSettings(TypedDict):
    MAX_UPLOAD_BYTES: int
    MAX_UPLOAD_PIXELS: int
    SMALL_VARIANT_SIZE: int


DEFAULTS: CatalogSettings = {
    "MAX_UPLOAD_BYTES": 25 * 1024 * 1024,
    "MAX_UPLOAD_PIXELS": 40_000_000,
    "SMALL_VARIANT_SIZE": 320,
}


def catalog_setting(name: str) -> Any:
    """Read one option; read on each call so ``override_settings`` applies."""
    return getattr(settings, "CATALOG", {}).get(name, DEFAULTS[name])
