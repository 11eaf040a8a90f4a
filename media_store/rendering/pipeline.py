"""The Pillow pipeline, in a fixed order: open, EXIF orientation, geometry, encode."""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from typing import IO, TYPE_CHECKING

from PIL import ExifTags, Image, UnidentifiedImageError

from media_store.rendering import formats
from media_store.rendering.errors import (
    InvalidSourceError,
    OutputTooLargeError,
    SourceTooLargeError,
)
from media_store.rendering.geometry import Geometry, plan
from media_store.rendering.spec import compile_spec

if TYPE_CHECKING:
    from media_store.grammar import Transformation

Source = str | PathLike[str] | IO[bytes]

# JPEG draft decoding must leave at least this factor of the target size, so
# the final Lanczos pass still has pixels to average (as Image.thumbnail does).
REDUCING_GAP = 2.0

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
    """An encoded rendition; ``format`` is "jpeg", "png", "webp", "avif" or "gif"."""

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
    UnsupportedTransformationError, SourceTooLargeError (checked from the
    header, before decoding), OutputTooLargeError or InvalidSourceError.
    """
    spec = compile_spec(transformation)
    try:
        opened = Image.open(source)
    except Image.DecompressionBombError as e:
        raise SourceTooLargeError(None, max_source_pixels) from e
    except UnidentifiedImageError as e:
        raise InvalidSourceError("source is not a readable image") from e
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except OSError as e:
        # Pillow reports a header cut short as a bare OSError.
        raise InvalidSourceError("source image header is truncated or corrupt") from e
    with opened:
        if opened.width * opened.height > max_source_pixels:
            raise SourceTooLargeError(opened.size, max_source_pixels)
        source_format = opened.format
        orientation = _orientation(opened)
        upright = opened.size[::-1] if orientation in _SWAPS_AXES else opened.size
        geometry = plan(upright, spec.resizes, max_side=max_output_side)
        _check_format_limit(geometry, spec.format, accept, source_format)
        _draft(opened, geometry, orientation)
        try:
            image = _upright(opened, orientation)
        except OSError as e:
            raise InvalidSourceError("source image is truncated or corrupt") from e
        icc_profile = opened.info.get("icc_profile")
    image = _normalise_mode(image)
    image = _apply(image, geometry.rescaled(image.size))

    name = formats.choose(
        spec.format, accept, source_format=source_format, alpha=formats.has_alpha(image)
    )
    output = formats.FORMATS[name]
    data = formats.encode(
        image, name, quality=spec.quality or default_quality, icc_profile=icc_profile
    )
    return Rendered(data, output.content_type, name, image.width, image.height)


def _check_format_limit(
    geometry: Geometry, requested: str | None, accept: str, source_format: str | None
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
    if max(geometry.size) > limit:
        raise OutputTooLargeError(geometry.size, limit)


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


def _apply(image: Image.Image, geometry: Geometry) -> Image.Image:
    if geometry.is_identity:
        return image
    # One resample from the source region straight to the output size.
    return image.resize(geometry.size, Image.Resampling.LANCZOS, box=geometry.box)
