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
STATIC_STORAGE = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


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
    if imagekit_enabled(imagekit):
        # Refuse to start rather than quietly storing customer images on local
        # disk when the operator asked for ImageKit.
        raise ImproperlyConfigured(
            "IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY and IMAGEKIT_URL_ENDPOINT are set, "
            "but the ImageKit storage backend is not available in this version. Unset "
            "them to run on the embedded local storage."
        )
    return {
        # Location and URL follow MEDIA_ROOT and SITE_URL + MEDIA_URL.
        "default": {"BACKEND": LOCAL_STORAGE_BACKEND},
        "staticfiles": STATIC_STORAGE,
    }
