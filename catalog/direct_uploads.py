"""Browser uploads straight to ImageKit, then registered with the catalog.

The browser asks for upload parameters: a single-use upload API V2 token that
binds a name, folder and flags the server chose, so it can create one new file
in the direct-upload folder and never replace one. It sends the file to
ImageKit itself and registers the returned fileId. The server then checks the
file as it checks its own uploads, by downloading and decoding it in full, and
makes the small variant and placeholder.

A file becomes at most one Image: a fileId already registered is refused before
anything is downloaded, and the database's unique constraints on
``Image.image``/``image_xs`` settle two registrations racing each other.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation, ValidationError
from django.core.files.storage import storages
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q

from catalog.conf import catalog_setting
from catalog.error_codes import CatalogErrorCode
from catalog.models import Image, Product
from catalog.uploads import derive, discard_files, inspect_image
from media_store.exceptions import RemoteStorageError
from media_store.models import StoredFile
from media_store.storage.interface import DirectUploadStorage

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "Direct uploads need ImageKit: set IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY and "
    "IMAGEKIT_URL_ENDPOINT, or use uploadImage."
)


def direct_upload_storage() -> DirectUploadStorage:
    """The ImageKit storage, or a ValidationError saying direct uploads need it."""
    storage = storages["default"]
    if not isinstance(storage, DirectUploadStorage):
        raise ValidationError(NOT_CONFIGURED, code=CatalogErrorCode.IMAGEKIT_NOT_CONFIGURED)
    return storage


def direct_upload_auth(*, file_name: str = ""):
    """A DirectUploadAuth for one browser upload of at most MAX_UPLOAD_BYTES.

    ``file_name`` (the browser's name for the file) only picks the extension;
    an extension that is not an accepted image type is a ValidationError on it.
    """
    storage = direct_upload_storage()
    try:
        return storage.upload_auth(
            max_bytes=catalog_setting("MAX_UPLOAD_BYTES"), file_name=file_name
        )
    except ImproperlyConfigured as e:
        raise ValidationError(str(e), code=CatalogErrorCode.IMAGEKIT_NOT_CONFIGURED) from e
    except ValueError as e:
        raise ValidationError(
            {"file_name": ValidationError(str(e), code=CatalogErrorCode.UNSUPPORTED_FORMAT)}
        ) from e


def register_uploaded_image(
    *,
    file_id: str,
    created_by: AbstractBaseUser | None,
    alt_text: str = "",
    name: str = "",
    product: Product | None = None,
) -> Image:
    """Create an Image for a file the browser uploaded to ImageKit.

    Errors are reported on ``fileId``: ``already_registered`` (this file is
    another Image's), ``not_found``, ``invalid`` (outside the upload folder),
    ``storage_unavailable``, or the upload checks' codes for a bad image, which
    is then deleted from ImageKit.
    """
    storage = direct_upload_storage()
    # Checked before anything is fetched: a file another Image holds is never
    # downloaded, re-recorded or deleted here.
    if _held(file_id=file_id):
        raise _already_registered(file_id)
    try:
        upload = storage.lookup_direct_upload(file_id)
    except FileNotFoundError as e:
        raise _error(str(e), CatalogErrorCode.NOT_FOUND) from e
    except SuspiciousFileOperation as e:
        raise _error(str(e), CatalogErrorCode.INVALID) from e
    except RemoteStorageError as e:
        raise _error(str(e), CatalogErrorCode.STORAGE_UNAVAILABLE) from e
    original = upload.name
    if _held(name=original):
        raise _already_registered(file_id)

    small: str | None = None
    keep_original = False
    try:
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
        except RemoteStorageError as e:
            # Keep the upload: the same fileId can be registered once ImageKit answers.
            keep_original = True
            raise _error(str(e), CatalogErrorCode.STORAGE_UNAVAILABLE) from e
        except FileNotFoundError as e:
            raise _error(
                f"ImageKit has no file {file_id!r} any more.", CatalogErrorCode.NOT_FOUND
            ) from e
        image.image, image.image_xs = original, small
        try:
            with transaction.atomic():
                # Recorded with the row: if the insert fails, the record rolls back too,
                # so a racing registration never rewrites the winner's record.
                storage.record(upload)
                image.save(force_insert=True)
                if product is not None:
                    product.append_image(image)
        except IntegrityError as e:
            # Another registration of the same file committed first (the unique
            # constraint on Image.image): its file and record stay as they are.
            if _held(name=original):
                keep_original = True
                raise _already_registered(file_id) from e
            raise
    except BaseException:
        # Only this attempt's files: never a file another Image holds.
        discard_files(storage, [small] if small else [])
        if not keep_original and not _held_or_unknown(original):
            storage.discard(upload)
        raise
    return image


def _held(*, name: str | None = None, file_id: str | None = None) -> bool:
    """Whether an Image holds the file ``name``, or the file recorded under ``file_id``."""
    if name is not None:
        return Image.objects.filter(Q(image=name) | Q(image_xs=name)).exists()
    names = StoredFile.objects.filter(file_id=file_id).values("name")
    return Image.objects.filter(Q(image__in=names) | Q(image_xs__in=names)).exists()


def _held_or_unknown(name: str) -> bool:
    """Like ``_held``, but True when the database cannot say: then keep the file."""
    try:
        return _held(name=name)
    except DatabaseError:
        logger.exception("Could not check whether %s is registered; keeping it", name)
        return True


def _already_registered(file_id: str) -> ValidationError:
    return _error(
        f"File {file_id!r} is already registered as an image; upload the file again to make "
        "another image from it.",
        CatalogErrorCode.ALREADY_REGISTERED,
    )


def _error(message: str, code: str) -> ValidationError:
    return ValidationError({"file_id": ValidationError(message, code=code)})
