"""The ``--storage`` option of the media commands: a STORAGES alias → a MediaStorage."""

from __future__ import annotations

from django.core.files.storage import InvalidStorageError, storages
from django.core.management.base import CommandError

from media_store.storage.interface import MediaStorage


def media_storage(alias: str) -> MediaStorage:
    """The storage ``alias`` names; CommandError if there is none or it is not a media one."""
    try:
        backend = storages[alias]
    except InvalidStorageError as e:
        raise CommandError(f"No storage named {alias!r} in STORAGES.") from e
    if not isinstance(backend, MediaStorage):
        raise CommandError(
            f"STORAGES[{alias!r}] is a {type(backend).__name__}, which cannot list its files; "
            "name the storage that holds the catalog's files (default)."
        )
    return backend
