"""The one way an image enters the catalog, whatever brought it.

``add_image`` takes an ``ImageSource``: the bytes of an upload (``NewFile``: the
API's ``uploadImage``, the admin, ``import_images``, the demo data) or a file a
browser already put on ImageKit (``catalog.direct_uploads.DirectUpload``). Every
source gets the same checks (decoded in full), the same small variant,
placeholder and checksum, the same row, and the same clean-up: if the row cannot
be written, the files this attempt stored are deleted again, so nothing is
half-written.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import PurePosixPath
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction

from catalog.error_codes import CatalogErrorCode
from catalog.image_files import InspectedImage, content_checksum, derive, inspect_image
from catalog.models import Image, Product
from catalog.signals import delete_files_on_commit
from catalog.visibility import can_see_private
from media_store.conf import PRIVATE_PREFIX
from media_store.exceptions import RemoteStorageError

logger = logging.getLogger(__name__)


class ImageSource(Protocol):
    """Where an image's original comes from, and how its files are stored and undone."""

    # The input field a bad file is reported on ("file", "file_id").
    field: str
    # The client's name for the file; the Image's default name comes from it.
    file_name: str

    def open(self) -> AbstractContextManager[File]:
        """The original's bytes, to check and derive from."""

    def store(self, image: Image, file: File, inspected: InspectedImage, small: File) -> list[str]:
        """Store what is not stored yet; return the (original, small variant) names."""

    def record(self) -> None:
        """Inside the insert's transaction: anything that must commit with the row."""

    def refusal(self, error: IntegrityError) -> ValidationError | None:
        """The client's error for a refused insert, or None for a real fault."""

    def discard(self, *, storage_failed: bool) -> None:
        """The attempt failed: delete what it stored (log, never raise)."""


class NewFile:
    """An upload's bytes: the original and the small variant are both stored here."""

    field = "file"

    def __init__(self, file: File) -> None:
        self.file = file
        self.file_name = getattr(file, "name", None) or ""
        self.storage = None
        self.stored: list[str] = []

    @contextmanager
    def open(self) -> Iterator[File]:
        yield self.file

    def store(self, image: Image, file: File, inspected: InspectedImage, small: File) -> list[str]:
        self.storage = image.image.storage
        self.stored = save_files(image, file, inspected.extension, small)
        return self.stored

    def record(self) -> None:
        pass

    def refusal(self, error: IntegrityError) -> ValidationError | None:
        return None  # names are fresh UUIDs: a clash is a fault, not the client's

    def discard(self, *, storage_failed: bool) -> None:
        if self.stored:
            discard_files(self.storage, self.stored)


def add_image(
    source: ImageSource,
    *,
    created_by: AbstractBaseUser | None,
    alt_text: str = "",
    name: str = "",
    product: Product | None = None,
    position: int | None = None,
    is_private: bool = False,
) -> Image:
    """Check ``source``'s file, store it with its small variant, insert the Image.

    ``product`` gets the image appended (or at sort order ``position``) in the
    same transaction. Raises ValidationError for anything the client can fix
    (on ``source.field`` for the file itself), with nothing stored. Only those
    who may see private images may make one (catalog.visibility);
    ``created_by=None`` is the system itself (commands, imports).
    """
    check_private_allowed(created_by, is_private)
    image = Image(alt_text=alt_text, created_by=created_by, is_private=is_private)
    storage_failed = False
    try:
        try:
            with source.open() as file:
                inspected = _inspect(file, source.field)
                derived = derive(file)
                image.checksum = content_checksum(file)
                _fill(image, inspected, derived)
                image.name = name or default_name(source.file_name)
                image.full_clean(exclude=["image", "image_xs"])
                image.image, image.image_xs = source.store(image, file, inspected, derived.small)
        except RemoteStorageError as e:
            storage_failed = True
            logger.warning("Upload failed, nothing stored: %s", e)
            raise _error(source.field, str(e), CatalogErrorCode.STORAGE_UNAVAILABLE) from e
        try:
            with transaction.atomic():
                source.record()
                image.save(force_insert=True)
                if product is not None:
                    product.append_image(image, position=position)
        except IntegrityError as e:
            refusal = source.refusal(e)
            if refusal is not None:
                raise refusal from e
            raise
    except BaseException:
        source.discard(storage_failed=storage_failed)
        raise
    return image


def check_private_allowed(user: AbstractBaseUser | None, is_private: bool) -> None:
    if is_private and user is not None and not can_see_private(user):
        raise ValidationError(
            {
                "is_private": ValidationError(
                    "Only staff can see private images, so only staff may upload them; "
                    "leave isPrivate false.",
                    code=CatalogErrorCode.PRIVATE_NOT_ALLOWED,
                )
            }
        )


def default_name(filename: str | None) -> str:
    stem = PurePosixPath(filename or "").stem.strip()
    return stem[:255] or "image"


def replace_image_file(image: Image, file: File) -> None:
    """Store a new file for ``image`` under new names, with a new small variant and placeholder.

    The old files are deleted once the transaction commits; if the row cannot
    be updated, the new ones are deleted instead.
    """
    inspected = _inspect(file, "file")
    derived = derive(file)
    image.checksum = content_checksum(file)
    _fill(image, inspected, derived)
    image.full_clean(exclude=["image", "image_xs"])
    _swap_files(
        image,
        lambda revision: save_files(image, file, inspected.extension, derived.small, revision),
    )


def set_private(image: Image, is_private: bool) -> None:
    """Make ``image`` private or public, moving its files to the names that calls for.

    Private files live under ``private/`` (signed, expiring URLs on both
    storages). The files are copied to their new names; the old ones are deleted
    once the transaction commits.
    """
    image.is_private = is_private
    if image.image.name.startswith(PRIVATE_PREFIX) == is_private:
        image.save(update_fields=["is_private"])
        return
    storage = image.image.storage

    def copy(revision: str) -> list[str]:
        with storage.open(image.image.name) as original, storage.open(image.image_xs.name) as small:
            small.name = image.image_xs.name
            return save_files(
                image, original, PurePosixPath(image.image.name).suffix, small, revision
            )

    _swap_files(image, copy)


def _swap_files(image: Image, store) -> None:
    """Store new files with ``store(revision)``, save the row, delete the old files on commit."""
    old = image.stored_names()
    try:
        stored = store(secrets.token_hex(4))
    except RemoteStorageError as e:
        logger.warning("Upload failed, nothing stored: %s", e)
        raise _error("file", str(e), CatalogErrorCode.STORAGE_UNAVAILABLE) from e
    image.image, image.image_xs = stored
    try:
        with transaction.atomic():
            image.save()
    except BaseException:
        discard_files(image.image.storage, stored)
        raise
    delete_files_on_commit(image.image.storage, old)


def save_files(
    image: Image, original: File, extension: str, small: File, revision: str = ""
) -> list[str]:
    """Store the original and the small variant under the image's names; return them.

    Both go upstream together: ``save_many`` removes both if either fails.
    """
    storage = image.image.storage
    original_name = image.storage_name(f"original{extension}", variant="", revision=revision)
    small_name = image.storage_name(small.name, variant="xs", revision=revision)
    return storage.save_many(
        [
            (storage.generate_filename(original_name), original),
            (storage.generate_filename(small_name), small),
        ]
    )


def discard_files(storage, names: list[str]) -> None:
    """Delete files stored for an upload that did not complete; log, never raise."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not remove %s after a failed upload", name)


def _inspect(file: File, field: str) -> InspectedImage:
    """``inspect_image``, its refusals reported on ``field``."""
    try:
        return inspect_image(file)
    except ValidationError as e:
        if field == "file":
            raise
        (error,) = e.error_dict["file"]
        raise _error(field, error.message, error.code) from e


def _fill(image: Image, inspected: InspectedImage, derived) -> None:
    image.width, image.height = inspected.width, inspected.height
    image.size, image.mime_type = inspected.size, inspected.mime_type
    image.blurhash, image.dominant_color = derived.blurhash, derived.dominant_color


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})
