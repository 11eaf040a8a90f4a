"""Presets: named transformations (``n-<name>``) defined in MEDIA_STORE["PRESETS"].

ImageKit knows only the names created in its dashboard, listed in
MEDIA_STORE["IMAGEKIT_NAMED_PRESETS"]; every other preset reaches it as its own
steps (:func:`for_imagekit`), so it works on any account with no set-up.

Local URLs keep ``n-<name>``: the local CDN expands every preset itself, and
PUBLIC_PRESETS lets it render exactly ``tr:n-<name>`` without a signature, so
such a URL stays valid when written by hand or after the key changes, and a
preset whose definition changes re-renders under the same URL. Written out, a
preset would be an unnamed chain that only a signature lets through.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from media_store.conf import media_store_settings, presets
from media_store.exceptions import InvalidTransformationError, UnknownNamedTransformationError
from media_store.grammar import Step, Transformation, expand_named, named_step


def preset_step(name: str) -> Step:
    """The ``n-<name>`` step for a defined preset; raises InvalidTransformationError."""
    if name not in presets():
        raise InvalidTransformationError(_unknown(name), key="n")
    return named_step(name)


def expand(transformation: Transformation) -> Transformation:
    """Replace every ``n-<name>`` step by the preset's own steps.

    A preset must be the only parameter of its step, as a step's parameters are
    applied together and a preset is a whole chain.
    """
    try:
        return expand_named(transformation, presets())
    except UnknownNamedTransformationError as e:
        raise InvalidTransformationError(_unknown(e.name), key="n") from e


def for_imagekit(transformation: Transformation | None) -> Transformation | None:
    """``transformation`` as ImageKit's URL endpoint must receive it.

    Presets listed in IMAGEKIT_NAMED_PRESETS stay ``n-<name>`` (ImageKit applies
    the dashboard's definition); every other preset becomes its own steps, since
    ImageKit answers 400 for a name its dashboard lacks. The URL, and so its
    signature, carries the expanded chain. Raises InvalidTransformationError.
    """
    if transformation is None or not transformation.has_named:
        return transformation
    return _for_imagekit(transformation)


@functools.lru_cache(maxsize=256)
def _for_imagekit(transformation: Transformation) -> Transformation:
    # Cached per chain: a listing asks for the same few presets for every image.
    try:
        return expand_named(
            transformation, presets(), keep=media_store_settings()["IMAGEKIT_NAMED_PRESETS"]
        )
    except UnknownNamedTransformationError as e:
        raise InvalidTransformationError(_unknown(e.name), key="n") from e


def only_public_presets(transformation: Transformation) -> bool:
    """True when every step is a preset that may be requested without a signature."""
    public = media_store_settings()["PUBLIC_PRESETS"]
    return bool(transformation) and all(
        len(step.params) == 1 and step.get("n") in public for step in transformation.steps
    )


def _unknown(name: str) -> str:
    known = ", ".join(sorted(presets())) or "none"
    return f"no preset named {name!r} (defined: {known})"


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "MEDIA_STORE":
        _for_imagekit.cache_clear()
