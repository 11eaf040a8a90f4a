"""Pure geometry: fold a chain's resize/crop/pad requests into one transform.

Nothing here touches pixels or imports Pillow. Every step is expressed in the
coordinates of the previous step's output and mapped back onto the source, so
the pipeline resamples once per run of geometry-only steps, however long
(Wagtail folds its operations into one ``ImageTransform`` for the same
reason). Content-aware focus (``fo-auto``) is the one input that needs pixels;
it comes in as a ``locate`` callback, so planning stays pure and testable.

Semantics and numbers follow ImageKit's resize/crop docs (protocol notes §6).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, auto

from media_store.rendering.errors import CropOutOfBoundsError, OutputTooLargeError

Size = tuple[int, int]
Box = tuple[float, float, float, float]
Placement = tuple[int, int, int, int]
# Given the geometry planned so far and a window size in its output pixels,
# return the window's best top-left corner in those pixels (``fo-auto``).
Locate = Callable[["Geometry", tuple[float, float]], tuple[float, float]]
# The same, bound to the geometry planned so far: window size in, top-left out.
Place = Callable[[tuple[float, float]], tuple[float, float]]

# ImageKit ignores dpr when it would make a side smaller than 1 or larger than 5000 px.
DPR_MAX_SIDE = 5000


class Crop(Enum):
    """``c`` (crop strategy) and ``cm`` (crop mode) folded into one choice; ``cm`` wins."""

    MAINTAIN_RATIO = auto()  # cover, then cut the overflow (default)
    FORCE = auto()  # squash to exactly w x h
    AT_MAX = auto()  # fit inside, never enlarge
    AT_MAX_ENLARGE = auto()  # fit inside, may enlarge
    AT_LEAST = auto()  # cover, no crop
    PAD_RESIZE = auto()  # fit inside, pad to exactly w x h
    EXTRACT = auto()  # cut w x h out, no resampling
    PAD_EXTRACT = auto()  # extract, padding where w x h exceeds the image

    @property
    def pads(self) -> bool:
        return self in (Crop.PAD_RESIZE, Crop.PAD_EXTRACT)


class Focus(Enum):
    """``fo``: where a crop window sits, or where the image sits in its padding."""

    CENTER = auto()
    TOP = auto()
    LEFT = auto()
    BOTTOM = auto()
    RIGHT = auto()
    TOP_LEFT = auto()
    TOP_RIGHT = auto()
    BOTTOM_LEFT = auto()
    BOTTOM_RIGHT = auto()
    AUTO = auto()  # content-aware; falls back to the centre where pixels are unknown

    @property
    def anchor(self) -> tuple[float, float]:
        """Fraction of the free space left of and above the window (0.5: centred)."""
        return _ANCHORS[self]


_ANCHORS = {
    Focus.CENTER: (0.5, 0.5),
    Focus.AUTO: (0.5, 0.5),
    Focus.TOP: (0.5, 0.0),
    Focus.BOTTOM: (0.5, 1.0),
    Focus.LEFT: (0.0, 0.5),
    Focus.RIGHT: (1.0, 0.5),
    Focus.TOP_LEFT: (0.0, 0.0),
    Focus.TOP_RIGHT: (1.0, 0.0),
    Focus.BOTTOM_LEFT: (0.0, 1.0),
    Focus.BOTTOM_RIGHT: (1.0, 1.0),
}


@dataclass(frozen=True, slots=True)
class Resize:
    """The geometry one step asks for.

    ``width``/``height`` are absolute pixels (int >= 1), a fraction of the
    step's input (float, 0 < v < 1) or None. ``x``/``y`` (top-left) and
    ``x_center``/``y_center`` place an extract region; other crops ignore them.
    """

    width: int | float | None = None
    height: int | float | None = None
    aspect_ratio: tuple[int, int] | None = None
    dpr: int | float | None = None
    crop: Crop = Crop.MAINTAIN_RATIO
    focus: Focus = Focus.CENTER
    x: int | None = None
    y: int | None = None
    x_center: int | None = None
    y_center: int | None = None


@dataclass(frozen=True, slots=True)
class Geometry:
    """Resample ``box`` (source pixels, fractional allowed) of a ``source``-sized
    image and place it at ``placement`` in a ``size`` output; None: fill it all.

    Output pixels outside the placement are padding, filled by the caller.
    """

    source: Size
    box: Box
    size: Size
    placement: Placement | None = None

    @classmethod
    def identity(cls, source: Size) -> Geometry:
        return cls(source, (0.0, 0.0, float(source[0]), float(source[1])), source)

    @property
    def is_identity(self) -> bool:
        return self == Geometry.identity(self.source)

    @property
    def content_size(self) -> Size:
        """Size the box is resampled to: the output minus any padding."""
        if self.placement is None:
            return self.size
        left, top, right, bottom = self.placement
        return right - left, bottom - top

    @property
    def scale(self) -> tuple[float, float]:
        """Output pixels per source pixel, horizontally and vertically."""
        left, top, right, bottom = self.box
        width, height = self.content_size
        return width / (right - left), height / (bottom - top)

    def then(self, step: Geometry) -> Geometry:
        """Compose ``step``, planned on this output's pixels, into one transform."""
        if self.placement is not None:
            # Padding cannot be mapped back onto the source; spec.py ends a
            # stage after a padding step, so this is a programming error.
            raise ValueError("cannot compose a step after padding")
        left, top, right, bottom = self.box
        fx = (right - left) / self.size[0]
        fy = (bottom - top) / self.size[1]
        b0, b1, b2, b3 = step.box
        box = (left + b0 * fx, top + b1 * fy, left + b2 * fx, top + b3 * fy)
        return Geometry(self.source, box, step.size, step.placement)

    def rescaled(self, source: Size) -> Geometry:
        """The same transform for the source decoded at another size (JPEG draft)."""
        fx = source[0] / self.source[0]
        fy = source[1] / self.source[1]
        left, top, right, bottom = self.box
        box = (left * fx, top * fy, right * fx, bottom * fy)
        return Geometry(source, box, self.size, self.placement)


def round_half_up(value: float) -> int:
    """Round to nearest, halves up, never below 1 px.

    ImageKit rounds 147.98 to 148 (640x865 at h-200); Python's round() would
    send halves to even.
    """
    return max(1, math.floor(value + 0.5))


def _side(value: int | float | None, current: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, float):
        # A fraction of the step's input, e.g. w-0.4 is 40 %.
        return value * current
    return float(value)


def target_size(current: Size, resize: Resize) -> tuple[int | None, int | None]:
    """The w and h a step asks for, after fractions, ``ar`` and ``dpr``."""
    width, height = _side(resize.width, current[0]), _side(resize.height, current[1])
    if resize.aspect_ratio is not None and (width is None) != (height is None):
        # ar needs exactly one side; with both it is ignored (ImageKit docs).
        ratio_w, ratio_h = resize.aspect_ratio
        if width is None:
            assert height is not None
            width = height * ratio_w / ratio_h
        else:
            height = width * ratio_h / ratio_w
    sides = [side for side in (width, height) if side is not None]
    if resize.dpr is not None and sides:
        dpr = resize.dpr
        if all(1 <= side * dpr <= DPR_MAX_SIDE for side in sides):
            width = None if width is None else width * dpr
            height = None if height is None else height * dpr
    return (
        None if width is None else round_half_up(width),
        None if height is None else round_half_up(height),
    )


def _proportional(current: Size, width: int | None, height: int | None) -> Size:
    cw, ch = current
    if height is None:
        assert width is not None
        return width, round_half_up(ch * width / cw)
    return round_half_up(cw * height / ch), height


def _fit(current: Size, width: int, height: int, *, cover: bool) -> Size:
    """Scale to fit inside (or, with ``cover``, to cover) width x height, aspect kept."""
    width_limits = width / current[0] <= height / current[1]
    if width_limits != cover:
        return _proportional(current, width, None)
    return _proportional(current, None, height)


def _enlarges(current: Size, width: int | None, height: int | None) -> bool:
    """Whether every requested side is at least the current one (c-at_max keeps the size)."""
    return all(
        side is None or side >= now for side, now in zip((width, height), current, strict=True)
    )


def _full(current: Size) -> Box:
    return 0.0, 0.0, float(current[0]), float(current[1])


def _geometry(current: Size, size: Size, box: Box | None = None) -> Geometry:
    return Geometry(current, box or _full(current), size)


def step_geometry(
    current: Size,
    resize: Resize,
    locate: Place | None = None,
) -> Geometry:
    """One step's transform of a ``current``-sized image.

    ``locate`` places a crop window for ``fo-auto``; without it the window is
    centred (the sizes never depend on it). Raises CropOutOfBoundsError.
    """
    width, height = target_size(current, resize)
    crop = resize.crop
    if width is None and height is None:
        return Geometry.identity(current)
    if crop in (Crop.EXTRACT, Crop.PAD_EXTRACT):
        return _extract(current, resize, (width or current[0], height or current[1]), locate)
    if width is None or height is None:
        # One side: no crop; the other side follows the aspect ratio.
        if crop is Crop.AT_MAX and _enlarges(current, width, height):
            return Geometry.identity(current)
        return _geometry(current, _proportional(current, width, height))
    if crop is Crop.FORCE:
        return _geometry(current, (width, height))
    if crop is Crop.AT_LEAST:
        return _geometry(current, _fit(current, width, height, cover=True))
    if crop in (Crop.AT_MAX, Crop.AT_MAX_ENLARGE, Crop.PAD_RESIZE):
        if crop is Crop.AT_MAX and _enlarges(current, width, height):
            return Geometry.identity(current)
        fitted = _fit(current, width, height, cover=False)
        if crop is not Crop.PAD_RESIZE or fitted == (width, height):
            return _geometry(current, fitted)
        # fo-left puts the image on the left, so all the padding on the right.
        fx, fy = resize.focus.anchor
        left = _nearest((width - fitted[0]) * fx)
        top = _nearest((height - fitted[1]) * fy)
        placement = (left, top, left + fitted[0], top + fitted[1])
        return Geometry(current, _full(current), (width, height), placement)
    # c-maintain_ratio: scale to cover, then cut the overflow at the focus.
    scale = max(width / current[0], height / current[1])
    window = (width / scale, height / scale)
    left, top = _window(current, window, resize.focus, locate)
    return _geometry(current, (width, height), (left, top, left + window[0], top + window[1]))


def _window(
    current: Size,
    window: tuple[float, float],
    focus: Focus,
    locate: Place | None,
) -> tuple[float, float]:
    """Top-left of a ``window`` inside ``current`` (negative where the window is larger)."""
    if focus is Focus.AUTO and locate is not None:
        return locate(window)
    fx, fy = focus.anchor
    return (current[0] - window[0]) * fx, (current[1] - window[1]) * fy


def _extract(
    current: Size,
    resize: Resize,
    size: Size,
    locate: Place | None,
) -> Geometry:
    """cm-extract / cm-pad_extract: cut ``size`` out at scale 1, padding if allowed."""
    width, height = size
    focus_left, focus_top = _window(current, (float(width), float(height)), resize.focus, locate)
    left = _start(resize.x, resize.x_center, width, focus_left)
    top = _start(resize.y, resize.y_center, height, focus_top)
    region = (float(left), float(top), float(left + width), float(top + height))
    inside = (
        max(left, 0),
        max(top, 0),
        min(left + width, current[0]),
        min(top + height, current[1]),
    )
    if (left, top, left + width, top + height) == inside:
        return _geometry(current, size, region)
    if resize.crop is Crop.EXTRACT or inside[0] >= inside[2] or inside[1] >= inside[3]:
        raise CropOutOfBoundsError(region, current)
    placement = (inside[0] - left, inside[1] - top, inside[2] - left, inside[3] - top)
    box = (float(inside[0]), float(inside[1]), float(inside[2]), float(inside[3]))
    return Geometry(current, box, size, placement)


def _start(corner: int | None, centre: int | None, length: int, focused: float) -> int:
    """The region's first pixel on one axis: ``x``, else ``xc``, else the focus."""
    if corner is not None:
        return corner
    if centre is not None:
        return centre - length // 2
    return _nearest(focused)


def _nearest(value: float) -> int:
    return math.floor(value + 0.5)


def plan(
    source: Size, steps: Iterable[Resize], *, max_side: int, locate: Locate | None = None
) -> Geometry:
    """Fold ``steps`` (applied in order) into one transform of ``source``.

    Only the last step may pad. Raises OutputTooLargeError when the final size
    has a side over ``max_side`` (intermediate sizes are never allocated) and
    CropOutOfBoundsError for an extract that leaves the image.
    """
    geometry = Geometry.identity(source)
    for resize in steps:
        step = step_geometry(
            geometry.size, resize, None if locate is None else _bind(locate, geometry)
        )
        if not step.is_identity:
            geometry = geometry.then(step)
    if max(geometry.size) > max_side:
        raise OutputTooLargeError(geometry.size, max_side)
    return geometry


def _bind(locate: Locate, geometry: Geometry) -> Place:
    return lambda window: locate(geometry, window)
