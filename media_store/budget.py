"""The render budget with this project's settings: one check for the CDN and the API.

The cost model is ``media_store.rendering.budget`` (no Django); this module
reads the limits from ``MEDIA_STORE`` and expands presets, so the CDN view and
the GraphQL layer refuse exactly the same chains.
"""

from __future__ import annotations

from media_store.conf import media_store_settings
from media_store.grammar import Transformation
from media_store.presets import expand
from media_store.rendering.budget import RenderCost, RenderLimits, check, check_steps, estimate
from media_store.rendering.errors import ChainTooLongError, RenderBudgetExceededError

__all__ = [
    "ChainTooLongError",
    "RenderBudgetExceededError",
    "RenderCost",
    "check_render_budget",
    "render_limits",
]

# MIME types the catalog stores, as Pillow names the formats.
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
}


def render_limits() -> RenderLimits:
    options = media_store_settings()
    return RenderLimits(
        max_steps=options["MAX_CHAIN_STEPS"],
        max_work=options["MAX_RENDER_WORK"],
        max_memory=options["MAX_RENDER_MEMORY"],
    )


def check_render_budget(
    transformation: Transformation,
    source_size: tuple[int, int],
    source_format: str | None = None,
    *,
    source_mode: str | None = None,
    orientation: int | None = None,
    accept: str | None = None,
) -> RenderCost:
    """Refuse a chain the local CDN would refuse for a source of this size; return its cost.

    ``transformation`` may use presets (``n-<name>``); ``source_size`` is
    (width, height) upright, as ``catalog.Image`` stores them;
    ``source_format`` is Pillow's name ("JPEG") or a MIME type ("image/jpeg"),
    None if unknown. What is not known is costed at its worst (any output
    format for ``f-auto``, an EXIF rotation), so a URL that passes here is
    rendered by the CDN.

    Raises ChainTooLongError (option MAX_CHAIN_STEPS) or
    RenderBudgetExceededError (MAX_RENDER_WORK, MAX_RENDER_MEMORY), both
    ValueErrors with ``option``, ``limit`` and ``value``; also what planning
    raises: InvalidTransformationError (unknown preset),
    UnsupportedTransformationError (and CropOutOfBoundsError),
    OutputTooLargeError.
    """
    limits = render_limits()
    # Before expanding: presets only add steps, so a long chain is refused unread.
    check_steps(len(transformation.steps), limits)
    expanded = expand(transformation)
    check_steps(len(expanded.steps), limits)
    if source_format is not None:
        source_format = _PILLOW_FORMATS.get(source_format.lower(), source_format.upper())
    cost = estimate(
        expanded,
        source_size,
        source_format=source_format,
        source_mode=source_mode,
        orientation=orientation,
        accept=accept,
        max_output_side=media_store_settings()["MAX_OUTPUT_SIDE"],
    )
    check(cost, limits)
    return cost
