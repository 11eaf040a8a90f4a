"""The Pillow pipeline, in a fixed order: open, EXIF orientation, then per stage
trim, geometry (one resample) and effects, then encode."""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING

from PIL import ExifTags, Image, UnidentifiedImageError

from media_store.rendering import formats
from media_store.rendering.colour import DEFAULT_BACKGROUND, Colour
from media_store.rendering.effects import pad, trim
from media_store.rendering.errors import (
    InvalidSourceError,
    OutputTooLargeError,
    SourceTooLargeError,
)
from media_store.rendering.focus import locator
from media_store.rendering.geometry import Focus, Geometry, Size, plan
from media_store.rendering.spec import Stage, compile_spec

if TYPE_CHECKING:
    from media_store.grammar import Transformation

Source = str | PathLike[str] | IO[bytes]

# JPEG draft decoding must leave at least this factor of the target size, so
# the final Lanczos pass still has pixels to average (as Image.thumbnail does).
REDUCING_GAP = 2.0
# Image.resize's reducing_gap for the final pass; see _resample.
RESIZE_GAP = 3.0

# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})


@dataclass(frozen=True, slots=True)
class Rendered:
    """An encoded rendition; ``format`` is "jpeg", "png", "webp", "avif" or "gif"
    (for ``orig-true``, the source's own format, lowercased)."""

    data: bytes
    content_type: str
    format: str
    width: int
    height: int


def render(
    source: Source,
    transformation: Transformation,
    *,
    accept: str = "",
    max_output_side: int = 4096,
    max_source_pixels: int = 40_000_000,
    default_quality: int = 80,
) -> Rendered:
    """Apply ``transformation`` to the image at ``source`` and encode the result.

    ``accept`` is the request's Accept header, used by ``f-auto``. Raises
    UnsupportedTransformationError (CropOutOfBoundsError for an extract that
    leaves the image), SourceTooLargeError (checked from the header, before
    decoding), OutputTooLargeError or InvalidSourceError. ``orig-true``
    returns the source's bytes untouched.
    """
    spec = compile_spec(transformation)
    opened = _open(source, max_source_pixels)
    with opened:
        if spec.original:
            return _original(source, opened)
        if opened.width * opened.height > max_source_pixels:
            raise SourceTooLargeError(opened.size, max_source_pixels)
        source_format = opened.format
        orientation = _orientation(opened)
        upright = opened.size[::-1] if orientation in _SWAPS_AXES else opened.size
        # Plan without pixels first: refuse oversized or out-of-bounds output
        # before decoding, and learn how small the JPEG may be decoded.
        first, final = _predict(upright, spec.stages, max_output_side)
        if final is not None:
            _check_format_limit(final, spec.format, accept, source_format)
        if first is not None and spec.stages[0].trim is None:
            _draft(opened, first, orientation)
        try:
            image = _upright(opened, orientation)
        except OSError as e:
            raise InvalidSourceError("source image is truncated or corrupt") from e
        icc_profile = opened.info.get("icc_profile")
    image = _normalise_mode(image)
    planned_on = upright
    for stage in spec.stages:
        image = _run_stage(image, stage, planned_on, max_output_side)
        planned_on = image.size

    name = formats.choose(
        spec.format, accept, source_format=source_format, alpha=formats.has_alpha(image)
    )
    output = formats.FORMATS[name]
    if max(image.size) > min(max_output_side, output.max_side):
        raise OutputTooLargeError(image.size, min(max_output_side, output.max_side))
    background = spec.background or DEFAULT_BACKGROUND
    data = formats.encode(
        image,
        name,
        quality=spec.quality or default_quality,
        icc_profile=icc_profile,
        background=background[:3],
    )
    return Rendered(data, output.content_type, name, image.width, image.height)


def _open(source: Source, max_source_pixels: int) -> Image.Image:
    try:
        return Image.open(source)
    except Image.DecompressionBombError as e:
        raise SourceTooLargeError(None, max_source_pixels) from e
    except UnidentifiedImageError as e:
        raise InvalidSourceError("source is not a readable image") from e
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except OSError as e:
        # Pillow reports a header cut short as a bare OSError.
        raise InvalidSourceError("source image header is truncated or corrupt") from e


def _original(source: Source, opened: Image.Image) -> Rendered:
    """``orig-true``: the stored bytes, metadata and all, as ImageKit serves them."""
    if isinstance(source, str | PathLike):
        data = Path(source).read_bytes()
    else:
        source.seek(0)
        data = source.read()
    pillow_format = opened.format or ""
    content_type = formats.sniff_content_type(data[:16]) or Image.MIME.get(
        pillow_format, "application/octet-stream"
    )
    return Rendered(data, content_type, pillow_format.lower(), opened.width, opened.height)


def _predict(
    size: Size, stages: tuple[Stage, ...], max_side: int
) -> tuple[Geometry | None, Size | None]:
    """The first stage's geometry and the final size, or None once trim makes it unknown.

    fo-auto is planned centred here: the window's position needs pixels,
    its size does not.
    """
    first = None
    for stage in stages:
        if stage.trim is not None:
            return first, None
        geometry = plan(size, stage.resizes, max_side=max_side)
        first = first or geometry
        size = geometry.size
        for effect in stage.effects:
            size = effect.output_size(size)
        if max(size) > max_side:
            raise OutputTooLargeError(size, max_side)
    return first, size


def _run_stage(image: Image.Image, stage: Stage, planned_on: Size, max_side: int) -> Image.Image:
    """Trim, one resample (planned on ``planned_on``, maybe larger than a draft), effects."""
    if stage.trim is not None:
        image = trim(image, stage.trim)
        planned_on = image.size
    auto = any(resize.focus is Focus.AUTO for resize in stage.resizes)
    geometry = plan(
        planned_on, stage.resizes, max_side=max_side, locate=locator(image) if auto else None
    )
    image = _resample(image, geometry.rescaled(image.size), stage.padding)
    for effect in stage.effects:
        image = effect.apply(image)
    if max(image.size) > max_side:
        raise OutputTooLargeError(image.size, max_side)
    return image


def _check_format_limit(
    size: Size, requested: str | None, accept: str, source_format: str | None
) -> None:
    """Refuse sizes the output format cannot hold (WebP: 16383) before decoding.

    Transparency is unknown until decoding, so take the stricter of both outcomes.
    """
    limit = min(
        formats.FORMATS[
            formats.choose(requested, accept, source_format=source_format, alpha=alpha)
        ].max_side
        for alpha in (False, True)
    )
    if max(size) > limit:
        raise OutputTooLargeError(size, limit)


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(ExifTags.Base.Orientation, 1)
    return value if value in _UPRIGHT else 1


def _draft(image: Image.Image, geometry: Geometry, orientation: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the output is much smaller.

    Decoding a 4000x3000 JPEG for a 100 px thumbnail then costs 1/64 of the
    memory and most of the time. draft() never goes below the size asked for.
    """
    if image.format not in ("JPEG", "MPO") or geometry.is_identity:
        return
    scale_x, scale_y = geometry.scale
    if orientation in _SWAPS_AXES:
        # The geometry is upright; the stored pixels are not.
        scale_x, scale_y = scale_y, scale_x
    wanted = (
        max(1, math.ceil(image.width * scale_x * REDUCING_GAP)),
        max(1, math.ceil(image.height * scale_y * REDUCING_GAP)),
    )
    image.draft(image.mode, wanted)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """Decode and apply the EXIF orientation; the result carries no EXIF."""
    image.load()
    if orientation in _UPRIGHT:
        return image.transpose(_UPRIGHT[orientation])
    return image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring any decoded mode to L, LA, RGB or RGBA, the modes geometry and encoders share."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        # Resizing a palette image would fall back to nearest-neighbour.
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode == "RGBa":
        return image.convert("RGBA")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale: scale to 8 bits instead of letting convert() clip.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "F":
        return image.convert("L")
    return image.convert("RGB")


def _resample(image: Image.Image, geometry: Geometry, padding: Colour) -> Image.Image:
    if geometry.is_identity:
        return image
    box, size = geometry.box, geometry.content_size
    if all(float(edge).is_integer() for edge in box) and (box[2] - box[0], box[3] - box[1]) == size:
        # An extract at scale 1: copy pixels, do not resample.
        content = image.crop(tuple(int(edge) for edge in box))
    else:
        # One resample from the source region straight to the output size.
        # reduce() first takes big factors (non-JPEG sources) in integer steps;
        # a gap of 3 is indistinguishable from a plain Lanczos pass (Pillow docs).
        content = image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=RESIZE_GAP)
    if geometry.placement is None:
        return content
    return pad(content, geometry.size, geometry.placement[:2], padding)
