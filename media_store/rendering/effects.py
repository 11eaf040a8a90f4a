"""Pixel effects, applied after a step's geometry, plus trim (applied before it).

Each effect is a small immutable operation built by spec.py from typed
values; the pipeline only calls ``apply`` and ``output_size``. Images come in
and leave in one of the modes L, LA, RGB or RGBA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from media_store.rendering.colour import Colour, is_grey, is_opaque

Size = tuple[int, int]

# t-true: sharp's and libvips' default trim threshold, in 0-255 units of
# difference from the corner colour. ImageKit's t-5 trims less, t-15 more.
DEFAULT_TRIM_THRESHOLD = 10

# Rounded-corner masks are drawn this many times larger, then reduced, so
# the curve is antialiased.
_MASK_SUPERSAMPLING = 4

_SWAPS_AXES = frozenset({Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270})


class Effect(Protocol):
    def apply(self, image: Image.Image) -> Image.Image: ...

    def output_size(self, size: Size) -> Size: ...


def has_alpha_mode(image: Image.Image) -> bool:
    return image.mode in ("LA", "RGBA")


@dataclass(frozen=True, slots=True)
class Grayscale:
    """``e-grayscale``: luminance only; transparency is kept."""

    def apply(self, image: Image.Image) -> Image.Image:
        return image.convert("LA" if has_alpha_mode(image) else "L")

    def output_size(self, size: Size) -> Size:
        return size


@dataclass(frozen=True, slots=True)
class Blur:
    """Gaussian blur; ``sigma`` is the kernel's standard deviation in output pixels."""

    sigma: float

    def apply(self, image: Image.Image) -> Image.Image:
        return _filter_premultiplied(image, ImageFilter.GaussianBlur(self.sigma))

    def output_size(self, size: Size) -> Size:
        return size


@dataclass(frozen=True, slots=True)
class Sharpen:
    """Unsharp mask: ``percent`` strength over a ``radius`` px neighbourhood."""

    radius: float
    percent: int
    threshold: int = 0

    def apply(self, image: Image.Image) -> Image.Image:
        unsharp = ImageFilter.UnsharpMask(self.radius, self.percent, self.threshold)
        return _filter_premultiplied(image, unsharp)

    def output_size(self, size: Size) -> Size:
        return size


def _filter_premultiplied(image: Image.Image, kernel: ImageFilter.Filter) -> Image.Image:
    # Filtering straight RGBA would bleed the colour of invisible pixels into
    # the visible edge; premultiplied alpha does not.
    if image.mode == "RGBA":
        return image.convert("RGBa").filter(kernel).convert("RGBA")
    if image.mode == "LA":
        return image.convert("La").filter(kernel).convert("LA")
    return image.filter(kernel)


@dataclass(frozen=True, slots=True)
class Transpose:
    """A lossless rotation by a multiple of 90 degrees, or a flip (``rt``, ``fl``)."""

    method: Image.Transpose

    def apply(self, image: Image.Image) -> Image.Image:
        return image.transpose(self.method)

    def output_size(self, size: Size) -> Size:
        return (size[1], size[0]) if self.method in _SWAPS_AXES else size


@dataclass(frozen=True, slots=True)
class Border:
    """``b-<width>_<colour>``: a frame added around the image, which grows by 2 x width."""

    width: int
    colour: Colour

    def apply(self, image: Image.Image) -> Image.Image:
        image = _to_mode_for(image, self.colour)
        return ImageOps.expand(image, self.width, _fill(image.mode, self.colour))

    def output_size(self, size: Size) -> Size:
        return size[0] + 2 * self.width, size[1] + 2 * self.width


@dataclass(frozen=True, slots=True)
class RoundCorners:
    """``r-<radius>`` (px) or ``r-max`` (radius None: the inscribed ellipse).

    Corners become transparent; a ``bg`` in the same step, or JPEG output,
    fills them with a colour afterwards.
    """

    radius: int | None

    def apply(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        factor = _MASK_SUPERSAMPLING
        mask = Image.new("L", (width * factor, height * factor), 0)
        shape = (0, 0, width * factor - 1, height * factor - 1)
        draw = ImageDraw.Draw(mask)
        if self.radius is None:
            draw.ellipse(shape, fill=255)
        else:
            radius = min(self.radius, width // 2, height // 2) * factor
            draw.rounded_rectangle(shape, radius=radius, fill=255)
        mask = mask.reduce(factor)
        image = image.convert("LA" if image.mode in ("L", "LA") else "RGBA")
        image.putalpha(ImageChops.multiply(image.getchannel("A"), mask))
        return image

    def output_size(self, size: Size) -> Size:
        return size


@dataclass(frozen=True, slots=True)
class Flatten:
    """``bg``: composite the image over a colour, filling every transparent pixel."""

    background: Colour

    def apply(self, image: Image.Image) -> Image.Image:
        if not has_alpha_mode(image):
            return image
        return composite(image, self.background)

    def output_size(self, size: Size) -> Size:
        return size


def composite(image: Image.Image, background: Colour) -> Image.Image:
    """``image`` (any mode) over a ``background`` canvas; alpha kept only if the colour has it."""
    grey = image.mode in ("L", "LA") and is_grey(background)
    if grey:
        canvas = Image.new("LA", image.size, (background[0], background[3]))
        canvas.alpha_composite(image.convert("LA"))
    else:
        canvas = Image.new("RGBA", image.size, background)
        canvas.alpha_composite(image.convert("RGBA"))
    if is_opaque(background):
        return canvas.convert("L" if grey else "RGB")
    return canvas


def _to_mode_for(image: Image.Image, colour: Colour) -> Image.Image:
    """Widen ``image``'s mode so ``colour`` can be drawn on it unchanged."""
    grey = image.mode in ("L", "LA") and is_grey(colour)
    alpha = has_alpha_mode(image) or not is_opaque(colour)
    mode = ("LA" if alpha else "L") if grey else ("RGBA" if alpha else "RGB")
    return image if image.mode == mode else image.convert(mode)


def _fill(mode: str, colour: Colour) -> int | tuple[int, ...]:
    return {"L": colour[0], "LA": (colour[0], colour[3]), "RGB": colour[:3]}.get(mode, colour)


def pad(content: Image.Image, size: Size, offset: tuple[int, int], colour: Colour) -> Image.Image:
    """``content`` placed at ``offset`` on a ``size`` canvas of ``colour``."""
    content = _to_mode_for(content, colour)
    canvas = Image.new(content.mode, size, _fill(content.mode, colour))
    # No mask: transparent content stays transparent rather than showing the padding.
    canvas.paste(content, offset)
    return canvas


def trim(image: Image.Image, threshold: int) -> Image.Image:
    """``t``: cut away the border whose pixels differ from the top-left one by <= threshold.

    A uniform image is returned whole, as libvips' find_trim does.
    """
    corner = image.getpixel((0, 0))
    difference = ImageChops.difference(image, Image.new(image.mode, image.size, corner))
    # The largest difference over the bands, so a change in any channel counts.
    bands = difference.split()
    strongest = bands[0]
    for band in bands[1:]:
        strongest = ImageChops.lighter(strongest, band)
    box = strongest.point(lambda value: 255 if value > threshold else 0).getbbox()
    if box is None or box == (0, 0, *image.size):
        return image
    return image.crop(box)
