"""Translate the grammar's typed chain into what the renderer executes.

This is the only place that reads transformation keys and their string
values: it turns them into enums, colours and operation objects, so the
executor never sees a string. Anything the renderer cannot do fails here,
before any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageColor

from media_store.grammar import CROP_MODES, CROPS, FOCUSES
from media_store.rendering import formats
from media_store.rendering.colour import DEFAULT_BACKGROUND, Colour
from media_store.rendering.effects import (
    DEFAULT_TRIM_THRESHOLD,
    Blur,
    Border,
    Effect,
    Flatten,
    Grayscale,
    RoundCorners,
    Sharpen,
    Transpose,
)
from media_store.rendering.errors import UnsupportedTransformationError
from media_store.rendering.geometry import Crop, Focus, Resize

if TYPE_CHECKING:
    from media_store.grammar import Step, Transformation

# Keys this renderer applies. ``n`` (named transformations) must be expanded
# by the caller first: the renderer has no presets.
SUPPORTED_KEYS = frozenset(
    {
        *("w", "h", "ar", "c", "cm", "fo", "x", "y", "xc", "yc", "q", "f", "bl", "dpr"),
        *("rt", "r", "bg", "b", "e-grayscale", "e-sharpen", "t", "fl", "orig"),
    }
)

# The grammar's value lists, each mapped to the geometry member of the same name
# (``at_max`` is Crop.AT_MAX); a value the geometry lacks fails here, at import.
_CROPS = {value: Crop[value.upper()] for value in CROPS}
_CROP_MODES = {value: Crop[value.upper()] for value in CROP_MODES}
_FOCUSES = {value: Focus[value.upper()] for value in FOCUSES}
# rt is clockwise; Pillow's ROTATE_n is counter-clockwise. N90 arrives as -90.
# 0, 360 and auto (EXIF, already applied on open) do nothing.
_ROTATIONS = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
    -90: Image.Transpose.ROTATE_90,
    -180: Image.Transpose.ROTATE_180,
    -270: Image.Transpose.ROTATE_270,
}
_FLIPS = {
    "h": Image.Transpose.FLIP_LEFT_RIGHT,
    "v": Image.Transpose.FLIP_TOP_BOTTOM,
    "h_v": Image.Transpose.ROTATE_180,
    "v_h": Image.Transpose.ROTATE_180,
}
# e-sharpen's amount when none is given. ImageKit documents no scale; N (1-100)
# maps to an unsharp mask of radius 1 + N/50 px at 50 + 2N % (default: 2 px, 150 %).
DEFAULT_SHARPEN = 50


@dataclass(frozen=True, slots=True)
class Stage:
    """Consecutive steps whose geometry folds into one resample, then their effects.

    A stage ends after a step with effects or padding (neither can be folded
    into a later crop), and a step with ``t`` starts one: trim reads pixels.
    """

    resizes: tuple[Resize, ...]
    effects: tuple[Effect, ...] = ()
    trim: int | None = None  # threshold; applied before the geometry
    padding: Colour = DEFAULT_BACKGROUND


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """A chain reduced to stages plus output options (last ``f``/``q``/``bg`` wins).

    ``original`` (``orig-true``): serve the stored bytes; everything else is ignored.
    """

    stages: tuple[Stage, ...]
    format: str | None = None
    quality: int | None = None
    background: Colour | None = None
    original: bool = False


@dataclass
class _Builder:
    stages: list[Stage] = field(default_factory=list)
    resizes: list[Resize] = field(default_factory=list)
    trim: int | None = None

    def add(self, resize: Resize, trim: int | None) -> None:
        if trim is not None and self.resizes:
            self.close()
        if trim is not None:
            self.trim = trim
        self.resizes.append(resize)

    def close(self, effects: tuple[Effect, ...] = (), padding: Colour | None = None) -> None:
        if self.resizes:
            stage = Stage(tuple(self.resizes), effects, self.trim, padding or DEFAULT_BACKGROUND)
            self.stages.append(stage)
        self.resizes, self.trim = [], None


def compile_spec(transformation: Transformation) -> RenderSpec:
    """Return the RenderSpec for ``transformation``; raises UnsupportedTransformationError."""
    steps = transformation.steps
    if any(step.get("orig") is True for step in steps):
        return RenderSpec((), original=True)
    builder = _Builder()
    output_format: str | None = None
    quality: int | None = None
    background: Colour | None = None
    for step in steps:
        for key, value in step.params:
            if key not in SUPPORTED_KEYS:
                raise UnsupportedTransformationError(key, value if key == "n" else None)
        resize = _resize(step)
        step_background = None if step.get("bg") is None else colour(str(step.get("bg")))
        effects = _effects(step, step_background)
        trim = step.get("t")
        builder.add(resize, None if trim is None else _trim_threshold(trim))
        if effects or resize.crop.pads:
            builder.close(effects, step_background)
        requested = step.get("f")
        if requested is not None:
            if not formats.is_supported(str(requested)):
                raise UnsupportedTransformationError("f", requested)
            output_format = str(requested)
        if step.get("q") is not None:
            quality = int(step.get("q"))
        background = step_background or background
    builder.close()
    return RenderSpec(tuple(builder.stages), output_format, quality, background)


def _resize(step: Step) -> Resize:
    crop = _CROP_MODES.get(str(step.get("cm")), _CROPS.get(str(step.get("c")), Crop.MAINTAIN_RATIO))
    return Resize(
        width=step.get("w"),
        height=step.get("h"),
        aspect_ratio=step.get("ar"),
        dpr=step.get("dpr"),
        crop=crop,
        focus=_FOCUSES.get(str(step.get("fo")), Focus.CENTER),
        x=step.get("x"),
        y=step.get("y"),
        x_center=step.get("xc"),
        y_center=step.get("yc"),
    )


def _effects(step: Step, background: Colour | None) -> tuple[Effect, ...]:
    """A step's effects in the fixed order they apply, after its geometry."""
    effects: list[Effect] = []
    if step.get("e-grayscale") is True:
        effects.append(Grayscale())
    if step.get("bl") is not None:
        # ImageKit calls bl a radius (1-100); like sharp, sigma = 1 + radius / 2.
        effects.append(Blur(1 + int(step.get("bl")) / 2))
    sharpen = step.get("e-sharpen")
    if sharpen is not None:
        amount = DEFAULT_SHARPEN if sharpen is True else int(sharpen)
        effects.append(Sharpen(radius=1 + amount / 50, percent=50 + 2 * amount))
    rotation = _ROTATIONS.get(step.get("rt"))
    if rotation is not None:
        effects.append(Transpose(rotation))
    flip = _FLIPS.get(str(step.get("fl")))
    if flip is not None:
        effects.append(Transpose(flip))
    border = step.get("b")
    if border is not None:
        effects.append(Border(int(border[0]), colour(str(border[1]))))
    radius = step.get("r")
    if radius is not None:
        effects.append(RoundCorners(None if radius == "max" else int(radius)))
    if background is not None:
        # bg fills whatever is transparent: rounded corners, a PNG's background.
        effects.append(Flatten(background))
    return tuple(effects)


def _trim_threshold(value: Any) -> int:
    return DEFAULT_TRIM_THRESHOLD if value is True else int(value)


def colour(value: str) -> Colour:
    """``RRGGBB``, ``RRGGBBAA`` (AA: opacity 00-99, in percent) or a CSS colour name."""
    if len(value) in (6, 8) and all(char in "0123456789abcdefABCDEF" for char in value[:6]):
        red, green, blue = (int(value[index : index + 2], 16) for index in (0, 2, 4))
        alpha = 255 if len(value) == 6 else round(int(value[6:]) * 255 / 100)
        return red, green, blue, alpha
    red, green, blue = ImageColor.getrgb(value)[:3]
    return red, green, blue, 255


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What, besides source and chain, decides a rendition's bytes."""

    variant: str  # a cache-key component: "webp", "orig", "auto-webp", ...
    vary_on_accept: bool  # responses must carry ``Vary: Accept``


def negotiate(transformation: Transformation, accept: str = "") -> Negotiated:
    """Cheap pre-render negotiation for cache keys and headers; validates support too."""
    spec = compile_spec(transformation)
    if spec.original:
        return Negotiated(variant="original", vary_on_accept=False)
    return Negotiated(
        variant=formats.variant(spec.format, accept), vary_on_accept=spec.format == "auto"
    )
