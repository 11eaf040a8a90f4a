"""Every call to ImageKit: the SDK's API calls, with their errors mapped, and CDN reads.

Each call goes through ``translated``: an error status, a dropped connection, or a
2xx answer that is not what the API documents (not JSON, or JSON of the wrong
shape) becomes RemoteStorageError with a message to show, never a bare SDK or
parsing error, and never the key. Retries are the SDK's (``max_retries``).
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File

from media_store.exceptions import RemoteStorageError

try:
    import httpx
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
except ImportError as e:  # pragma: no cover - a hard dependency
    raise ImproperlyConfigured(
        "ImageKitStorage needs the ImageKit SDK: pip install 'imagekitio>=5,<6'"
    ) from e

# Uploads and reads above this are spooled to disk.
SPOOL_MAX_MEMORY = 2 * 1024 * 1024
LIST_PAGE = 1000

# Statuses the SDK itself retries (protocol notes, section 4): worth trying again later.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


def build_client(
    *, private_key: str, base_url: str | None, max_retries: int, timeout: float
) -> ImageKit:
    kwargs: dict[str, Any] = {
        "private_key": private_key,
        "max_retries": max_retries,
        "timeout": httpx.Timeout(timeout, connect=5.0),
    }
    if base_url:
        kwargs["base_url"] = base_url
    return ImageKit(**kwargs)


def build_http(*, timeout: float) -> httpx.Client:
    """A client for the URL endpoint (files are read back through it)."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))


# --- API calls ----------------------------------------------------------------------


def upload(
    client: ImageKit,
    name: str,
    content: File,
    *,
    remote_path: str,
    mime: str,
    use_unique_file_name: bool,
    is_private: bool,
    tags: tuple[str, ...],
) -> Any:
    """Upload ``content`` to ``remote_path``, replacing any file there; ImageKit's answer."""
    folder, filename = posixpath.split(remote_path)
    with _rereadable(content) as stream, translated("upload", name):
        return _checked_file(
            client.files.upload(
                file=(filename, stream, mime),
                file_name=filename,
                folder=folder or "/",
                use_unique_file_name=use_unique_file_name,
                overwrite_file=True,
                is_private_file=is_private,
                tags=list(tags) if tags else omit,
            ),
            need_path=False,
        )


def get_file(client: ImageKit, file_id: str) -> Any:
    """The file details of ``file_id``; FileNotFoundError if the API does not know it."""
    try:
        with translated("look up", file_id):
            return _checked_file(client.files.get(file_id))
    except RemoteStorageError as e:
        if isinstance(e.__cause__, NotFoundError):
            raise FileNotFoundError(f"ImageKit has no file {file_id!r}.") from e
        raise


def find_file(client: ImageKit, remote_path: str, name: str) -> Any | None:
    """The file at ``remote_path`` (a list call by folder and exact name), or None."""
    folder, filename = posixpath.split(remote_path)
    with translated("look up", name):
        items = _checked_listing(
            client.assets.list(
                path=f"{folder}/" if folder != "/" else "/",
                search_query=f'name = "{filename}"',
                limit=1,
            )
        )
    for item in items:
        if getattr(item, "type", "file") == "file" and item.file_path == remote_path:
            return item
    return None


def list_folder(client: ImageKit, folder: str) -> Iterator[Any]:
    """The folders and files directly in ``folder`` (``/a/b/``), page by page."""
    skip = 0
    while True:
        with translated("list", folder):
            page = _checked_listing(
                client.assets.list(path=folder, type="all", skip=skip, limit=LIST_PAGE)
            )
        yield from page
        if len(page) < LIST_PAGE:
            return
        skip += LIST_PAGE


def walk(client: ImageKit, root: str) -> Iterator[Any]:
    """Every file under ``root`` (``/a/``), its subfolders included, each once."""
    seen: set[str] = set()
    folders = [root]
    while folders:
        for item in list_folder(client, folders.pop()):
            if getattr(item, "type", None) == "folder":
                folders.append(item.folder_path.rstrip("/") + "/")
            elif item.file_id not in seen:
                seen.add(item.file_id)
                yield item


def delete_file(client: ImageKit, file_id: str, name: str) -> None:
    """Delete ``file_id``; a file already gone counts as deleted."""
    with translated("delete", name):
        try:
            answer = client.files.with_raw_response.delete(file_id)
        except NotFoundError:
            return
        _check_delete_answer(answer.http_response)


# --- the URL endpoint -----------------------------------------------------------------


def download(http: httpx.Client, url: str, name: str) -> File:
    """The bytes served at ``url``, in a spooled file the caller closes.

    FileNotFoundError on 404; RemoteStorageError for any other failure.
    """
    # Returned open to the caller, who closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115
    try:
        with http.stream("GET", url) as response:
            if response.status_code == 404:
                raise FileNotFoundError(f"No file named {name!r} on ImageKit.")
            if response.status_code >= 400:
                status = response.status_code
                raise RemoteStorageError(
                    f"ImageKit's URL endpoint could not serve {name!r} ({status})"
                    + ("; try again later." if retryable_status(status) else "."),
                    retryable=retryable_status(status),
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


# --- errors -----------------------------------------------------------------------------


class MalformedAnswerError(ValueError):
    """ImageKit answered 2xx with something its API does not document."""


@contextmanager
def translated(action: str, name: str) -> Iterator[None]:
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


def retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUSES


def _malformed(action: str, name: str) -> RemoteStorageError:
    return RemoteStorageError(
        f"ImageKit gave an answer its API does not document when asked to {action} {name!r}; "
        "try again later."
    )


def _status_error(action: str, name: str, error: APIStatusError) -> RemoteStorageError:
    status = error.status_code
    if status in (401, 403):
        return RemoteStorageError(
            f"ImageKit refused the API key when asked to {action} {name!r} ({_describe(error)}); "
            "check the private key (IMAGEKIT_PRIVATE_KEY).",
            retryable=False,
        )
    if retryable_status(status):
        return RemoteStorageError(
            f"ImageKit could not {action} {name!r} ({_describe(error)}); try again later."
        )
    return RemoteStorageError(
        f"ImageKit refused to {action} {name!r} ({_describe(error)}).", retryable=False
    )


def _describe(error: APIError) -> str:
    """The API's message, never the request (which carries the key in its headers)."""
    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return f"{status or type(error).__name__}: {message or error.__class__.__name__}"


# --- checking answers -------------------------------------------------------------------


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
