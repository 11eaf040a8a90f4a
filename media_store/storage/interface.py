"""The storage interface the app relies on, beyond Django's ``Storage``.

``LocalMediaStorage`` and ``ImageKitStorage`` implement ``MediaStorage``;
``ImageKitStorage`` alone implements ``DirectUploadStorage`` (browsers upload
to ImageKit, never to the local disk). Code that needs a capability checks for
it with ``isinstance(storage, DirectUploadStorage)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from django.core.files.base import File

    from media_store.grammar import Transformation
    from media_store.storage.imagekit.direct import DirectUploadAuth


@dataclass(frozen=True, slots=True)
class Stored:
    """What a storage holds under one name, as it answered when writing or looking it up."""

    name: str
    size: int
    # ImageKit's fileId; empty on local disk.
    file_id: str = ""
    width: int | None = None
    height: int | None = None
    mime: str = ""
    is_private: bool = False
    stored_at: datetime | None = None


class Listed(NamedTuple):
    """One file in a storage's listing."""

    name: str
    stored_at: datetime | None
    size: int


@runtime_checkable
class MediaStorage(Protocol):
    """A storage for the catalog's files: Django's Storage calls the app makes, and ours."""

    # --- Django's Storage, as the app uses it ---

    def open(self, name: str, mode: str = "rb") -> File: ...

    def save(self, name: str | None, content: File, max_length: int | None = None) -> str: ...

    def delete(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def url(self, name: str | None) -> str: ...

    def generate_filename(self, filename: str) -> str: ...

    # --- ours ---

    def transformed_url(
        self,
        name: str,
        transformation: Transformation | None = None,
        *,
        private: bool | None = None,
    ) -> str:
        """The delivery URL of ``name`` with ``transformation`` applied; no I/O."""
        ...

    def save_many(self, items: Iterable[tuple[str, File]]) -> list[str]:
        """Save several files, all or none: on a failure, delete the ones saved and raise."""
        ...

    def iter_files(self) -> Iterator[Listed]:
        """Every file the storage holds, from one listing."""
        ...

    def recorded_names(self) -> set[str]:
        """Names recorded as stored that a listing may not show yet (none on local disk)."""
        ...

    def put(self, name: str, content: File) -> Stored:
        """Store ``content`` under exactly ``name``, replacing any file there.

        Writes no database row (it may run in a worker thread): pass the answer to
        ``record`` from the thread that owns the transaction.
        """
        ...

    def record(self, stored: Stored) -> None:
        """Record ``stored`` as held under its name (ImageKit: a StoredFile row)."""
        ...

    def discard(self, stored: Stored) -> None:
        """Delete a file ``put`` or looked up here, with any record; log, never raise."""
        ...


@runtime_checkable
class DirectUploadStorage(MediaStorage, Protocol):
    """A storage browsers upload to directly, with a token the server signs."""

    def upload_auth(
        self, *, max_bytes: int, file_name: str = "", content_type: str = ""
    ) -> DirectUploadAuth:
        """A single-use token and form fields for one browser upload; no network."""
        ...

    def lookup_direct_upload(self, file_id: str) -> Stored:
        """What the storage holds under a browser upload's id; records nothing."""
        ...
