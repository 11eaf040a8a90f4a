"""ImageKitStorage: a Django Storage on the official ``imagekitio`` SDK.

Names are paths relative to the configured folder (``images/ab12.jpg`` is
``/<folder>/images/ab12.jpg`` on ImageKit). What ImageKit answered at upload
(fileId, size, dimensions, type) is recorded in ``media_store.StoredFile``,
so ``url()`` needs nothing and ``exists()``/``size()`` need no network; a
name missing from that table is looked up through the API.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

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
from media_store.grammar import Transformation
from media_store.urlbuilder import UrlBuilder

try:
    import httpx
    from imagekitio import APIError, ImageKit, NotFoundError, omit
except ImportError as e:  # pragma: no cover - the SDK is a hard dependency
    raise ImproperlyConfigured(
        "ImageKitStorage needs the ImageKit SDK: pip install 'imagekitio>=5,<6'"
    ) from e

logger = logging.getLogger(__name__)

# Uploads above this are spooled to disk when the source cannot be re-read.
SPOOL_MAX_MEMORY = 2 * 1024 * 1024
LIST_PAGE = 1000


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


@dataclass(frozen=True, slots=True)
class Uploaded:
    """What one upload stored, before it is recorded."""

    name: str
    file_id: str
    size: int
    width: int | None
    height: int | None
    mime: str
    is_private: bool


@deconstructible
class ImageKitStorage(Storage):
    """Stores files on ImageKit; URLs come from the project's URL builder.

    Uploads use deterministic names with ``useUniqueFileName=false`` and
    ``overwriteFile=true``, so an upload the SDK retries after a lost answer
    overwrites the same path instead of storing a second file.
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
        kwargs: dict[str, Any] = {
            "private_key": self.private_key,
            "max_retries": self.max_retries,
            "timeout": httpx.Timeout(self.upload_timeout, connect=5.0),
        }
        if self.api_base_url:
            kwargs["base_url"] = self.api_base_url
        return ImageKit(**kwargs)

    @cached_property
    def url_builder(self) -> UrlBuilder:
        return UrlBuilder(self.url_endpoint, private_key=self.private_key)

    @cached_property
    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(self.upload_timeout, connect=5.0))

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

    def upload_auth(self) -> dict[str, Any]:
        """Parameters for one browser upload straight to ImageKit (valid 30 minutes).

        The SDK signs a fresh token; the private key never leaves the server.
        """
        params = self.client.helper.get_authentication_parameters()
        return {
            **params,
            "public_key": self.public_key,
            "url_endpoint": self.url_endpoint,
            "folder": self._remote_path(self.DIRECT_UPLOAD_FOLDER) + "/",
        }

    def adopt(self, file_id: str) -> str:
        """Record a file uploaded straight to ImageKit; return its storage name.

        Raises FileNotFoundError if the API does not know ``file_id``, and
        SuspiciousFileOperation if it lies outside the direct-upload folder.
        """
        try:
            with _translated("look up", file_id):
                remote = self.client.files.get(file_id)
        except RemoteStorageError as e:
            if isinstance(e.__cause__, NotFoundError):
                raise FileNotFoundError(f"ImageKit has no file {file_id!r}.") from e
            raise
        expected = self._remote_path(self.DIRECT_UPLOAD_FOLDER) + "/"
        if not (remote.file_path or "").startswith(expected):
            raise SuspiciousFileOperation(
                f"File {file_id!r} is not in the direct-upload folder {expected}."
            )
        name = self._name_from_path(remote.file_path)
        self._record(
            Uploaded(
                name=name,
                file_id=remote.file_id,
                size=int(remote.size or 0),
                width=_int_or_none(remote.width),
                height=_int_or_none(remote.height),
                mime=remote.mime or _guess_mime(name),
                is_private=bool(remote.is_private_file),
            )
        )
        return name

    # --- saving -------------------------------------------------------------

    def _save(self, name: str, content: File) -> str:
        uploaded = self._upload(name, content)
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
            futures = [pool.submit(self._upload, name, content) for name, content in pairs]
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

    def _upload(self, name: str, content: File) -> Uploaded:
        """Upload ``content`` to the remote path of ``name``; network only, no DB."""
        name = self._clean_name(name)
        folder, filename = posixpath.split(self._remote_path(name))
        with _rereadable(content) as stream, _translated("upload", name):
            response = self.client.files.upload(
                file=(filename, stream, _guess_mime(filename)),
                file_name=filename,
                folder=folder or "/",
                use_unique_file_name=self.use_unique_file_name,
                overwrite_file=True,
                is_private_file=self._is_private(name),
                tags=list(self.tags) if self.tags else omit,
            )
        stored = self._name_from_path(response.file_path or f"{folder}/{response.name}")
        return Uploaded(
            name=stored,
            file_id=response.file_id,
            size=int(response.size or 0),
            width=_int_or_none(response.width),
            height=_int_or_none(response.height),
            mime=_guess_mime(stored),
            is_private=bool(response.is_private_file),
        )

    def _record(self, uploaded: Uploaded) -> None:
        from media_store.models import StoredFile

        StoredFile.objects.update_or_create(
            name=uploaded.name,
            defaults={
                "file_id": uploaded.file_id,
                "size": uploaded.size,
                "width": uploaded.width,
                "height": uploaded.height,
                "mime": uploaded.mime,
                "is_private": uploaded.is_private,
                "uploaded_at": timezone.now(),
                "delete_failed_at": None,
                "last_error": "",
            },
        )

    # --- reading metadata ---------------------------------------------------

    def _stored(self, name: str):
        """The StoredFile row for ``name``, backfilled from the API if missing; or None."""
        from media_store.models import StoredFile

        name = self._clean_name(name)
        row = StoredFile.objects.filter(name=name).first()
        if row is not None:
            return None if row.delete_failed_at else row
        remote = self._find_remote(name)
        if remote is None:
            return None
        return StoredFile.objects.update_or_create(
            name=name,
            defaults={
                "file_id": remote.file_id,
                "size": int(remote.size or 0),
                "width": _int_or_none(remote.width),
                "height": _int_or_none(remote.height),
                "mime": remote.mime or _guess_mime(name),
                "is_private": bool(remote.is_private_file),
                "uploaded_at": remote.created_at or timezone.now(),
            },
        )[0]

    def _find_remote(self, name: str):
        """The API's File for ``name`` (a list call by folder and exact name), or None."""
        folder, filename = posixpath.split(self._remote_path(name))
        items = self.client.assets.list(
            path=f"{folder}/" if folder != "/" else "/",
            search_query=f'name = "{filename}"',
            limit=1,
        )
        for item in items:
            if getattr(item, "type", "file") == "file" and item.file_path == self._remote_path(
                name
            ):
                return item
        return None

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
        """The CDN URL of ``name``; signed with an expiry for private files."""
        if not name:
            return ""
        signed = self._is_private(name) if private is None else private
        return self.url_builder.build(
            self._remote_path(name),
            transformation,
            expires_in=self.signed_url_expire if signed else None,
        )

    # --- reading bytes --------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("ImageKitStorage opens files for reading only; save() writes.")
        url = self.transformed_url(name)
        # Returned open to the caller, who closes it.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code == 404:
                    raise FileNotFoundError(f"No file named {name!r} on ImageKit.")
                response.raise_for_status()
                for chunk in response.iter_bytes(64 * 1024):
                    spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return File(spool, name=name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        folder = (
            self._remote_path(path).rstrip("/") + "/"
            if path.strip("/")
            else (f"/{self.folder}/" if self.folder else "/")
        )
        directories, files = [], []
        skip = 0
        while True:
            page = self.client.assets.list(path=folder, type="all", skip=skip, limit=LIST_PAGE)
            for item in page:
                if getattr(item, "type", None) == "folder":
                    directories.append(item.name)
                else:
                    files.append(item.name)
            if len(page) < LIST_PAGE:
                return directories, files
            skip += LIST_PAGE

    def iter_files(self) -> Iterator[tuple[str, datetime | None]]:
        """(name, upload time) of every stored file, as the API lists them."""
        for item in self.iter_remote_files():
            yield self._name_from_path(item.file_path), item.created_at

    def iter_remote_files(self) -> Iterator[Any]:
        """Every file under the configured folder, walking its subfolders."""
        seen: set[str] = set()
        folders = [f"/{self.folder}/" if self.folder else "/"]
        while folders:
            folder = folders.pop()
            skip = 0
            while True:
                with _translated("list", folder):
                    page = self.client.assets.list(
                        path=folder, type="all", skip=skip, limit=LIST_PAGE
                    )
                for item in page:
                    if getattr(item, "type", None) == "folder":
                        folders.append(item.folder_path.rstrip("/") + "/")
                    elif item.file_id not in seen:
                        seen.add(item.file_id)
                        yield item
                if len(page) < LIST_PAGE:
                    break
                skip += LIST_PAGE

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
            remote = self._find_remote(name)
            if remote is None:
                return
            file_id = remote.file_id
        try:
            self._delete_remote(file_id, name, raise_errors=True)
        except APIError as e:
            StoredFile.objects.update_or_create(
                name=name,
                defaults={
                    "file_id": file_id,
                    "size": row.size if row else 0,
                    "uploaded_at": row.uploaded_at if row else timezone.now(),
                    "delete_failed_at": timezone.now(),
                    "last_error": _describe(e),
                },
            )
            raise
        StoredFile.objects.filter(name=name).delete()

    def _delete_remote(self, file_id: str, name: str, *, raise_errors: bool = False) -> None:
        try:
            self.client.files.delete(file_id)
        except NotFoundError:
            return
        except APIError as e:
            if raise_errors:
                raise
            logger.error(
                "Could not delete %s (fileId %s) from ImageKit: %s", name, file_id, _describe(e)
            )


class _rereadable:
    """Give the SDK a stream it can rewind, without reading it into memory.

    The SDK (httpx) seeks to 0 before each attempt, so a seekable file is sent
    whole on a retry. A non-seekable stream would go out empty on a retry, so
    it is first copied to a spooled temporary file.
    """

    def __init__(self, content: File) -> None:
        self.content = content
        self.spool: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        raw = getattr(self.content, "file", self.content)
        seekable = getattr(raw, "seekable", lambda: False)()
        if seekable:
            raw.seek(0)
            return raw
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
        shutil.copyfileobj(self.content, self.spool, 64 * 1024)
        self.spool.seek(0)
        return self.spool

    def __exit__(self, *exc: object) -> None:
        if self.spool is not None:
            self.spool.close()


@contextmanager
def _translated(action: str, name: str) -> Iterator[None]:
    """Turn SDK errors into RemoteStorageError with a message a client can read."""
    try:
        yield
    except APIError as e:
        raise RemoteStorageError(
            f"ImageKit could not {action} {name!r} ({_describe(e)}); try again later."
        ) from e


def _guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def _describe(error: APIError) -> str:
    """The API's message, never the request (which carries the key in its headers)."""
    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return f"{status or type(error).__name__}: {message or error.__class__.__name__}"
