"""The embedded default storage: files on local disk, ImageKit-style URLs.

Files live under MEDIA_ROOT and are served, transformed or not, by
``media_store.views`` at MEDIA_URL, so the API works with no network.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.utils import validate_file_name
from django.core.signals import setting_changed
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from media_store.conf import PRIVATE_PREFIX, get, signing_key
from media_store.storage.interface import Listed, Stored
from media_store.urlbuilder import UrlBuilder

if TYPE_CHECKING:
    from media_store.grammar import Transformation

logger = logging.getLogger(__name__)

# Settings that change the public URL; the cached base URL and builder are
# dropped when one of them changes.
_URL_SETTINGS = frozenset({"SITE_URL", "MEDIA_URL", "MEDIA_STORE", "SECRET_KEY"})


@deconstructible
class LocalMediaStorage(FileSystemStorage):
    """FileSystemStorage whose URLs are absolute and take ImageKit transformations.

    ``location`` defaults to MEDIA_ROOT and ``base_url`` to SITE_URL + MEDIA_URL,
    both read when first needed and re-read when those settings change (as
    FileSystemStorage does), so ``override_settings`` works on a live instance.
    Kwargs win over settings, so ``STORAGES[...]["OPTIONS"]`` can set either.
    """

    def __init__(
        self,
        location: str | None = None,
        base_url: str | None = None,
        file_permissions_mode: int | None = None,
        directory_permissions_mode: int | None = None,
        allow_overwrite: bool = False,
        **unknown: Any,
    ) -> None:
        if unknown:
            # A typo in STORAGES OPTIONS should fail loudly, not be ignored.
            raise ImproperlyConfigured(
                f"LocalMediaStorage got unknown option(s): {', '.join(sorted(unknown))}."
            )
        super().__init__(
            location=location,
            base_url=base_url,
            file_permissions_mode=file_permissions_mode,
            directory_permissions_mode=directory_permissions_mode,
            allow_overwrite=allow_overwrite,
        )

    @cached_property
    def base_url(self) -> str:
        if self._base_url is not None:
            return self._base_url if self._base_url.endswith("/") else f"{self._base_url}/"
        media_url = settings.MEDIA_URL
        if media_url.startswith(("http://", "https://", "//")):
            return media_url
        return f"{settings.SITE_URL.rstrip('/')}/{media_url.lstrip('/')}"

    @cached_property
    def _url_builder(self) -> UrlBuilder:
        return UrlBuilder(self.base_url, private_key=signing_key())

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        super()._clear_cached_properties(setting, **kwargs)
        if setting in _URL_SETTINGS:
            self.__dict__.pop("base_url", None)
            self.__dict__.pop("_url_builder", None)

    def __getstate__(self) -> dict[str, Any]:
        # Cached values follow settings; an unpickled copy re-reads them.
        state = self.__dict__.copy()
        for cached in ("base_url", "_url_builder", "base_location", "location"):
            state.pop(cached, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # __init__ does not run on unpickling; keep following setting changes.
        setting_changed.connect(self._clear_cached_properties)

    def url(self, name: str | None) -> str:
        """The absolute URL of the untransformed file; no I/O."""
        return self.transformed_url(name or "")

    def iter_files(self) -> Iterator[Listed]:
        """Every stored file, with its modification time and size."""
        root = Path(self.location)
        for path in root.rglob("*"):
            if path.is_file():
                stat = path.stat()
                mtime = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                yield Listed(path.relative_to(root).as_posix(), mtime, stat.st_size)

    def put(self, name: str, content: File) -> Stored:
        """Write ``content`` to exactly ``name``, replacing any file there.

        Written to a temporary file beside it, then renamed over it: a reader (or
        a run that is interrupted) never sees half a file under ``name``.
        """
        name = self._normalise_name(name)
        path = Path(self.path(name))
        self._make_folder(path.parent)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():  # from the start: chunks() seeks to 0
                    out.write(chunk)
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        stat = path.stat()
        return Stored(
            name=name,
            size=stat.st_size,
            stored_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        )

    def _make_folder(self, folder: Path) -> None:
        if self.directory_permissions_mode is None:
            folder.mkdir(parents=True, exist_ok=True)
            return
        # As FileSystemStorage does: the mode applies to every folder made.
        old_umask = os.umask(0o777 & ~self.directory_permissions_mode)
        try:
            folder.mkdir(mode=self.directory_permissions_mode, parents=True, exist_ok=True)
        finally:
            os.umask(old_umask)

    def record(self, stored: Stored) -> None:
        """Nothing to record: the file on disk is the whole truth."""

    def discard(self, stored: Stored) -> None:
        """Delete the file ``put`` here; log, never raise."""
        try:
            self.delete(stored.name)
        except OSError:
            logger.exception("Could not delete %s", stored.name)

    def recorded_names(self) -> set[str]:
        """Nothing is recorded apart from the files themselves: ``iter_files`` lists them all."""
        return set()

    def save_many(self, items: Iterable[tuple[str, File]]) -> list[str]:
        """Save several files; on a failure, delete the ones saved and raise."""
        saved: list[str] = []
        try:
            for name, content in items:
                saved.append(self.save(name, content))
        except BaseException:
            for name in saved:
                self.delete(name)
            raise
        return saved

    def transformed_url(
        self,
        name: str,
        transformation: Transformation | None = None,
        *,
        private: bool | None = None,
    ) -> str:
        """The absolute URL of ``name`` with ``transformation`` applied on delivery.

        ``http://127.0.0.1:8000/media/tr:w-120,f-webp/images/abc.jpg``. Raises
        SuspiciousFileOperation for a name that would leave the storage root.
        Transformations are always signed; private files (names under
        ``private/``, or ``private=True``) are signed with an expiry, originals too.
        """
        name = self._normalise_name(name)
        if private is None:
            private = name.startswith(PRIVATE_PREFIX)
        if private:
            return self._url_builder.build(
                name, transformation, expires_in=get("SIGNED_URL_EXPIRE")
            )
        # Transformations are signed: the local CDN renders only what the API issued.
        return self._url_builder.build(name, transformation, signed=bool(transformation))

    @staticmethod
    def _normalise_name(name: str) -> str:
        name = name.replace("\\", "/").lstrip("/")
        # Same rule as saving: no absolute paths, no ".." components. A name with no
        # ".." that doesn't end in "/" or "." passes it, and Django's check costs a
        # pathlib parse (3 µs) on every URL built, so only the others take it.
        if name and (".." in name or name.endswith(("/", ".")) or "/./" in name):
            validate_file_name(name, allow_relative_path=True)
        return name
