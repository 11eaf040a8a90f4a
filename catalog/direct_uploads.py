"""Browser uploads straight to ImageKit, then registered with the catalog.

The browser asks for upload parameters (a signed, single-use token), sends
the file to ImageKit itself, and registers the returned fileId. The server
then checks the file as it checks its own uploads, by downloading and
decoding it in full, and makes the small variant and placeholder.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import storages
from django.db import transaction

from catalog.models import Image, Product
from catalog.uploads import derive, discard_files, inspect_image
from media_store.exceptions import RemoteStorageError

logger = logging.getLogger(__name__)


def direct_upload_storage():
    """The ImageKit storage, or a ValidationError saying direct uploads need it."""
    storage = storages["default"]
    if not hasattr(storage, "upload_auth"):
        raise ValidationError(
            "Direct uploads need ImageKit: set IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY and "
            "IMAGEKIT_URL_ENDPOINT, or use uploadImage.",
            code="imagekit_not_configured",
        )
    return storage


def register_uploaded_image(
    *,
    file_id: str,
    created_by: AbstractBaseUser | None,
    alt_text: str = "",
    name: str = "",
    product: Product | None = None,
) -> Image:
    """Create an Image for a file the browser uploaded to ImageKit.

    An invalid file is deleted from ImageKit and reported on ``fileId``.
    """
    storage = direct_upload_storage()
    try:
        original = storage.adopt(file_id)
    except FileNotFoundError as e:
        raise _error(str(e), "not_found") from e
    except SuspiciousFileOperation as e:
        raise _error(str(e), "invalid") from e
    except RemoteStorageError as e:
        raise _error(str(e), "storage_unavailable") from e
    stored = [original]
    try:
        with storage.open(original) as handle:
            try:
                inspected = inspect_image(handle)
            except ValidationError as e:
                (error,) = e.error_dict["file"]
                raise _error(error.message, error.code) from e
            derived = derive(handle)
        image = Image(
            name=name or original.rsplit("/", 1)[-1].rsplit(".", 1)[0],
            alt_text=alt_text,
            created_by=created_by,
            width=inspected.width,
            height=inspected.height,
            size=inspected.size,
            mime_type=inspected.mime_type,
            blurhash=derived.blurhash,
            dominant_color=derived.dominant_color,
        )
        image.full_clean(exclude=["image", "image_xs"])
        small = storage.save(
            storage.generate_filename(image.storage_name(derived.small.name, variant="xs")),
            derived.small,
        )
        stored.append(small)
        image.image, image.image_xs = original, small
        with transaction.atomic():
            image.save(force_insert=True)
            if product is not None:
                product.append_image(image)
    except BaseException:
        discard_files(storage, stored)
        raise
    return image


def _error(message: str, code: str) -> ValidationError:
    return ValidationError({"file_id": ValidationError(message, code=code)})
