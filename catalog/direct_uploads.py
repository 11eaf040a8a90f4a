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
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import DatabaseError, IntegrityError
from django.db.models import Q

from catalog.conf import catalog_setting
from catalog.error_codes import CatalogErrorCode
from catalog.image_files import InspectedImage
from catalog.models import Image, Product
from catalog.uploads import add_image, discard_files
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


class DirectUpload:
    """A file a browser uploaded to ImageKit, named by its ``fileId``: an ``ImageSource``.

    The original is already stored; only the small variant is stored here, and
    ImageKit's answer is recorded with the row. Errors are reported on
    ``fileId``: ``already_registered`` (this file is another Image's),
    ``not_found``, ``invalid`` (outside the upload folder) or
    ``storage_unavailable``; a file that is not a valid image is deleted.
    """

    field = "file_id"

    def __init__(self, file_id: str) -> None:
        self.storage = direct_upload_storage()
        self.file_id = file_id
        self.small: str | None = None
        # Checked before anything is fetched: a file another Image holds is never
        # downloaded, re-recorded or deleted here.
        if _held(file_id=file_id):
            raise _already_registered(file_id)
        try:
            self.upload = self.storage.lookup_direct_upload(file_id)
        except FileNotFoundError as e:
            raise _error(str(e), CatalogErrorCode.NOT_FOUND) from e
        except SuspiciousFileOperation as e:
            raise _error(str(e), CatalogErrorCode.INVALID) from e
        except RemoteStorageError as e:
            raise _error(str(e), CatalogErrorCode.STORAGE_UNAVAILABLE) from e
        if _held(name=self.upload.name):
            raise _already_registered(file_id)
        self.file_name = self.upload.name.rsplit("/", 1)[-1]
        self.keep_original = False

    @contextmanager
    def open(self) -> Iterator[File]:
        try:
            with self.storage.open(self.upload.name) as handle:
                yield handle
        except FileNotFoundError as e:
            raise _error(
                f"ImageKit has no file {self.file_id!r} any more.", CatalogErrorCode.NOT_FOUND
            ) from e

    def store(self, image: Image, file: File, inspected: InspectedImage, small: File) -> list[str]:
        self.small = self.storage.save(
            self.storage.generate_filename(image.storage_name(small.name, variant="xs")), small
        )
        return [self.upload.name, self.small]

    def record(self) -> None:
        # Recorded with the row: if the insert fails, the record rolls back too,
        # so a racing registration never rewrites the winner's record.
        self.storage.record(self.upload)

    def refusal(self, error: IntegrityError) -> ValidationError | None:
        # Another registration of the same file committed first (the unique
        # constraint on Image.image): its file and record stay as they are.
        if _held(name=self.upload.name):
            self.keep_original = True
            return _already_registered(self.file_id)
        return None

    def discard(self, *, storage_failed: bool) -> None:
        # Only this attempt's files: never a file another Image holds.
        discard_files(self.storage, [self.small] if self.small else [])
        # After a storage failure the upload is kept: the same fileId can be
        # registered once ImageKit answers.
        if storage_failed or self.keep_original or _held_or_unknown(self.upload.name):
            return
        self.storage.discard(self.upload)


def register_uploaded_image(
    *,
    file_id: str,
    created_by: AbstractBaseUser | None,
    alt_text: str = "",
    name: str = "",
    product: Product | None = None,
) -> Image:
    """Create an Image for a file the browser uploaded to ImageKit (see ``DirectUpload``)."""
    return add_image(
        DirectUpload(file_id),
        created_by=created_by,
        alt_text=alt_text,
        name=name,
        product=product,
    )


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
