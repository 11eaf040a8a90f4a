"""Who may see what: the one rule for private images.

Every read (queries, the objects mutations look up by ID, what mutations
return) and every write that makes an image private goes through here, so
"who may see a private image" and "who may make one" cannot drift apart.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from catalog.models import Image

M = TypeVar("M", bound=models.Model)

Viewer = AbstractBaseUser | AnonymousUser | None

# The audiences of shared_audience.
ANONYMOUS = "anonymous"
SIGNED_IN = "signed-in"


def can_see_private(viewer: Viewer) -> bool:
    """Private images exist only for active staff; they alone may create them too."""
    return bool(
        viewer is not None and viewer.is_authenticated and viewer.is_active and viewer.is_staff
    )


def visible_images(queryset: models.QuerySet[Image], viewer: Viewer) -> models.QuerySet[Image]:
    """``queryset`` without the private images ``viewer`` may not see."""
    return queryset if can_see_private(viewer) else queryset.filter(is_private=False)


def visible(model: type[M], viewer: Viewer) -> models.QuerySet[M]:
    """The rows of ``model`` that ``viewer`` may address by ID."""
    queryset = model._default_manager.all()
    if model is Image:
        return visible_images(queryset, viewer)  # type: ignore[arg-type,return-value]
    return queryset


def shared_audience(viewer: Viewer) -> str | None:
    """Which viewers are shown the same as ``viewer``, for caches shared between them.

    None for staff: private images never enter a shared cache. Signed-in viewers
    are kept apart from anonymous ones, whom the API may show less
    (``CATALOG_ANONYMOUS_PRESETS_ONLY``).
    """
    if can_see_private(viewer):
        return None
    if viewer is not None and viewer.is_authenticated:
        return SIGNED_IN
    return ANONYMOUS
