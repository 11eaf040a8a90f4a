"""ImageKitStorage: a Django Storage on the official ``imagekitio`` SDK.

Names are paths relative to the configured folder (``images/ab12.jpg`` is
``/<folder>/images/ab12.jpg`` on ImageKit). What ImageKit answered at upload
(fileId, size, dimensions, type) is recorded in ``media_store.StoredFile``
(``records``), so ``url()`` needs nothing and ``exists()``/``size()`` need no
network; a name missing from that table is looked up through the API.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from media_store.conf import PRIVATE_PREFIX
from media_store.exceptions import RemoteStorageError
from media_store.grammar import Transformation, parse
from media_store.presets import for_imagekit
from media_store.storage.imagekit import client as api
from media_store.storage.imagekit import records
from media_store.storage.imagekit.direct import (
    UPLOAD_API_V2_PATH,
    UPLOAD_API_V2_URL,
    DirectUploadAuth,
    make_upload_auth,
)
from media_store.storage.interface import Listed, Stored
from media_store.urlbuilder import UrlBuilder

if TYPE_CHECKING:
    import httpx
    from imagekitio import ImageKit

logger = logging.getLogger(__name__)

# Reading a file back asks for its stored bytes: without it, ImageKit may deliver
# an optimised copy (the dashboard's default quality and format), not the file.
ORIGINAL = parse("orig-true")


def get_default_settings() -> dict[str, Any]:
    """Each option and its value from settings; kwargs and subclass attributes win."""
    return {
        "private_key": getattr(settings, "IMAGEKIT_PRIVATE_KEY", ""),
        "public_key": getattr(settings, "IMAGEKIT_PUBLIC_KEY", ""),
        "url_endpoint": getattr(settings, "IMAGEKIT_URL_ENDPOINT", ""),
        "api_base_url": getattr(settings, "IMAGEKIT_API_BASE_URL", "") or None,
        "folder": getattr(settings, "IMAGEKIT_FOLDER", ""),
        "tags": tuple(getattr(settings, "IMAGEKIT_TAGS", ())),
        "use_unique_file_name": getattr(settings, "IMAGEKIT_USE_UNIQUE_FILE_NAME", False),
        "file_overwrite": getattr(settings, "IMAGEKIT_FILE_OVERWRITE", True),
        "private_files": getattr(settings, "IMAGEKIT_PRIVATE_FILES", False),
        "signed_url_expire": getattr(settings, "IMAGEKIT_SIGNED_URL_EXPIRE", 3600),
        "upload_timeout": getattr(settings, "IMAGEKIT_UPLOAD_TIMEOUT", 60.0),
        "max_retries": getattr(settings, "IMAGEKIT_MAX_RETRIES", 2),
        "upload_concurrency": getattr(settings, "IMAGEKIT_UPLOAD_CONCURRENCY", 4),
    }


# The dotted path settings and the README name (the package re-exports the class).
@deconstructible(path="media_store.storage.imagekit.ImageKitStorage")
class ImageKitStorage(Storage):
    """Stores files on ImageKit; URLs come from the project's URL builder.

    Uploads use deterministic names with ``useUniqueFileName=false`` and
    ``overwriteFile=true``, so an upload the SDK retries after a lost answer
    overwrites the same path instead of storing a second file. Browser uploads
    (``upload_auth``) are the opposite: create-only, under a name the server
    chose, in the direct-upload folder, bound by a V2 token.
    """

    def __init__(self, **kwargs: Any) -> None:
        defaults = get_default_settings()
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown:
            raise ImproperlyConfigured(
                f"ImageKitStorage got unknown option(s): {', '.join(unknown)}. "
                f"Valid options: {', '.join(defaults)}."
            )
        # kwarg > subclass attribute > setting, as in django-storages.
        for option, value in defaults.items():
            if option in kwargs:
                value = kwargs[option]
            elif option in type(self).__dict__ or hasattr(type(self), option):
                value = getattr(type(self), option)
            setattr(self, option, value)
        missing = [o for o in ("private_key", "url_endpoint") if not getattr(self, o)]
        if missing:
            raise ImproperlyConfigured(
                f"ImageKitStorage needs {' and '.join(missing)}: set "
                + " and ".join(f"IMAGEKIT_{o.upper()}" for o in missing)
                + "."
            )
        self.folder = self.folder.strip("/")
        self.url_endpoint = self.url_endpoint.rstrip("/")

    def __repr__(self) -> str:
        # Never show the private key.
        return f"<ImageKitStorage {self.url_endpoint} folder={self.folder!r}>"

    # --- clients, built lazily and never pickled -----------------------------

    @cached_property
    def client(self) -> ImageKit:
        """The SDK client."""
        return api.build_client(
            private_key=self.private_key,
            base_url=self.api_base_url,
            max_retries=self.max_retries,
            timeout=self.upload_timeout,
        )

    @cached_property
    def url_builder(self) -> UrlBuilder:
        return UrlBuilder(self.url_endpoint, private_key=self.private_key)

    @cached_property
    def _http(self) -> httpx.Client:
        """An httpx client for the URL endpoint (reading files back)."""
        return api.build_http(timeout=self.upload_timeout)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for cached in ("client", "url_builder", "_http"):
            state.pop(cached, None)
        return state

    # --- names --------------------------------------------------------------

    def _clean_name(self, name: str) -> str:
        """The one normaliser: forward slashes, no leading "/", no ".." escape."""
        cleaned = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
        if cleaned in ("", ".") or cleaned.startswith("../") or cleaned == "..":
            raise SuspiciousFileOperation(f"Invalid file name: {name!r}")
        return cleaned

    def _remote_path(self, name: str) -> str:
        name = self._clean_name(name)
        return f"/{self.folder}/{name}" if self.folder else f"/{name}"

    def _name_from_path(self, file_path: str) -> str:
        path = file_path.lstrip("/")
        prefix = f"{self.folder}/" if self.folder else ""
        return path.removeprefix(prefix)

    @property
    def _root(self) -> str:
        return f"/{self.folder}/" if self.folder else "/"

    def _is_private(self, name: str) -> bool:
        return self.private_files or name.startswith(PRIVATE_PREFIX)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.file_overwrite:
            # Names come from the app (UUIDs): checking for a clash would cost a
            # network round trip per upload and protects nothing.
            return self._clean_name(name)[:max_length] if max_length else self._clean_name(name)
        return super().get_available_name(self._clean_name(name), max_length)

    # --- browser uploads ------------------------------------------------------

    DIRECT_UPLOAD_FOLDER = "uploads"
    # Seconds a direct-upload token lives; ImageKit refuses more than an hour.
    DIRECT_UPLOAD_EXPIRE = 1800

    @property
    def direct_upload_folder(self) -> str:
        """The remote folder browsers upload into: ``/<folder>/uploads/``."""
        return self._remote_path(self.DIRECT_UPLOAD_FOLDER) + "/"

    @property
    def upload_url_v2(self) -> str:
        """Upload API V2: on the API base URL when one is set (as the SDK does)."""
        if self.api_base_url:
            return self.api_base_url.rstrip("/") + UPLOAD_API_V2_PATH
        return UPLOAD_API_V2_URL

    def upload_auth(
        self, *, max_bytes: int, file_name: str = "", content_type: str = ""
    ) -> DirectUploadAuth:
        """A single-use upload API V2 token for one browser upload (no network).

        The token binds a name the server chooses (a new UUID; ``file_name`` or
        ``content_type`` only pick the extension), the direct-upload folder,
        ``useUniqueFileName=false`` and ``overwriteFile=false`` (so it can create
        one new file and never replace one), and checks that the file is at most
        ``max_bytes`` and an image. Raises ValueError for a type outside
        DIRECT_UPLOAD_TYPES and ImproperlyConfigured without a public key.
        """
        if not self.public_key:
            raise ImproperlyConfigured(
                "Direct uploads need the ImageKit public key: set IMAGEKIT_PUBLIC_KEY."
            )
        return make_upload_auth(
            folder=self.direct_upload_folder,
            max_bytes=max_bytes,
            file_name=file_name,
            content_type=content_type,
            expires_in=self.DIRECT_UPLOAD_EXPIRE,
            private_key=self.private_key,
            public_key=self.public_key,
            upload_url=self.upload_url_v2,
            url_endpoint=self.url_endpoint,
        )

    def lookup_direct_upload(self, file_id: str) -> Stored:
        """What ImageKit holds under a browser upload's fileId; records nothing.

        Raises FileNotFoundError if the API does not know ``file_id``,
        SuspiciousFileOperation if it lies outside the direct-upload folder, and
        RemoteStorageError if ImageKit cannot answer.
        """
        if not file_id.strip():
            raise FileNotFoundError("An empty fileId names no file.")
        remote = api.get_file(self.client, file_id)
        expected = self.direct_upload_folder
        if not remote.file_path.startswith(expected):
            raise SuspiciousFileOperation(
                f"File {file_id!r} is not in the direct-upload folder {expected}."
            )
        return records.from_answer(remote, self._clean_name(self._name_from_path(remote.file_path)))

    def record(self, stored: Stored) -> None:
        """Record what ImageKit holds under ``stored.name`` (replacing any record)."""
        self._record(stored)

    def discard(self, stored: Stored) -> None:
        """Delete a file put or looked up here by its fileId, with any record; log, never raise."""
        from media_store.models import StoredFile

        self._delete_remote(stored.file_id, stored.name)
        StoredFile.objects.filter(name=stored.name, file_id=stored.file_id).delete()

    # --- saving -------------------------------------------------------------

    def _save(self, name: str, content: File) -> str:
        uploaded = self.put(name, content)
        self._record(uploaded)
        return uploaded.name

    def save_many(self, items: Iterable[tuple[str, File]]) -> list[str]:
        """Upload several files concurrently; record them; return their names.

        If any upload fails, or recording them fails, every file uploaded here
        is deleted again (and its record dropped) and the error is raised.
        """
        pairs = [(self.get_available_name(name), content) for name, content in items]
        with ThreadPoolExecutor(
            max_workers=max(1, min(len(pairs), self.upload_concurrency))
        ) as pool:
            futures = [pool.submit(self.put, name, content) for name, content in pairs]
        results, errors = [], []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as e:
                errors.append(e)
        try:
            if errors:
                raise errors[0]
            with transaction.atomic():
                for uploaded in results:
                    self._record(uploaded)
        except BaseException:
            for uploaded in results:
                self._delete_remote(uploaded.file_id, uploaded.name)
            raise
        return [uploaded.name for uploaded in results]

    def put(self, name: str, content: File) -> Stored:
        """Upload ``content`` to the remote path of ``name``, replacing any file there.

        Network only, no database: ``record`` the answer. Raises RemoteStorageError.
        """
        name = self._clean_name(name)
        remote_path = self._remote_path(name)
        answer = api.upload(
            self.client,
            name,
            content,
            remote_path=remote_path,
            mime=records.guess_mime(remote_path),
            use_unique_file_name=self.use_unique_file_name,
            is_private=self._is_private(name),
            tags=self.tags,
        )
        folder = posixpath.dirname(remote_path)
        return records.from_answer(
            answer, self._name_from_path(answer.file_path or f"{folder}/{answer.name}")
        )

    def _record(self, stored: Stored) -> None:
        records.record(stored)

    # --- reading metadata ---------------------------------------------------

    def _stored(self, name: str):
        """The StoredFile row for ``name``, backfilled from the API if missing; or None."""
        from media_store.models import StoredFile

        name = self._clean_name(name)
        row = StoredFile.objects.filter(name=name).first()
        if row is not None:
            return None if row.delete_failed_at else row
        remote = api.find_file(self.client, self._remote_path(name), name)
        if remote is None:
            return None
        return records.record(records.from_answer(remote, name))

    def exists(self, name: str) -> bool:
        return self._stored(name) is not None

    def size(self, name: str) -> int:
        row = self._stored(name)
        if row is None:
            raise FileNotFoundError(f"No file named {name!r} on ImageKit.")
        return row.size

    def dimensions(self, name: str) -> tuple[int | None, int | None]:
        """(width, height) as ImageKit measured them at upload."""
        row = self._stored(name)
        if row is None:
            raise FileNotFoundError(f"No file named {name!r} on ImageKit.")
        return row.width, row.height

    def get_created_time(self, name: str) -> datetime:
        row = self._stored(name)
        if row is None:
            raise FileNotFoundError(f"No file named {name!r} on ImageKit.")
        return row.uploaded_at

    get_modified_time = get_created_time

    # --- URLs: no I/O ---------------------------------------------------------

    def url(self, name: str | None) -> str:
        return self.transformed_url(name or "")

    def transformed_url(
        self,
        name: str,
        transformation: Transformation | None = None,
        *,
        private: bool | None = None,
    ) -> str:
        """The CDN URL of ``name``; signed with an expiry for private files.

        Presets reach ImageKit as their steps unless its dashboard has them
        (``media_store.presets.for_imagekit``).
        """
        if not name:
            return ""
        signed = self._is_private(name) if private is None else private
        return self.url_builder.build(
            self._remote_path(name),
            for_imagekit(transformation),
            expires_in=self.signed_url_expire if signed else None,
        )

    # --- reading bytes and listing -----------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("ImageKitStorage opens files for reading only; save() writes.")
        return api.download(self._http, self.transformed_url(name, ORIGINAL), name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        folder = self._remote_path(path).rstrip("/") + "/" if path.strip("/") else self._root
        directories, files = [], []
        for item in api.list_folder(self.client, folder):
            if getattr(item, "type", None) == "folder":
                directories.append(item.name)
            else:
                files.append(item.name)
        return directories, files

    def iter_files(self) -> Iterator[Listed]:
        """Every stored file under the folder, as the API lists them."""
        for item in api.walk(self.client, self._root):
            yield Listed(self._name_from_path(item.file_path), item.created_at, int(item.size or 0))

    def recorded_names(self) -> set[str]:
        """Names recorded as stored, pending deletions left out (``media_gc`` counts them)."""
        from media_store.models import StoredFile

        return set(
            StoredFile.objects.filter(delete_failed_at__isnull=True).values_list("name", flat=True)
        )

    # --- deleting -------------------------------------------------------------

    def delete(self, name: str) -> None:
        """Delete by the recorded fileId. A file already gone counts as deleted.

        Any other failure marks the record for ``media_gc`` to retry and is raised.
        """
        from media_store.models import StoredFile

        name = self._clean_name(name)
        row = StoredFile.objects.filter(name=name).first()
        file_id = row.file_id if row else None
        if file_id is None:
            remote = api.find_file(self.client, self._remote_path(name), name)
            if remote is None:
                return
            file_id = remote.file_id
        try:
            self._delete_remote(file_id, name, raise_errors=True)
        except RemoteStorageError as e:
            StoredFile.objects.update_or_create(
                name=name,
                defaults={
                    "file_id": file_id,
                    "size": row.size if row else 0,
                    "uploaded_at": row.uploaded_at if row else timezone.now(),
                    "delete_failed_at": timezone.now(),
                    "last_error": str(e),
                },
            )
            raise
        StoredFile.objects.filter(name=name).delete()

    def _delete_remote(self, file_id: str, name: str, *, raise_errors: bool = False) -> None:
        """Delete ``file_id``; a file already gone counts as deleted.

        Raises RemoteStorageError with ``raise_errors``, else logs it.
        """
        try:
            api.delete_file(self.client, file_id, name)
        except RemoteStorageError as e:
            if raise_errors:
                raise
            logger.error("Could not delete %s (fileId %s) from ImageKit: %s", name, file_id, e)
