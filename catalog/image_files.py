"""What an image file is: checked by decoding it in full, measured, and made into a
small variant, a placeholder and a content checksum. No database, no storage.

Decoding and shrinking hold one of the process's image-work slots
(media_store.limiter), shared with the local CDN's renders: a burst of uploads
decodes a few at a time, within the memory the render budget allows.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache

import blurhash
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from catalog.conf import catalog_setting
from catalog.error_codes import CatalogErrorCode
from media_store.grammar import Transformation, parse
from media_store.limiter import RenderBusyError, limiter
from media_store.rendering.budget import estimate
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


@dataclass(frozen=True, slots=True)
class Derived:
    """What is made from the upload once: the small variant and the placeholder."""

    small: ContentFile
    blurhash: str
    dominant_color: str


class DecodedUpload:
    """An upload decoded once: what validation learnt, and the pixels to derive from.

    A JPEG is decoded at the reduced scale the small variant needs (libjpeg's
    DCT scaling, ``Image.draft``): every byte of the file is still read and
    entropy-decoded, so a truncated or damaged file fails just the same, for
    a fraction of a full decode. Other formats are decoded in full.
    """

    def __init__(self, img: PILImage.Image, inspected: InspectedImage) -> None:
        self.img = img
        self.inspected = inspected

    def derive(self) -> Derived:
        """The small variant and placeholder, from the decoded pixels (no second decode).

        Shrinks the decoded image: call it once.
        """
        return _render(self.img, catalog_setting("SMALL_VARIANT_SIZE"))


@contextmanager
def decoded_upload(file: File) -> Iterator[DecodedUpload]:
    """Validate an uploaded image by decoding it; yield what was learnt and the pixels.

    Raises ValidationError (field ``file``) with codes ``empty``, ``too_large``,
    ``invalid_image``, ``unsupported_format``, ``too_many_pixels``, or ``busy``
    when no image-work slot comes free within UPLOAD_QUEUE_TIMEOUT.
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
    with ExitStack() as stack:
        try:
            # The header's size is checked before any pixel is decoded. Pillow's own
            # check refuses far larger claims (DecompressionBombError); claims past its
            # warning threshold only warn, and are refused by ours below.
            img = stack.enter_context(PILImage.open(file))
            if img.format not in ALLOWED_FORMATS:
                raise _reject(
                    f"{img.format} images are not accepted; upload JPEG, PNG, WebP, GIF or AVIF.",
                    CatalogErrorCode.UNSUPPORTED_FORMAT,
                )
            if img.width * img.height > max_pixels:
                raise _reject(
                    f"The image is {img.width}×{img.height} pixels; the limit is "
                    f"{max_pixels} pixels.",
                    CatalogErrorCode.TOO_MANY_PIXELS,
                )
            fmt = img.format
            width, height = img.size  # before draft() makes it the reduced size
            # Held until the caller has derived what it needs from the pixels.
            stack.enter_context(_image_work_slot(img))
            _draft_for_small_variant(img, catalog_setting("SMALL_VARIANT_SIZE"))
            img.load()  # read every byte: truncated files fail here
            # EXIF orientations 5-8 turn the image a quarter: swap the sides
            # (without exif_transpose, which would copy every pixel).
            if img.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):
                width, height = height, width
        except ValidationError:
            raise
        except RenderBusyError as e:
            raise _reject(
                f"The server is busy with other images (waited {e.waited:.1f} s); "
                "try the upload again in a few seconds.",
                CatalogErrorCode.BUSY,
            ) from e
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as e:
            # Pillow refuses before our own check when the header claims far more pixels.
            raise _reject(
                "The image claims more pixels than can be decoded; the limit is "
                f"{max_pixels} pixels.",
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
        yield DecodedUpload(
            img, InspectedImage(width, height, fmt, mime_type, extension, file.size)
        )
    file.seek(0)


def inspect_image(file: File) -> InspectedImage:
    """Validate an uploaded image by decoding it (see :func:`decoded_upload`)."""
    with decoded_upload(file) as upload:
        return upload.inspected


def derive(file: File) -> Derived:
    """Render the ``image_xs`` variant (EXIF applied and stripped) and the placeholder."""
    box = catalog_setting("SMALL_VARIANT_SIZE")
    file.seek(0)
    with PILImage.open(file) as img, _image_work_slot(img):
        _draft_for_small_variant(img, box)
        derived = _render(img, box)
    file.seek(0)
    return derived


def _image_work_slot(img: PILImage.Image) -> AbstractContextManager[None]:
    """One of the process's image-work slots, with the memory making the small variant
    of ``img`` (header read, nothing decoded) is estimated to hold.

    The estimate is the render budget's for the same work on the CDN: the small
    variant is ``w-<size>,h-<size>,c-at_max``, drafted alike. Raises RenderBusyError
    after UPLOAD_QUEUE_TIMEOUT.
    """
    cost = estimate(
        _small_variant_chain(catalog_setting("SMALL_VARIANT_SIZE")),
        img.size,
        source_format=img.format,
        source_mode=img.mode,
    )
    return limiter().slot(cost.memory, catalog_setting("UPLOAD_QUEUE_TIMEOUT"))


@cache
def _small_variant_chain(box: int) -> Transformation:
    return parse(f"w-{box},h-{box},c-at_max")


def _draft_for_small_variant(img: PILImage.Image, box: int) -> None:
    """Have a JPEG decode at the smallest scale still at least the small variant's size.

    Ask for the size the thumbnail will have, so a 4:3 photo decodes at 1/4, not 1/2.
    Other formats ignore it.
    """
    if img.format == "JPEG":
        scale = box / max(img.size)
        img.draft("RGB", (round(img.width * scale), round(img.height * scale)))


def _render(img: PILImage.Image, box: int) -> Derived:
    """The small variant and placeholder of ``img``, which is shrunk in place."""
    # Shrink first, then turn: turning the full image would move every pixel.
    img.thumbnail((box, box), PILImage.Resampling.LANCZOS)
    ImageOps.exif_transpose(img, in_place=True)
    # convert("RGB") clips 16-bit greyscale to white; to_8bit scales it.
    small = to_8bit(img)
    has_alpha = small.mode in ("RGBA", "LA", "PA") or "transparency" in small.info
    buffer = io.BytesIO()
    if has_alpha:
        small.convert("RGBA").save(buffer, "PNG", optimize=True)
        extension = ".png"
    else:
        small.convert("RGB").save(buffer, "JPEG", quality=80, optimize=True)
        extension = ".jpg"
    blur, colour = placeholder(small)
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
    hashed = blurhash.encode(tiny.copy(), x_components=4, y_components=3)
    return hashed, f"#{red:02x}{green:02x}{blue:02x}"


def hide_blurhash_deprecation() -> None:
    """Hide blurhash-python's use of ``Image.getdata``, deprecated in Pillow 13 (removed
    in 14, which pyproject excludes until blurhash-python moves on).

    Registered once, at start-up (CatalogConfig.ready): ``warnings.catch_warnings``
    around each call swapped the process's filter list and restored it on exit, so
    uploads in concurrent threads left each other's filters behind for good.
    """
    warnings.filterwarnings(
        "ignore", r"Image\.Image\.getdata is deprecated", DeprecationWarning, r"blurhash"
    )


def content_checksum(file: File) -> str:
    """SHA-256 of the file's bytes, hex: how an import recognises a file already stored."""
    digest = hashlib.sha256()
    for chunk in file.chunks():  # from the start
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()
