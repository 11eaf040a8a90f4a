"""Output formats: negotiation and every per-format encoder tweak.

All format-specific behaviour (mode conversion, save options, size limits)
lives in this module, like Saleor's ``preprocess_<FORMAT>`` hooks, so adding a
format or an encoder option is a change in one place.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, features

from media_store import grammar
from media_store.rendering.colour import DEFAULT_BACKGROUND

# AVIF encoder effort, 0 (slowest, smallest) to 10. Pillow's default, 6,
# takes ~45 ms for a 300x169 thumbnail; 8 takes ~13 ms for files ~2 % larger.
# 9 costs a quarter of 8's CPU on photographs with grain (150 vs 550 ns per
# pixel for 2000x1500, files 1 % larger), which is what lets f-auto (AVIF for
# today's browsers) render 1920 px wide within the render budget.
AVIF_SPEED = 9
# WebP effort, 0-6. libwebp's and libvips' default; 6 is ~2.5x slower for ~5 %
# smaller files, 2 saves ~2.4 ms on a 300 px thumbnail for ~2 % larger ones.
WEBP_METHOD = 4
# zlib level for PNG, 0-9. On photographs level 3 costs 0.6 of level 6's CPU
# (RGBA 2000x1500: 168 vs 264 ns per pixel) for files ~5 % larger; PNG is chosen
# for transparency, rarely for size, and its encode dominates large renders.
PNG_COMPRESS_LEVEL = 3

RGB = tuple[int, int, int]
PrepareFn = Callable[[Image.Image, int, RGB], tuple[Image.Image, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """One encodable format: its names, limits and how to prepare an image for it."""

    name: str  # our name, also the Rendered.format value: "jpeg", "webp"...
    pillow: str  # Pillow's format name for Image.save
    content_type: str
    max_side: int
    prepare: PrepareFn


def _has_alpha_mode(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA")


def has_alpha(image: Image.Image) -> bool:
    """True when some pixel is not fully opaque (an all-opaque alpha channel counts as none)."""
    if not _has_alpha_mode(image):
        return False
    low, _high = image.getchannel("A").getextrema()
    return low < 255


def _flatten(image: Image.Image, background: RGB) -> Image.Image:
    """Composite an alpha image onto an opaque ``background``."""
    if not _has_alpha_mode(image):
        return image
    grey = image.mode == "LA" and background[0] == background[1] == background[2]
    canvas = Image.new("L" if grey else "RGB", image.size, background[0] if grey else background)
    canvas.paste(image.convert("L" if grey else "RGB"), mask=image.getchannel("A"))
    return canvas


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if _has_alpha_mode(image) else "RGB")


def _prepare_jpeg(
    image: Image.Image, quality: int, background: RGB
) -> tuple[Image.Image, dict[str, Any]]:
    image = _flatten(image, background)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image, {"quality": quality, "optimize": True}


def _prepare_png(
    image: Image.Image, quality: int, background: RGB
) -> tuple[Image.Image, dict[str, Any]]:
    # PNG is lossless: quality does not apply.
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = _rgb_or_rgba(image)
    return image, {"compress_level": PNG_COMPRESS_LEVEL}


def _prepare_webp(
    image: Image.Image, quality: int, background: RGB
) -> tuple[Image.Image, dict[str, Any]]:
    return _rgb_or_rgba(image), {"quality": quality, "method": WEBP_METHOD}


def _prepare_avif(
    image: Image.Image, quality: int, background: RGB
) -> tuple[Image.Image, dict[str, Any]]:
    return _rgb_or_rgba(image), {"quality": quality, "speed": AVIF_SPEED}


def _prepare_gif(
    image: Image.Image, quality: int, background: RGB
) -> tuple[Image.Image, dict[str, Any]]:
    # Pillow quantises RGB/RGBA to an adaptive palette and keeps transparency.
    return _rgb_or_rgba(image), {}


FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("jpeg", "JPEG", "image/jpeg", 65_535, _prepare_jpeg),
        OutputFormat("png", "PNG", "image/png", 2**31 - 1, _prepare_png),
        # libwebp's hard limit; ImageKit documents the same.
        OutputFormat("webp", "WEBP", "image/webp", 16_383, _prepare_webp),
        OutputFormat("avif", "AVIF", "image/avif", 65_535, _prepare_avif),
        OutputFormat("gif", "GIF", "image/gif", 65_535, _prepare_gif),
    )
}

# The grammar's values of ``f`` (but ``auto``, negotiated) mapped to our format names.
_REQUESTED = {
    value: {"jpg": "jpeg"}.get(value, value) for value in grammar.FORMATS if value != "auto"
}

# Pillow's names for source formats we re-encode as themselves when there is no ``f``.
_SOURCE_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
if features.check("avif"):
    _SOURCE_FORMATS["AVIF"] = "avif"


def is_supported(requested: str) -> bool:
    """Whether ``f-<requested>`` can be produced here (AVIF needs Pillow built with libavif)."""
    if requested in ("auto", "orig"):
        return True
    name = _REQUESTED.get(requested)
    return name is not None and (name != "avif" or features.check("avif"))


def accepts(accept: str, media_type: str) -> bool:
    """Whether an HTTP Accept header lists ``media_type`` with a non-zero q.

    Wildcards are ignored on purpose: browsers send ``*/*`` whether or not
    they can decode WebP, and advertise WebP explicitly when they can.
    """
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        if kind.lower() != media_type:
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def variant(requested: str | None, accept: str) -> str:
    """The part of the request, besides source and chain, that decides the output format.

    Use it in cache keys: ``auto`` depends on the Accept header only through
    AVIF and WebP support, so every browser shares at most three renditions
    rather than one per distinct Accept string.
    """
    if requested is None or requested == "orig":
        return "orig"
    if requested == "auto":
        if accepts(accept, "image/avif") and features.check("avif"):
            return "auto-avif"
        return "auto-webp" if accepts(accept, "image/webp") else "auto-legacy"
    return _REQUESTED.get(requested, requested)


def choose(requested: str | None, accept: str, *, source_format: str | None, alpha: bool) -> str:
    """Resolve the output format name for one request.

    ``auto`` gives AVIF when the client accepts it and Pillow can write it,
    else WebP when accepted, else PNG for images with transparency and JPEG
    otherwise. No ``f`` keeps the source's format when we can write it.
    """
    chosen = variant(requested, accept)
    if chosen == "auto-avif":
        return "avif"
    if chosen == "auto-webp":
        return "webp"
    if chosen == "orig":
        kept = _SOURCE_FORMATS.get(source_format or "")
        if kept is not None:
            return kept
        chosen = "auto-legacy"
    if chosen == "auto-legacy":
        return "png" if alpha else "jpeg"
    return chosen


def encode(
    image: Image.Image,
    name: str,
    *,
    quality: int,
    icc_profile: bytes | None,
    background: RGB = DEFAULT_BACKGROUND[:3],
) -> bytes:
    """Encode ``image`` as format ``name`` with no metadata except the ICC profile.

    Formats without alpha (JPEG) composite transparent pixels onto ``background``.
    """
    output = FORMATS[name]
    image, options = output.prepare(image, quality, background)
    # Pillow copies ``info`` through resize/convert, and some encoders write
    # EXIF/XMP/comments from it by default; start from nothing.
    image.info = {}
    if icc_profile and _icc_fits(icc_profile, image.mode):
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, format=output.pillow, **options)
    return buffer.getvalue()


def _icc_fits(profile: bytes, mode: str) -> bool:
    """Whether an ICC profile's colour space (header bytes 16-20) matches ``mode``.

    A CMYK or greyscale profile left on an RGB output makes viewers render
    wrong colours, so a mismatched profile is dropped.
    """
    space = profile[16:20]
    return (space == b"RGB " and mode in ("RGB", "RGBA")) or (
        space == b"GRAY" and mode in ("L", "LA")
    )


def sniff_content_type(head: bytes) -> str | None:
    """Content type of encoded bytes from their first 16 bytes, for cached renditions."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    return None
