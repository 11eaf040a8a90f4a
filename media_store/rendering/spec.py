"""Translate the grammar's typed chain into what the renderer executes.

This is the only place that reads transformation keys. Anything the grammar
accepts but the renderer cannot do yet fails here, before any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from media_store.rendering import formats
from media_store.rendering.errors import UnsupportedTransformationError
from media_store.rendering.geometry import Resize

if TYPE_CHECKING:
    from media_store.grammar import Transformation

# Keys this renderer applies. The grammar may know more; those raise
# UnsupportedTransformationError until implemented here.
SUPPORTED_KEYS = frozenset({"w", "h", "f", "q"})


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """A chain reduced to geometry steps plus output options (last ``f``/``q`` wins)."""

    resizes: tuple[Resize, ...]
    format: str | None = None
    quality: int | None = None


def compile_spec(transformation: Transformation) -> RenderSpec:
    """Return the RenderSpec for ``transformation``; raises UnsupportedTransformationError."""
    resizes: list[Resize] = []
    output_format: str | None = None
    quality: int | None = None
    for step in transformation.steps:
        for key, _value in step.params:
            if key not in SUPPORTED_KEYS:
                raise UnsupportedTransformationError(key)
        resizes.append(Resize(width=step.get("w"), height=step.get("h")))
        requested = step.get("f")
        if requested is not None:
            if not formats.is_supported(str(requested)):
                raise UnsupportedTransformationError("f", requested)
            output_format = str(requested)
        if step.get("q") is not None:
            quality = int(step.get("q"))
    return RenderSpec(tuple(resizes), output_format, quality)


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What, besides source and chain, decides a rendition's bytes."""

    variant: str  # a cache-key component: "webp", "orig", "auto-webp", ...
    vary_on_accept: bool  # responses must carry ``Vary: Accept``


def negotiate(transformation: Transformation, accept: str = "") -> Negotiated:
    """Cheap pre-render negotiation for cache keys and headers; validates support too."""
    spec = compile_spec(transformation)
    return Negotiated(
        variant=formats.variant(spec.format, accept), vary_on_accept=spec.format == "auto"
    )
