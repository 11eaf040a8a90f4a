"""Choose the Django ``STORAGES`` from configuration.

Imported by ``config.settings`` before apps load, so it imports nothing that
needs configured settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

IMAGEKIT_VARIABLES = ("IMAGEKIT_PRIVATE_KEY", "IMAGEKIT_PUBLIC_KEY", "IMAGEKIT_URL_ENDPOINT")

LOCAL_STORAGE_BACKEND = "media_store.storage.local.LocalMediaStorage"
IMAGEKIT_STORAGE_BACKEND = "media_store.storage.imagekit.ImageKitStorage"
STATIC_STORAGE = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# The two storages by the names commands take (``media_sync --from local --to imagekit``);
# each reads its options from settings (MEDIA_ROOT; IMAGEKIT_*).
STORAGE_BACKENDS = {"local": LOCAL_STORAGE_BACKEND, "imagekit": IMAGEKIT_STORAGE_BACKEND}


def imagekit_enabled(imagekit: Mapping[str, str]) -> bool:
    """Return True when all ImageKit variables are set, False when none are.

    Raises ImproperlyConfigured for a partial configuration, naming what is missing.
    """
    present = [name for name in IMAGEKIT_VARIABLES if imagekit.get(name)]
    if not present:
        return False
    missing = [name for name in IMAGEKIT_VARIABLES if name not in present]
    if missing:
        raise ImproperlyConfigured(
            f"ImageKit is partly configured: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set. Set all of "
            f"{', '.join(IMAGEKIT_VARIABLES)} to use ImageKit, or none of them to use "
            "the embedded local storage."
        )
    return True


def select_storages(*, imagekit: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Return the ``STORAGES`` setting for this configuration."""
    # Both backends read their options from settings (IMAGEKIT_*, MEDIA_ROOT...).
    backend = IMAGEKIT_STORAGE_BACKEND if imagekit_enabled(imagekit) else LOCAL_STORAGE_BACKEND
    return {"default": {"BACKEND": backend}, "staticfiles": STATIC_STORAGE}
