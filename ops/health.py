"""``/healthz`` and ``/readyz``, answered before the rest of the middleware.

``/healthz`` (liveness): the process answers; no I/O. ``/readyz`` (readiness):
each dependency answers, and the JSON names the ones that did not (503):

- ``database``: ``SELECT 1`` on every configured database;
- ``storage``: the local media folder takes a file, or ImageKit's API lists one
  file within ``READYZ["STORAGE_TIMEOUT"]`` seconds (no retries);
- ``cache``: a shared cache (Redis) takes and returns a key; local memory is skipped.

The storage's answer is reused for ``READYZ["CACHE_SECONDS"]``, so a probe every
second costs little. Messages are fixed phrases plus an exception class name:
never a URL, path, key or traceback (those go to the log, logger ``ops.health``).

``HealthMiddleware`` goes first in MIDDLEWARE: it never reads the Host header,
so ALLOWED_HOSTS does not refuse a probe sent to the server's address, and no
SSL redirect, session or authentication runs for it.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypedDict

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.storage import Storage, storages
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from appsettings import AppSettings, number_between

logger = logging.getLogger(__name__)

LIVENESS_PATHS = frozenset({"/healthz", "/healthz/"})
READINESS_PATHS = frozenset({"/readyz", "/readyz/"})
OK = "ok"


class ReadyzSettings(TypedDict):
    """Every ``READYZ`` option, with its type."""

    # Seconds ImageKit's API may take to answer the storage check.
    STORAGE_TIMEOUT: float
    # Seconds the storage check's answer is reused.
    CACHE_SECONDS: float


DEFAULTS: ReadyzSettings = {"STORAGE_TIMEOUT": 2.0, "CACHE_SECONDS": 2.0}

readyz_settings: AppSettings[ReadyzSettings] = AppSettings(
    "READYZ",
    DEFAULTS,
    rules={
        "STORAGE_TIMEOUT": number_between(0.01, 60, unit="seconds"),
        "CACHE_SECONDS": number_between(0, 3600, unit="seconds"),
    },
)


def readyz_setting(name: Literal["STORAGE_TIMEOUT", "CACHE_SECONDS"]) -> float:
    """One option of ``settings.READYZ``, e.g. ``readyz_setting("CACHE_SECONDS")``."""
    return readyz_settings.get(name)


class CheckFailed(Exception):
    """A dependency did not answer; the message is safe to show to anyone."""


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in ("GET", "HEAD"):
            if request.path_info in LIVENESS_PATHS:
                return _json({"status": "alive"}, 200)
            if request.path_info in READINESS_PATHS:
                checks = readiness()
                failed = [name for name, result in checks.items() if result != OK]
                if failed:
                    return _json({"status": "unavailable", "failed": failed, "checks": checks}, 503)
                return _json({"status": "ready", "checks": checks}, 200)
        return self.get_response(request)


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    return JsonResponse(body, status=status, headers={"Cache-Control": "no-store"})


def readiness() -> dict[str, str]:
    """Each check's result: "ok" or a short reason."""
    results = {"database": _run("database", check_database)}
    results["storage"] = _storage_result.get(storages["default"])
    if not isinstance(caches["default"], LocMemCache | DummyCache):
        results["cache"] = _run("cache", check_cache)
    return results


def _run(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except CheckFailed as e:
        logger.warning("Readiness check %s failed: %s", name, e, exc_info=e.__cause__ is not None)
        return str(e)
    return OK


def check_database() -> None:
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as e:
            raise CheckFailed(f"the database {alias!r} did not answer ({type(e).__name__})") from e


def check_cache() -> None:
    key = f"readyz:{secrets.token_hex(8)}"
    try:
        cache.set(key, 1, timeout=10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception as e:
        raise CheckFailed(f"the cache did not answer ({type(e).__name__})") from e
    if answered != 1:
        raise CheckFailed("the cache did not keep a value")


def check_storage(storage: Storage) -> None:
    """The local folder takes a file, or ImageKit's API answers a listing of one file."""
    from media_store.storage.imagekit import ImageKitStorage

    if isinstance(storage, ImageKitStorage):
        check_imagekit(storage)
    elif hasattr(storage, "location"):
        check_folder(Path(storage.location))


def check_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as e:
        raise CheckFailed(f"the media folder cannot be written ({type(e).__name__})") from e


def check_imagekit(storage: Any) -> None:
    from imagekitio import APIConnectionError, APIError, APIStatusError

    client = storage.client.with_options(timeout=readyz_setting("STORAGE_TIMEOUT"), max_retries=0)
    try:
        client.assets.list(limit=1)
    except APIStatusError as e:
        raise CheckFailed(f"ImageKit's API answered HTTP {e.status_code}") from e
    except APIConnectionError as e:
        reason = type(e.__cause__ or e).__name__
        raise CheckFailed(f"ImageKit's API did not answer ({reason})") from e
    except (APIError, ValueError) as e:
        raise CheckFailed(f"ImageKit's API gave an unexpected answer ({type(e).__name__})") from e


class _CachedResult:
    """The storage check's result, reused for a moment; one check at a time per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._storage: object | None = None
        self._expires = 0.0
        self._result = OK

    def get(self, storage: Storage) -> str:
        with self._lock:
            if storage is not self._storage or time.monotonic() >= self._expires:
                self._result = _run("storage", lambda: check_storage(storage))
                self._storage = storage
                self._expires = time.monotonic() + readyz_setting("CACHE_SECONDS")
            return self._result

    def clear(self) -> None:
        with self._lock:
            self._storage, self._expires = None, 0.0


_storage_result = _CachedResult()


def clear_cached_results() -> None:
    """Forget the storage check's last result (tests change the storage under it)."""
    _storage_result.clear()
