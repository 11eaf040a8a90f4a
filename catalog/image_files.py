"""What an image file is: checked by decoding it in full, measured, and made into a
small variant, a placeholder and a content checksum. No database, no storage.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import blurhash
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from catalog.conf import catalog_setting
from catalog.error_codes import CatalogErrorCode
from media_store.rendering.modes import to_8bit

ORIENTATION_TAG = 0x0112

# Pillow format name → (MIME type, stored extension).
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
    "AVIF": ("image/avif", ".avif"),
}


@dataclass(frozen=True, slots=True)
class InspectedImage:
    width: int
    height: int
    format: str
    mime_type: str
    extension: str
    size: int


def _reject(message: str, code: CatalogErrorCode) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def inspect_image(file: File) -> InspectedImage:
    """Validate an uploaded image by decoding it in full; return what was learnt.

    Raises ValidationError (field ``file``) with codes ``too_large``,
    ``invalid_image``, ``unsupported_format`` or ``too_many_pixels``.
    """
    max_bytes = catalog_setting("MAX_UPLOAD_BYTES")
    if file.size is None or file.size == 0:
        raise _reject("The file is empty.", CatalogErrorCode.EMPTY)
    if file.size > max_bytes:
        raise _reject(
            f"The file is {file.size} bytes; the limit is {max_bytes} bytes.",
            CatalogErrorCode.TOO_LARGE,
        )
    max_pixels = catalog_setting("MAX_UPLOAD_PIXELS")
    file.seek(0)
    try:
        # Decompression-bomb warnings become errors, and the header size is
        # checked before any pixel is decoded.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(file) as img:
                if img.format not in ALLOWED_FORMATS:
                    raise _reject(
                        f"{img.format} images are not accepted; upload JPEG, PNG, WebP, "
                        "GIF or AVIF.",
                        CatalogErrorCode.UNSUPPORTED_FORMAT,
                    )
                if img.width * img.height > max_pixels:
                    raise _reject(
                        f"The image is {img.width}×{img.height} pixels; the limit is "
                        f"{max_pixels} pixels.",
                        CatalogErrorCode.TOO_MANY_PIXELS,
                    )
                fmt = img.format
                img.load()  # decode every pixel: truncated files fail here
                width, height = img.size
                # EXIF orientations 5-8 turn the image a quarter: swap the sides
                # (without exif_transpose, which would copy every pixel).
                if img.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):
                    width, height = height, width
    except ValidationError:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as e:
        # Pillow refuses before our own check when the header claims far more pixels.
        raise _reject(
            f"The image claims more pixels than can be decoded; the limit is {max_pixels} pixels.",
            CatalogErrorCode.TOO_MANY_PIXELS,
        ) from e
    except UnidentifiedImageError as e:
        raise _reject(
            "The file is not an image that can be read.", CatalogErrorCode.INVALID_IMAGE
        ) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise _reject(
            "The image file is damaged or truncated.", CatalogErrorCode.INVALID_IMAGE
        ) from e
    finally:
        file.seek(0)
    mime_type, extension = ALLOWED_FORMATS[fmt]
    return InspectedImage(width, height, fmt, mime_type, extension, file.size)


@dataclass(frozen=True, slots=True)
class Derived:
    """What is made from the upload once: the small variant and the placeholder."""

    small: ContentFile
    blurhash: str
    dominant_color: str


def derive(file: File) -> Derived:
    """Render the ``image_xs`` variant (EXIF applied and stripped) and the placeholder."""
    box = catalog_setting("SMALL_VARIANT_SIZE")
    file.seek(0)
    with PILImage.open(file) as img:
        if img.format == "JPEG":
            # Decode large JPEGs at reduced scale: ask for the size the
            # thumbnail will have, so a 4:3 photo decodes at 1/4, not 1/2.
            scale = box / max(img.size)
            img.draft("RGB", (round(img.width * scale), round(img.height * scale)))
        # Shrink first, then turn: exif_transpose copies the pixels it is given.
        img.thumbnail((box, box), PILImage.Resampling.LANCZOS)
        img = ImageOps.exif_transpose(img)
        # convert("RGB") clips 16-bit greyscale to white; to_8bit scales it.
        img = to_8bit(img)
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        buffer = io.BytesIO()
        if has_alpha:
            img.convert("RGBA").save(buffer, "PNG", optimize=True)
            extension = ".png"
        else:
            img.convert("RGB").save(buffer, "JPEG", quality=80, optimize=True)
            extension = ".jpg"
        blur, colour = placeholder(img)
    file.seek(0)
    return Derived(ContentFile(buffer.getvalue(), name=f"small{extension}"), blur, colour)


def render_small_variant(file: File) -> ContentFile:
    """The ``image_xs`` file of ``file``, as an upload makes it (``media_check --fix``)."""
    return derive(file).small


def placeholder(img: PILImage.Image) -> tuple[str, str]:
    """A BlurHash (4×3 components) and the most common colour, as ``#rrggbb``."""
    tiny = to_8bit(img).convert("RGB")
    tiny.thumbnail((32, 32), PILImage.Resampling.BOX)
    quantized = tiny.quantize(colors=8)
    _, index = max(quantized.getcolors())
    red, green, blue = quantized.getpalette()[index * 3 : index * 3 + 3]
    with warnings.catch_warnings():
        # blurhash-python reads pixels with Image.getdata, deprecated in Pillow 13
        # (removed in 14, which pyproject excludes until blurhash-python moves on).
        warnings.simplefilter("ignore", DeprecationWarning)
        hashed = blurhash.encode(tiny.copy(), x_components=4, y_components=3)
    return hashed, f"#{red:02x}{green:02x}{blue:02x}"


def content_checksum(file: File) -> str:
    """SHA-256 of the file's bytes, hex: how an import recognises a file already stored."""
    digest = hashlib.sha256()
    for chunk in file.chunks():  # from the start
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()
