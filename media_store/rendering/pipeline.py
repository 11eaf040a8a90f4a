"""The Pillow pipeline, in a fixed order: open, EXIF orientation, then per stage
trim, geometry (one resample) and effects, then encode.

The header is read and the output planned before any pixel is decoded
(``_predict``); ``media_store.rendering.budget`` plans the same way to
estimate a render's cost, so the two must change together.
"""

from __future__ import annotations

import math
import struct
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
from media_store.rendering.modes import to_8bit
from media_store.rendering.spec import RenderSpec, Stage, compile_spec

if TYPE_CHECKING:
    from media_store.grammar import Transformation

Source = str | PathLike[str] | IO[bytes]

# JPEG draft decoding must leave at least this factor of the target size, so
# the final Lanczos pass still has pixels to average (as Image.thumbnail does).
REDUCING_GAP = 2.0
# Pillow formats whose decoder can draft (libjpeg's DCT scaling).
DRAFT_FORMATS = frozenset({"JPEG", "MPO"})
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
# What Pillow raises for pixels or metadata cut short or damaged.
_CORRUPT = (OSError, SyntaxError, EOFError, struct.error)
_TURNS_SWAP_AXES = frozenset(_UPRIGHT[orientation] for orientation in _SWAPS_AXES)


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
    if spec.original:
        with _open(source, max_source_pixels) as opened:
            return _original(source, opened)
    image, planned_on, source_format, icc_profile, turn = _decode(
        source, spec, accept, max_output_side, max_source_pixels
    )
    # Every step rebinds ``image``, so the image it replaced is freed at once:
    # at most one step's input and output are alive (media_store.rendering.budget
    # counts memory the same way).
    image = to_8bit(image)
    for stage in spec.stages:
        if stage.trim is not None:
            image = trim(image, stage.trim)
            planned_on = image.size
        auto = any(resize.focus is Focus.AUTO for resize in stage.resizes)
        geometry = plan(
            planned_on,
            stage.resizes,
            max_side=max_output_side,
            locate=locator(image) if auto else None,
        )
        if turn is not None:
            image = _resample_turned(image, geometry, turn, stage.padding)
            turn = None
        else:
            image = _resample(image, geometry.rescaled(image.size), stage.padding)
        for effect in stage.effects:
            image = effect.apply(image)
        if max(image.size) > max_output_side:
            raise OutputTooLargeError(image.size, max_output_side)
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


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source's header says, read without decoding a pixel.

    ``size`` is upright (EXIF orientation applied); ``format`` and ``mode`` are
    Pillow's names; ``orientation`` is the EXIF value, 1 when absent, None when
    it could not be read without decoding (a damaged PNG, or one of more than
    _PNG_CHUNKS_WALKED chunks): then ``size`` is as stored, maybe turned.
    """

    size: Size
    format: str | None
    mode: str
    orientation: int | None


def probe(source: Source, *, max_source_pixels: int = 40_000_000) -> SourceInfo:
    """Read ``source``'s header; raises SourceTooLargeError or InvalidSourceError as render does."""
    with _open(source, max_source_pixels) as opened:
        if opened.width * opened.height > max_source_pixels:
            raise SourceTooLargeError(opened.size, max_source_pixels)
        if opened.format == "PNG" and "exif" not in opened.info:
            # PngImageFile.getexif() would decode the whole image to find an eXIf
            # chunk after the pixels; a probe walks the chunk headers instead.
            orientation = _trailing_png_orientation(opened.fp)
        else:
            orientation = _orientation(opened)
        if orientation is None:
            return SourceInfo(opened.size, opened.format, opened.mode, None)
        size = opened.size[::-1] if orientation in _SWAPS_AXES else opened.size
        return SourceInfo(size, opened.format, opened.mode, orientation)


def turns_after_resample(stage: Stage, geometry: Geometry) -> bool:
    """Whether the first stage resamples the stored pixels and turns only its result upright.

    Turning a 12 MP photo first would hold two copies of it; turning the
    resampled one costs a copy of the (usually much smaller) output. Trim and
    fo-auto read upright pixels, and a stage without geometry has nothing to
    shrink, so those turn the source first.
    """
    return (
        stage.trim is None
        and not geometry.is_identity
        and all(resize.focus is not Focus.AUTO for resize in stage.resizes)
    )


# Chunk headers a probe reads before giving up on finding a PNG's eXIf chunk.
_PNG_CHUNKS_WALKED = 10_000


def _trailing_png_orientation(fp: IO[bytes]) -> int | None:
    """The EXIF orientation in a PNG's eXIf chunk, by seeking from chunk header to header.

    1 when the file has none; None when the walk fails or is cut short.
    """
    try:
        fp.seek(8)  # the PNG signature
        for _ in range(_PNG_CHUNKS_WALKED):
            header = fp.read(8)
            if len(header) < 8:
                return 1
            length, kind = struct.unpack(">I4s", header)
            if kind == b"eXIf":
                exif = Image.Exif()
                exif.load(b"Exif\x00\x00" + fp.read(length))
                value = exif.get(ExifTags.Base.Orientation, 1)
                return value if value in _UPRIGHT else 1
            if kind == b"IEND":
                return 1
            fp.seek(length + 4, 1)  # the data and its CRC
    except (*_CORRUPT, ValueError):
        return None
    return None


def _decode(
    source: Source, spec: RenderSpec, accept: str, max_output_side: int, max_source_pixels: int
) -> tuple[Image.Image, Size, str | None, bytes | None, Image.Transpose | None]:
    """Check the header, then decode: (image, upright size, format, ICC profile, turn).

    The upright size is what the first stage is planned on; the image may be
    smaller (JPEG draft). ``turn`` is the transpose still to apply after the
    first resample (see turns_after_resample), None when the image is upright.
    Nothing else keeps a reference to the decoded pixels.
    """
    with _open(source, max_source_pixels) as opened:
        if opened.width * opened.height > max_source_pixels:
            raise SourceTooLargeError(opened.size, max_source_pixels)
        source_format = opened.format
        try:
            # A PNG without an eXIf chunk in its header decodes here.
            orientation = _orientation(opened)
        except _CORRUPT as e:
            raise InvalidSourceError("source image is truncated or corrupt") from e
        upright = opened.size[::-1] if orientation in _SWAPS_AXES else opened.size
        # Plan without pixels first: refuse oversized or out-of-bounds output
        # before decoding, and learn how small the JPEG may be decoded.
        first, final = _predict(upright, spec.stages, max_output_side)
        if final is not None:
            _check_format_limit(final, spec.format, accept, source_format)
        if first is not None and spec.stages[0].trim is None:
            _draft(opened, first, orientation)
        icc_profile = opened.info.get("icc_profile")
        turn = None
        if orientation in _UPRIGHT and first and turns_after_resample(spec.stages[0], first):
            turn = _UPRIGHT[orientation]
        try:
            image = _upright(opened, orientation if turn is None else 1)
        except _CORRUPT as e:
            raise InvalidSourceError("source image is truncated or corrupt") from e
    return image, upright, source_format, icc_profile, turn


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


@dataclass(frozen=True, slots=True)
class PlannedStage:
    """A stage planned without pixels: its geometry on its input, and its output size."""

    stage: Stage
    geometry: Geometry
    size: Size


def plan_stages(
    size: Size, stages: tuple[Stage, ...], max_side: int, *, through_trim: bool = False
) -> list[PlannedStage]:
    """Plan ``stages`` on an upright ``size`` source, up to the first trim.

    A trim's result needs pixels. With ``through_trim`` planning goes on as if
    every trim kept the whole image, its most expensive outcome (the render
    budget's assumption). fo-auto is planned centred: the window's position
    needs pixels, its size does not. Raises OutputTooLargeError and
    CropOutOfBoundsError.
    """
    planned = []
    for stage in stages:
        if stage.trim is not None and not through_trim:
            break
        geometry = plan(size, stage.resizes, max_side=max_side)
        size = geometry.size
        for effect in stage.effects:
            size = effect.output_size(size)
        if max(size) > max_side:
            raise OutputTooLargeError(size, max_side)
        planned.append(PlannedStage(stage, geometry, size))
    return planned


def _predict(
    size: Size, stages: tuple[Stage, ...], max_side: int
) -> tuple[Geometry | None, Size | None]:
    """The first stage's geometry and the final size, or None once trim makes it unknown."""
    planned = plan_stages(size, stages, max_side)
    first = planned[0].geometry if planned else None
    if len(planned) < len(stages):
        return first, None
    return first, planned[-1].size if planned else size


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


def draft_scale(size: Size, geometry: Geometry) -> int:
    """The factor (1, 2, 4 or 8) libjpeg decodes a ``size`` JPEG at for ``geometry``.

    Pure, so the render budget can count decoded pixels before decoding; it
    mirrors the choice JpegImageFile.draft makes from the size asked for.
    """
    if geometry.is_identity:
        return 1
    scale_x, scale_y = geometry.scale
    wanted = (
        max(1, math.ceil(size[0] * scale_x * REDUCING_GAP)),
        max(1, math.ceil(size[1] * scale_y * REDUCING_GAP)),
    )
    room = min(size[0] // wanted[0], size[1] // wanted[1])
    return next((factor for factor in (8, 4, 2) if room >= factor), 1)


def drafted_size(size: Size, scale: int) -> Size:
    """A ``size`` JPEG's decoded size at 1/``scale`` (libjpeg rounds up)."""
    return -(-size[0] // scale), -(-size[1] // scale)


def _draft(image: Image.Image, geometry: Geometry, orientation: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the output is much smaller.

    Decoding a 4000x3000 JPEG for a 100 px thumbnail then costs 1/64 of the
    memory and most of the time. draft() never goes below the size asked for.
    """
    if image.format not in DRAFT_FORMATS or geometry.is_identity:
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
    if orientation not in _UPRIGHT:
        return image
    upright = image.transpose(_UPRIGHT[orientation])
    # The caller's file object would keep the stored pixels alive until it returns.
    image.close()
    return upright


def _resample_turned(
    image: Image.Image, geometry: Geometry, turn: Image.Transpose, padding: Colour
) -> Image.Image:
    """``_resample`` of the upright image, from the stored one: resample, turn, then pad.

    ``geometry`` is planned on the upright source; its box is mapped back onto
    the stored pixels, so the result is the same image (Lanczos is symmetric).
    """
    swaps = turn in _TURNS_SWAP_AXES
    upright = geometry.rescaled(image.size[::-1] if swaps else image.size)
    width, height = upright.content_size
    stored = Geometry(
        image.size,
        _stored_box(upright.box, image.size, turn),
        (height, width) if swaps else (width, height),
    )
    content = _resample(image, stored, padding).transpose(turn)
    if upright.placement is None:
        return content
    return pad(content, upright.size, upright.placement[:2], padding)


def _stored_box(
    box: tuple[float, float, float, float], stored: Size, turn: Image.Transpose
) -> tuple[float, float, float, float]:
    """A box in upright coordinates, in the coordinates of the pixels ``turn`` makes upright."""
    left, top, right, bottom = box
    width, height = stored
    if turn is Image.Transpose.FLIP_LEFT_RIGHT:
        return width - right, top, width - left, bottom
    if turn is Image.Transpose.ROTATE_180:
        return width - right, height - bottom, width - left, height - top
    if turn is Image.Transpose.FLIP_TOP_BOTTOM:
        return left, height - bottom, right, height - top
    if turn is Image.Transpose.TRANSPOSE:
        return top, left, bottom, right
    if turn is Image.Transpose.ROTATE_90:  # counter-clockwise
        return width - bottom, left, width - top, right
    if turn is Image.Transpose.ROTATE_270:
        return top, height - right, bottom, height - left
    # TRANSVERSE
    return width - bottom, height - right, width - top, height - left


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
