"""The local image renderer: a typed transformation chain in, encoded pixels out.

Two stages: :func:`compile_spec` turns the grammar's chain into a RenderSpec
of typed operations (no pixels), then :func:`render` runs the Pillow
pipeline. Modules: ``spec`` (the only reader of keys), ``geometry`` (pure
crop/resize/pad planning), ``focus`` (fo-auto), ``effects``, ``formats``
(negotiation and encoders), ``modes`` (any decoded mode to 8 bits),
``pipeline``, and ``budget`` (a render's cost, estimated from the header).
Nothing in this package imports Django; limits are passed in by the caller.
"""

from __future__ import annotations

from media_store.rendering.colour import DEFAULT_BACKGROUND
from media_store.rendering.errors import (
    ChainTooLongError,
    CropOutOfBoundsError,
    InvalidSourceError,
    OutputTooLargeError,
    RenderBudgetExceededError,
    RenderError,
    SourceTooLargeError,
    UnsupportedTransformationError,
)
from media_store.rendering.formats import sniff_content_type
from media_store.rendering.geometry import Crop, Focus, Geometry, Resize, plan
from media_store.rendering.modes import to_8bit
from media_store.rendering.pipeline import Rendered, SourceInfo, probe, render
from media_store.rendering.spec import (
    SUPPORTED_KEYS,
    Negotiated,
    RenderSpec,
    Stage,
    compile_spec,
    negotiate,
)

# Bump when the same input would render differently, so cached renditions
# made by an older renderer are not served.
RENDERER_VERSION = 3

__all__ = [
    "DEFAULT_BACKGROUND",
    "RENDERER_VERSION",
    "SUPPORTED_KEYS",
    "ChainTooLongError",
    "Crop",
    "CropOutOfBoundsError",
    "Focus",
    "Geometry",
    "InvalidSourceError",
    "Negotiated",
    "OutputTooLargeError",
    "RenderBudgetExceededError",
    "RenderError",
    "RenderSpec",
    "Rendered",
    "Resize",
    "SourceInfo",
    "SourceTooLargeError",
    "Stage",
    "UnsupportedTransformationError",
    "compile_spec",
    "negotiate",
    "plan",
    "probe",
    "render",
    "sniff_content_type",
    "to_8bit",
]
