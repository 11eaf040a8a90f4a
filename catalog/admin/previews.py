"""HTML for an image's previews in the admin: thumbnails, a transformed preview, and
the placeholder (dominant colour and the blurred image its BlurHash stands for)."""

from __future__ import annotations

import base64
import io

import blurhash
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.models import Image
from media_store.grammar import parse

# A preview the CDN renders through its transformation URLs (like url(transform:)).
LARGE = parse("w-640,h-480,c-at_max")
# BlurHash decodes to a few pixels; the browser's smoothing blurs them when scaled up.
BLURHASH_WIDTH = 32
PLACEHOLDER_WIDTH = 160


def thumbnail(image: Image | None, *, height: int | None = 48) -> SafeString | str:
    """The small variant, ``height`` pixels tall (None: its own size); a dash if none."""
    if image is None or not image.image_xs:
        return "—"
    return format_html(
        '<img src="{}" alt="{}"{} class="catalog-thumb">',
        image.image_xs.url,
        image.alt_text,
        format_html(' height="{}"', height) if height else "",
    )


def large_preview(image: Image) -> SafeString:
    field = image.image
    return format_html(
        '<img src="{}" alt="{}" class="catalog-preview" style="max-width:640px;max-height:480px">',
        field.storage.transformed_url(field.name, LARGE),
        image.alt_text,
    )


def placeholder(image: Image) -> SafeString | str:
    """The dominant colour's swatch and the BlurHash decoded, at the image's proportions."""
    if not image.blurhash:
        return "—"
    height = max(1, round(PLACEHOLDER_WIDTH * image.height / image.width))
    return format_html(
        '<span class="catalog-swatch" title="{colour}" style="background:{colour}"></span>'
        " <code>{colour}</code><br>"
        '<img src="{blur}" alt="BlurHash {hash}" width="{width}" height="{height}" '
        'class="catalog-blurhash"><br><code>{hash}</code>',
        colour=image.dominant_color,
        blur=blurhash_data_url(image.blurhash, image.width, image.height),
        hash=image.blurhash,
        width=PLACEHOLDER_WIDTH,
        height=height,
    )


def blurhash_data_url(hashed: str, width: int, height: int) -> str:
    """A tiny PNG of ``hashed`` decoded, as a ``data:`` URL (no request, no JavaScript)."""
    small_height = max(1, round(BLURHASH_WIDTH * height / width))
    pixels = blurhash.decode(hashed, BLURHASH_WIDTH, small_height)
    buffer = io.BytesIO()
    pixels.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
