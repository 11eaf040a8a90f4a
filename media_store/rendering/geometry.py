"""Pure geometry: fold a chain's resize/crop requests into one transform.

Nothing here touches pixels or imports Pillow. Every step is expressed in the
coordinates of the previous step's output and mapped back onto the source, so
the pipeline resamples exactly once, however long the chain (Wagtail folds
its operations into one ``ImageTransform`` for the same reason).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from media_store.rendering.errors import OutputTooLargeError

Size = tuple[int, int]
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Resize:
    """The geometry one step asks for.

    Each side is absolute pixels (int >= 1), a fraction of the step's input
    (float, 0 < v < 1) or None. Later issues add crop strategy, focus,
    aspect ratio and DPR here.
    """

    width: int | float | None = None
    height: int | float | None = None


@dataclass(frozen=True, slots=True)
class Geometry:
    """Take ``box`` (source pixels, fractional allowed) of a ``source``-sized image
    and resample it to ``size``."""

    source: Size
    box: Box
    size: Size

    @classmethod
    def identity(cls, source: Size) -> Geometry:
        return cls(source, (0.0, 0.0, float(source[0]), float(source[1])), source)

    @property
    def is_identity(self) -> bool:
        return self == Geometry.identity(self.source)

    @property
    def scale(self) -> tuple[float, float]:
        """Output pixels per source pixel, horizontally and vertically."""
        left, top, right, bottom = self.box
        return self.size[0] / (right - left), self.size[1] / (bottom - top)

    def then(self, box: Box, size: Size) -> Geometry:
        """Compose a further crop ``box`` (in this output's pixels) resampled to ``size``."""
        left, top, right, bottom = self.box
        fx = (right - left) / self.size[0]
        fy = (bottom - top) / self.size[1]
        return Geometry(
            self.source,
            (left + box[0] * fx, top + box[1] * fy, left + box[2] * fx, top + box[3] * fy),
            size,
        )

    def rescaled(self, source: Size) -> Geometry:
        """The same transform for the source decoded at another size (JPEG draft)."""
        fx = source[0] / self.source[0]
        fy = source[1] / self.source[1]
        left, top, right, bottom = self.box
        return Geometry(source, (left * fx, top * fy, right * fx, bottom * fy), self.size)


def round_half_up(value: float) -> int:
    """Round to nearest, halves up, never below 1 px.

    ImageKit rounds 147.98 to 148 (640x865 at h-200); Python's round() would
    send halves to even.
    """
    return max(1, math.floor(value + 0.5))


def _side(value: int | float | None, current: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, float):
        # A fraction of the step's input, e.g. w-0.4 is 40 %.
        return round_half_up(value * current)
    return value


def step_geometry(current: Size, resize: Resize) -> tuple[Box, Size]:
    """Crop box (in ``current`` pixels) and output size for one step."""
    cw, ch = current
    full: Box = (0.0, 0.0, float(cw), float(ch))
    width, height = _side(resize.width, cw), _side(resize.height, ch)
    if width is None and height is None:
        return full, current
    if height is None:
        assert width is not None
        return full, (width, round_half_up(ch * width / cw))
    if width is None:
        return full, (round_half_up(cw * height / ch), height)
    # Both sides: ImageKit's default c-maintain_ratio. Scale to cover the
    # target, then cut the overflow evenly from both ends (centre crop).
    scale = max(width / cw, height / ch)
    box_w, box_h = width / scale, height / scale
    left, top = (cw - box_w) / 2, (ch - box_h) / 2
    return (left, top, left + box_w, top + box_h), (width, height)


def plan(source: Size, steps: Iterable[Resize], *, max_side: int) -> Geometry:
    """Fold ``steps`` (applied in order) into one transform of ``source``.

    Raises OutputTooLargeError when the final size has a side over ``max_side``.
    Intermediate sizes are never allocated, so only the final one is checked.
    """
    geometry = Geometry.identity(source)
    for resize in steps:
        box, size = step_geometry(geometry.size, resize)
        if box == (0.0, 0.0, float(geometry.size[0]), float(geometry.size[1])) and (
            size == geometry.size
        ):
            continue
        geometry = geometry.then(box, size)
    if max(geometry.size) > max_side:
        raise OutputTooLargeError(geometry.size, max_side)
    return geometry
