"""Turn an uploaded file into a stored Image: validate, measure, make the small variant.

Nothing is half-written: files are stored first, and if the row cannot be
created they are deleted again.
"""

from __future__ import annotations

import io
import logging
import secrets
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

import blurhash
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from catalog.conf import catalog_setting
from catalog.error_codes import CatalogErrorCode
from catalog.models import Image, Product
from catalog.signals import delete_files_on_commit
from catalog.visibility import can_see_private
from media_store.exceptions import RemoteStorageError
from media_store.rendering.modes import to_8bit

logger = logging.getLogger(__name__)

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
    with ExitStack() as stack:
        try:
            # Decompression-bomb warnings become errors, and the header size is
            # checked before any pixel is decoded.
            with warnings.catch_warnings():
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                img = stack.enter_context(PILImage.open(file))
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
                width, height = img.size  # before draft() makes it the reduced size
                _draft_for_small_variant(img, catalog_setting("SMALL_VARIANT_SIZE"))
                img.load()  # read every byte: truncated files fail here
                # EXIF orientations 5-8 turn the image a quarter: swap the sides
                # (without exif_transpose, which would copy every pixel).
                if img.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8):
                    width, height = height, width
        except ValidationError:
            raise
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
    with PILImage.open(file) as img:
        _draft_for_small_variant(img, box)
        derived = _render(img, box)
    file.seek(0)
    return derived


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


def default_name(filename: str | None) -> str:
    stem = PurePosixPath(filename or "").stem.strip()
    return stem[:255] or "image"


def create_image(
    *,
    file: File,
    created_by: AbstractBaseUser | None,
    alt_text: str = "",
    name: str = "",
    product: Product | None = None,
    is_private: bool = False,
) -> Image:
    """Validate and store ``file`` with its small variant; create the Image row.

    Raises ValidationError for a bad upload, with nothing stored. Only those who
    may see private images may make one (catalog.visibility); ``created_by=None``
    is the system itself (commands, imports).
    """
    if is_private and created_by is not None and not can_see_private(created_by):
        raise ValidationError(
            {
                "is_private": ValidationError(
                    "Only staff can see private images, so only staff may upload them; "
                    "leave isPrivate false.",
                    code=CatalogErrorCode.PRIVATE_NOT_ALLOWED,
                )
            }
        )
    image = Image(name=name, alt_text=alt_text, created_by=created_by, is_private=is_private)
    save_new_image(image, file, product=product)
    return image


def save_new_image(image: Image, file: File, *, product: Product | None = None) -> None:
    """Fill ``image`` from ``file``, store both files and insert the row.

    If the row cannot be written, the stored files are deleted again.
    """
    image.name = image.name or default_name(getattr(file, "name", None))
    stored = _store(image, file, exclude_clean=["image", "image_xs"])
    try:
        with transaction.atomic():
            image.save(force_insert=True)
            if product is not None:
                product.append_image(image)
    except BaseException:
        discard_files(image.image.storage, stored)
        raise


def replace_image_file(image: Image, file: File) -> None:
    """Store a new file for ``image`` under new names, with a new small variant and placeholder.

    The old files are deleted once the transaction commits; if the row cannot
    be updated, the new ones are deleted instead.
    """
    old = image.stored_names()
    stored = _store(image, file, revision=secrets.token_hex(4))
    try:
        with transaction.atomic():
            image.save()
    except BaseException:
        discard_files(image.image.storage, stored)
        raise
    delete_files_on_commit(image.image.storage, old)


def _store(
    image: Image, file: File, *, revision: str = "", exclude_clean: list[str] | None = None
) -> list[str]:
    """Validate ``file``, fill the image's measured fields, store original and small variant.

    Raises ValidationError (field ``file``) with nothing stored.
    """
    with decoded_upload(file) as upload:
        inspected = upload.inspected
        image.width, image.height = inspected.width, inspected.height
        image.size, image.mime_type = inspected.size, inspected.mime_type
        # The id is a new UUID and created_by the signed-in user: checking that the
        # one is free and the other exists would cost two queries and cannot fail.
        image.full_clean(exclude=[*(exclude_clean or ["image", "image_xs"]), "id", "created_by"])
        derived = upload.derive()
    image.blurhash, image.dominant_color = derived.blurhash, derived.dominant_color
    storage = image.image.storage
    names = [
        image.storage_name(f"original{inspected.extension}", variant="", revision=revision),
        image.storage_name(derived.small.name, variant="xs", revision=revision),
    ]
    # Both files go upstream together; save_many removes both if either fails.
    try:
        stored = storage.save_many(
            [
                (storage.generate_filename(names[0]), file),
                (storage.generate_filename(names[1]), derived.small),
            ]
        )
    except RemoteStorageError as e:
        logger.warning("Upload failed, nothing stored: %s", e)
        raise ValidationError(
            {"file": ValidationError(str(e), code=CatalogErrorCode.STORAGE_UNAVAILABLE)}
        ) from e
    # Assigning names (not files) marks both fields as already stored.
    image.image, image.image_xs = stored
    return stored


def discard_files(storage, names: list[str]) -> None:
    """Delete files stored for an upload that did not complete; log, never raise."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not remove %s after a failed upload", name)
