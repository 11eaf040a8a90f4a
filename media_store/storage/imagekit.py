"""ImageKitStorage: a Django Storage on the official ``imagekitio`` SDK.

Names are paths relative to the configured folder (``images/ab12.jpg`` is
``/<folder>/images/ab12.jpg`` on ImageKit). What ImageKit answered at upload
(fileId, size, dimensions, type) is recorded in ``media_store.StoredFile``,
so ``url()`` needs nothing and ``exists()``/``size()`` need no network; a
name missing from that table is looked up through the API.

Every SDK call goes through ``_translated``: an error status, a dropped
connection, or a 2xx answer that is not what the API documents (not JSON, or
JSON of the wrong shape) becomes RemoteStorageError, never a bare SDK or
parsing error.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import posixpath
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from media_store.conf import PRIVATE_PREFIX, media_store_settings
from media_store.exceptions import RemoteStorageError
from media_store.grammar import Transformation
from media_store.urlbuilder import UrlBuilder

try:
    import httpx
    import jwt
    import pydantic
    from imagekitio import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        ImageKit,
        NotFoundError,
        omit,
    )
except ImportError as e:  # pragma: no cover - both are hard dependencies
    raise ImproperlyConfigured(
        "ImageKitStorage needs the ImageKit SDK and PyJWT: "
        "pip install 'imagekitio>=5,<6' 'PyJWT>=2.8,<3'"
    ) from e

logger = logging.getLogger(__name__)

# Uploads above this are spooled to disk when the source cannot be re-read.
SPOOL_MAX_MEMORY = 2 * 1024 * 1024
LIST_PAGE = 1000

# What an upload's record holds besides its name; an upload to a recorded name replaces them.
RECORDED_FIELDS = (
    "file_id",
    "size",
    "width",
    "height",
    "mime",
    "is_private",
    "uploaded_at",
    "delete_failed_at",
    "last_error",
)

# Statuses the SDK itself retries (protocol notes, section 4): worth trying again later.
RETRYABLE_STATUSES = frozenset({408, 409, 429})

# --- Direct (browser) uploads: ImageKit's upload API V2 ------------------------------
#
# The browser posts to the V2 endpoint with a JWT the server signed; ImageKit refuses
# the upload unless the form carries exactly the fields the token's payload lists.
# VERIFIED, with sources:
# - [DOCS] imagekitio/docs-keep-a-changelog, api-reference/upload-file-api/
#   secure-client-side-file-upload.md: the token is a JWT; header alg HS256, typ JWT,
#   kid = the account's public key; signed with HMAC-SHA256 and the private key; the
#   payload holds every upload parameter except `file` and `token`, values as strings
#   ("useUniqueFileName": "false"); the request must send the same set of parameters
#   with the same values or it fails; the example signs with jsonwebtoken's
#   `expiresIn` (which writes `iat` and `exp = iat + expiresIn`), "less than one hour";
#   a token that was used before is refused, even if that request failed.
# - [SPEC] imagekit-developer/sdk-generation, openapi/v1.0.0.yaml, POST
#   /api/v2/files/upload on https://upload.imagekit.io: multipart/form-data; 400s
#   "Your request is missing token parameter.", "... contains expired token.",
#   "... has invalid token.", "... contains invalid payload. It does not match with
#   the payload used to generate token.", "... failed 'checks' validation.".
# - [SDK] imagekitio 5.11, resources/beta/v2/files.py: the same path on base_url
#   when base_url is overridden (the local server), else the upload host.
# - [DOCS] imagekit.io/docs upload-file#upload-api-checks: `"file.size"` takes
#   =, <, <=, >, >= with a number of bytes or "1mb"; `"file.mime"` takes IN [...];
#   terms join with AND.
# UNVERIFIED: whether ImageKit requires `iat` (jsonwebtoken always writes it, so do
# we); its clock-skew tolerance; whether a `publicKey` form field is tolerated (we
# tell browsers to send none: the kid carries it); whether "mb" in checks means
# 10^6 or 2^20 bytes (we write plain bytes).
UPLOAD_API_V2_URL = "https://upload.imagekit.io/api/v2/files/upload"
UPLOAD_API_V2_PATH = "/api/v2/files/upload"
# Extension of the server-chosen name → the MIME type the upload's checks allow.
DIRECT_UPLOAD_TYPES: Mapping[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
_EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg"}
_TYPE_ALIASES = {"image/jpg": "jpg", "image/pjpeg": "jpg"}


def direct_upload_extension(file_name: str = "", content_type: str = "") -> str:
    """The extension of a direct upload's server-chosen name.

    Taken from the client's file name, else its content type; ``jpg`` when it
    gives neither. Raises ValueError for anything outside DIRECT_UPLOAD_TYPES.
    """
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower().lstrip(".")
    if suffix:
        extension = _EXTENSION_ALIASES.get(suffix, suffix)
    elif content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        by_type = {value: key for key, value in DIRECT_UPLOAD_TYPES.items()}
        extension = _TYPE_ALIASES.get(mime) or by_type.get(mime, mime)
    else:
        return "jpg"
    if extension not in DIRECT_UPLOAD_TYPES:
        raise ValueError(
            f"{(suffix or content_type)!r} is not an accepted image type; upload JPEG, PNG, "
            "WebP, GIF or AVIF."
        )
    return extension


def sign_upload_token(
    fields: Mapping[str, str],
    *,
    private_key: str,
    public_key: str,
    issued_at: int,
    expires_at: int,
) -> str:
    """The upload API V2 token binding ``fields`` (see the notes above)."""
    with warnings.catch_warnings():
        # ImageKit chooses the private key, and with it the HMAC key's length; PyJWT
        # >= 2.10 warns when it is below 32 bytes (test keys are).
        warnings.filterwarnings("ignore", message=r"The HMAC key is \d+ bytes long")
        return jwt.encode(
            {**fields, "iat": issued_at, "exp": expires_at},
            private_key,
            algorithm="HS256",
            headers={"kid": public_key, "typ": "JWT"},
        )


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
        # One lifetime for both storages' signed URLs.
        "signed_url_expire": media_store_settings.get("SIGNED_URL_EXPIRE"),
        "upload_timeout": getattr(settings, "IMAGEKIT_UPLOAD_TIMEOUT", 60.0),
        "max_retries": getattr(settings, "IMAGEKIT_MAX_RETRIES", 2),
        "upload_concurrency": getattr(settings, "IMAGEKIT_UPLOAD_CONCURRENCY", 4),
    }


@dataclass(frozen=True, slots=True)
class DirectUploadAuth:
    """What a browser needs for one upload straight to ImageKit's upload API V2.

    ``fields`` are the form fields the token binds, exactly as they must be sent;
    ``form_fields`` adds the token: the browser posts those text parts and the
    file (part ``file``) to ``upload_url``, and nothing else.
    """

    upload_url: str
    token: str
    expire: int
    public_key: str
    url_endpoint: str
    fields: Mapping[str, str]

    @property
    def form_fields(self) -> dict[str, str]:
        return {**self.fields, "token": self.token}


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
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
        extension = direct_upload_extension(file_name, content_type)
        types = ", ".join(f'"{mime}"' for mime in dict.fromkeys(DIRECT_UPLOAD_TYPES.values()))
        fields = {
            "fileName": f"{uuid.uuid4().hex}.{extension}",
            "folder": self.direct_upload_folder,
            "useUniqueFileName": "false",
            "overwriteFile": "false",
            "checks": f'"file.size" <= {int(max_bytes)} AND "file.mime" IN [{types}]',
        }
        issued_at = int(time.time())
        expires_at = issued_at + self.DIRECT_UPLOAD_EXPIRE
        token = sign_upload_token(
            fields,
            private_key=self.private_key,
            public_key=self.public_key,
            issued_at=issued_at,
            expires_at=expires_at,
        )
        return DirectUploadAuth(
            upload_url=self.upload_url_v2,
            token=token,
            expire=expires_at,
            public_key=self.public_key,
            url_endpoint=self.url_endpoint,
            fields=fields,
        )

    def lookup_direct_upload(self, file_id: str) -> Uploaded:
        """What ImageKit holds under a browser upload's fileId; records nothing.

        Raises FileNotFoundError if the API does not know ``file_id``,
        SuspiciousFileOperation if it lies outside the direct-upload folder, and
        RemoteStorageError if ImageKit cannot answer.
        """
        if not file_id.strip():
            raise FileNotFoundError("An empty fileId names no file.")
        try:
            with _translated("look up", file_id):
                remote = _checked_file(self.client.files.get(file_id))
        except RemoteStorageError as e:
            if isinstance(e.__cause__, NotFoundError):
                raise FileNotFoundError(f"ImageKit has no file {file_id!r}.") from e
            raise
        expected = self.direct_upload_folder
        if not remote.file_path.startswith(expected):
            raise SuspiciousFileOperation(
                f"File {file_id!r} is not in the direct-upload folder {expected}."
            )
        name = self._clean_name(self._name_from_path(remote.file_path))
        return Uploaded(
            name=name,
            file_id=remote.file_id,
            size=int(remote.size or 0),
            width=_int_or_none(remote.width),
            height=_int_or_none(remote.height),
            mime=remote.mime if isinstance(remote.mime, str) and remote.mime else _guess_mime(name),
            is_private=bool(remote.is_private_file),
        )

    def adopt(self, file_id: str) -> str:
        """Record a file uploaded straight to ImageKit; return its storage name.

        Raises as ``lookup_direct_upload`` does.
        """
        uploaded = self.lookup_direct_upload(file_id)
        self.record(uploaded)
        return uploaded.name

    def record(self, uploaded: Uploaded) -> None:
        """Record what ImageKit holds under ``uploaded.name`` (replacing any record)."""
        self._record(uploaded)

    def discard_upload(self, uploaded: Uploaded) -> None:
        """Delete a looked-up upload by its fileId, with any record; log, never raise."""
        from media_store.models import StoredFile

        self._delete_remote(uploaded.file_id, uploaded.name)
        StoredFile.objects.filter(name=uploaded.name, file_id=uploaded.file_id).delete()

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
        if not pairs:
            return []

        def attempt(name: str, content: File) -> Uploaded | Exception:
            try:
                return self._upload(name, content)
            except Exception as e:
                return e

        helpers = min(len(pairs), self.upload_concurrency) - 1
        if helpers < 1:
            outcomes = [attempt(name, content) for name, content in pairs]
        else:
            # The calling thread uploads the first file instead of waiting idle: one
            # thread fewer per upload to start, and to share the GIL with.
            with ThreadPoolExecutor(max_workers=helpers) as pool:
                rest = [pool.submit(attempt, name, content) for name, content in pairs[1:]]
                outcomes = [attempt(*pairs[0])]
            outcomes += [future.result() for future in rest]
        results = [outcome for outcome in outcomes if isinstance(outcome, Uploaded)]
        errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        try:
            if errors:
                raise errors[0]
            self._record(*results)
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
            response = _checked_file(
                self.client.files.upload(
                    file=(filename, stream, _guess_mime(filename)),
                    file_name=filename,
                    folder=folder or "/",
                    use_unique_file_name=self.use_unique_file_name,
                    overwrite_file=True,
                    is_private_file=self._is_private(name),
                    tags=list(self.tags) if self.tags else omit,
                ),
                need_path=False,
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

    def _record(self, *uploads: Uploaded) -> None:
        """Record each upload under its name, replacing any record: one statement for all."""
        from media_store.models import StoredFile

        now = timezone.now()
        StoredFile.objects.bulk_create(
            [
                StoredFile(
                    name=uploaded.name,
                    file_id=uploaded.file_id,
                    size=uploaded.size,
                    width=uploaded.width,
                    height=uploaded.height,
                    mime=uploaded.mime,
                    is_private=uploaded.is_private,
                    uploaded_at=now,
                    delete_failed_at=None,
                    last_error="",
                )
                for uploaded in uploads
            ],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=list(RECORDED_FIELDS),
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
        with _translated("look up", name):
            items = _checked_listing(
                self.client.assets.list(
                    path=f"{folder}/" if folder != "/" else "/",
                    search_query=f'name = "{filename}"',
                    limit=1,
                )
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
                if response.status_code >= 400:
                    status = response.status_code
                    raise RemoteStorageError(
                        f"ImageKit's URL endpoint could not serve {name!r} ({status})"
                        + ("; try again later." if _retryable_status(status) else "."),
                        retryable=_retryable_status(status),
                    )
                for chunk in response.iter_bytes(64 * 1024):
                    spool.write(chunk)
        except httpx.HTTPError as e:
            spool.close()
            raise RemoteStorageError(
                f"ImageKit's URL endpoint could not be reached to read {name!r} "
                f"({type(e).__name__}); try again later."
            ) from e
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
            with _translated("list", folder):
                page = _checked_listing(
                    self.client.assets.list(path=folder, type="all", skip=skip, limit=LIST_PAGE)
                )
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
                    page = _checked_listing(
                        self.client.assets.list(path=folder, type="all", skip=skip, limit=LIST_PAGE)
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
            with _translated("delete", name):
                try:
                    answer = self.client.files.with_raw_response.delete(file_id)
                except NotFoundError:
                    return
                _check_delete_answer(answer.http_response)
        except RemoteStorageError as e:
            if raise_errors:
                raise
            logger.error("Could not delete %s (fileId %s) from ImageKit: %s", name, file_id, e)

    def recorded_names(self) -> set[str]:
        """Names recorded as stored, pending deletions left out (``media_gc`` counts them)."""
        from media_store.models import StoredFile

        return set(
            StoredFile.objects.filter(delete_failed_at__isnull=True).values_list("name", flat=True)
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


class MalformedAnswerError(ValueError):
    """ImageKit answered 2xx with something its API does not document."""


@contextmanager
def _translated(action: str, name: str) -> Iterator[None]:
    """Turn what an SDK call can raise into RemoteStorageError, with a message to show.

    "try again later" only for what can pass by retrying: 5xx, 408/409/429, a lost
    connection or timeout, a malformed answer. A refused key (401/403) or request
    (400, 404, other 4xx) says what is wrong instead. Never the key: ``_describe``
    shows the API's message only.
    """
    try:
        yield
    except RemoteStorageError:
        raise
    except APIResponseValidationError as e:
        raise _malformed(action, name) from e
    except APIStatusError as e:
        raise _status_error(action, name, e) from e
    except APIConnectionError as e:
        raise RemoteStorageError(
            f"ImageKit could not be reached to {action} {name!r} ({type(e).__name__}); "
            "try again later."
        ) from e
    except APIError as e:
        raise RemoteStorageError(
            f"ImageKit could not {action} {name!r} ({_describe(e)}); try again later."
        ) from e
    except (json.JSONDecodeError, pydantic.ValidationError, MalformedAnswerError) as e:
        # The SDK parses a 2xx body before we see it: invalid JSON raises
        # JSONDecodeError; a body of the wrong shape comes back as the wrong type,
        # or with fields of the wrong types, which the _checked_* helpers catch.
        raise _malformed(action, name) from e
    except httpx.HTTPError as e:
        raise RemoteStorageError(
            f"ImageKit could not be reached to {action} {name!r} ({type(e).__name__}); "
            "try again later."
        ) from e


def _malformed(action: str, name: str) -> RemoteStorageError:
    return RemoteStorageError(
        f"ImageKit gave an answer its API does not document when asked to {action} {name!r}; "
        "try again later."
    )


def _retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUSES


def _status_error(action: str, name: str, error: APIStatusError) -> RemoteStorageError:
    status = error.status_code
    if status in (401, 403):
        return RemoteStorageError(
            f"ImageKit refused the API key when asked to {action} {name!r} ({_describe(error)}); "
            "check the private key (IMAGEKIT_PRIVATE_KEY).",
            retryable=False,
        )
    if _retryable_status(status):
        return RemoteStorageError(
            f"ImageKit could not {action} {name!r} ({_describe(error)}); try again later."
        )
    return RemoteStorageError(
        f"ImageKit refused to {action} {name!r} ({_describe(error)}).", retryable=False
    )


def _checked_file(item: Any, *, need_path: bool = True) -> Any:
    """``item`` if it has what the API documents for a file; else MalformedAnswerError.

    Lenient (default) SDK parsing hands back a str for a non-JSON body and
    unvalidated values for JSON of the wrong shape, so check what we use.
    """
    file_id = getattr(item, "file_id", None)
    file_path = getattr(item, "file_path", None)
    if not isinstance(file_id, str) or not file_id:
        raise MalformedAnswerError("no fileId")
    if need_path and not (isinstance(file_path, str) and file_path.startswith("/")):
        raise MalformedAnswerError("no filePath")
    if not need_path and not isinstance(file_path or getattr(item, "name", None), str):
        raise MalformedAnswerError("neither filePath nor name")
    for field in ("size", "width", "height"):
        value = getattr(item, field, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise MalformedAnswerError(f"{field} is not a number")
    created_at = getattr(item, "created_at", None)
    if created_at is not None and not isinstance(created_at, datetime):
        raise MalformedAnswerError("createdAt is not a date")
    return item


def _checked_listing(page: Any) -> list[Any]:
    """An assets listing: a list of folders (with folderPath) and files."""
    if not isinstance(page, list):
        raise MalformedAnswerError("not a list")
    for item in page:
        if getattr(item, "type", None) == "folder":
            if not isinstance(getattr(item, "folder_path", None), str):
                raise MalformedAnswerError("folder without folderPath")
        else:
            _checked_file(item)
    return page


def _check_delete_answer(response: httpx.Response) -> None:
    """ImageKit documents 204 with no body ([SPEC]; the SDK also takes an empty 200).

    Any body at all is an answer the API does not document: the deletion is then
    treated as failed, and a retry that finds the file gone counts it deleted.
    """
    if response.content.strip():
        raise MalformedAnswerError("delete answered with a body")


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
