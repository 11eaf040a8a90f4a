"""The embedded CDN: serve stored files and their ImageKit-style transformations.

Renditions are rendered once and cached on disk under RENDITION_CACHE_DIR,
keyed by the source (name, mtime, size), the canonical chain and the
negotiated format, so a replaced source never serves a stale rendition.
Errors are translated to HTTP here and nowhere else.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import tempfile
from contextlib import suppress
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from media_store.conf import (
    PRIVATE_PREFIX,
    media_store_settings,
    rendition_cache_dir,
    signing_key,
)
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import Transformation, parse
from media_store.presets import expand, only_public_presets
from media_store.rendering import (
    RENDERER_VERSION,
    InvalidSourceError,
    OutputTooLargeError,
    SourceTooLargeError,
    UnsupportedTransformationError,
    negotiate,
    render,
    sniff_content_type,
)
from media_store.signing import SignatureError, SignedTarget, split_target, verify

logger = logging.getLogger(__name__)

# A rendition's URL names its exact bytes (the source's mtime is in the key),
# so clients may keep it for a year without revalidating.
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Originals can be overwritten under the same name; revalidate hourly via ETag.
ORIGINAL_CACHE_CONTROL = "public, max-age=3600"
# Uploaded files are user content: never let a browser run one (HTML, SVG) on our origin.
ORIGINAL_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}


@csrf_exempt
@require_safe
def serve(request: HttpRequest, path: str, chain: str | None = None) -> HttpResponseBase:
    """GET/HEAD ``<path>``, ``tr:<chain>/<path>`` or ``<path>?tr=<chain>``.

    400 for a bad or unsupported chain or an output over MAX_OUTPUT_SIDE, 403
    for a transformation without a valid signature (public presets excepted),
    404 for a missing file or a path outside the storage, 422 for a source over
    MAX_SOURCE_PIXELS or one that is not a readable image.
    """
    query_chain = request.GET.get("tr")
    if chain is not None and query_chain is not None:
        return _plain(400, "Give the transformation either in the path or in ?tr=, not both.")
    try:
        requested = parse(chain if chain is not None else query_chain or "")
        transformation = expand(requested)
        negotiated = None
        if transformation and not _wants_original(transformation):
            negotiated = negotiate(transformation, _accept(request))
    except (InvalidTransformationError, UnsupportedTransformationError) as e:
        return _plain(400, _describe(e, e.key))
    # normpath: "a/../private/x" must not slip past the prefix check.
    private = posixpath.normpath(path).startswith(PRIVATE_PREFIX)
    if private or (negotiated is not None and not only_public_presets(requested)):
        # Rendering costs CPU: only URLs this server signed (or public presets) get it.
        try:
            verify(_signed_target(request), signing_key())
        except SignatureError as e:
            return _plain(403, f"{e} Use the URL the API gave you.")

    source = _source_path(path)
    if source is None:
        return _plain(404, "Not found.")
    if negotiated is None:
        return _serve_original(request, source)
    return _serve_rendition(
        request,
        source,
        transformation,
        negotiated.variant,
        vary_on_accept=negotiated.vary_on_accept,
    )


def _signed_target(request: HttpRequest) -> SignedTarget:
    # The signature covers the URL after MEDIA_URL, as the storage's builder made it.
    path = request.path.removeprefix(urlsplit(settings.MEDIA_URL).path)
    return split_target(path, request.META.get("QUERY_STRING", ""))


def _wants_original(transformation: Transformation) -> bool:
    # ImageKit: ``orig-true`` serves the stored file and ignores every other parameter.
    return any(step.get("orig") is True for step in transformation.steps)


def _accept(request: HttpRequest) -> str:
    return request.headers.get("Accept", "")


def _describe(error: Exception, key: str | None) -> str:
    """A short client message that always names the offending key."""
    message = str(error)
    if key and key not in message:
        message = f"{key}: {message}"
    return f"Invalid transformation: {message}"


def _plain(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _storage_root() -> Path:
    return Path(storages["default"].location).resolve()


def _source_path(name: str) -> Path | None:
    """The stored file for ``name``, or None if missing or outside the storage root."""
    storage = storages["default"]
    try:
        candidate = Path(storage.path(name))
        # resolve() follows symlinks, so a link pointing out of the root is refused too.
        resolved = candidate.resolve(strict=True)
    except SuspiciousFileOperation:
        logger.info("Refused media path outside the storage root: %r", name)
        return None
    except (OSError, ValueError, NotImplementedError):
        # Missing, unreadable, NUL byte in the name, or a storage with no local paths.
        return None
    if not resolved.is_relative_to(_storage_root()) or not resolved.is_file():
        return None
    return resolved


def _serve_original(request: HttpRequest, source: Path) -> HttpResponseBase:
    stat = source.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(stat.st_mtime),
        "Cache-Control": ORIGINAL_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": ORIGINAL_CSP,
    }
    response = get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime))
    if response is None:
        # Content-Type comes from the file name, like Django's static serve.
        response = FileResponse(source.open("rb"))
    _set_headers(response, headers)
    return response


def _set_headers(response: HttpResponseBase, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        response.headers[name] = value


def rendition_key(
    name: str, stat: os.stat_result, transformation: Transformation, variant: str
) -> str:
    """The cache key of a rendition: source name and version, canonical chain, format.

    Shared with the cached-rendition middleware, which must find what this view wrote.
    """
    material = "\0".join(
        (
            str(RENDERER_VERSION),
            name,
            str(stat.st_mtime_ns),
            str(stat.st_size),
            str(transformation),
            variant,
            str(media_store_settings()["DEFAULT_QUALITY"]),
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()


def _cache_key(source: Path, transformation: Transformation, variant: str) -> str:
    name = source.relative_to(_storage_root()).as_posix()
    return rendition_key(name, source.stat(), transformation, variant)


def _serve_rendition(
    request: HttpRequest,
    source: Path,
    transformation: Transformation,
    variant: str,
    *,
    vary_on_accept: bool,
) -> HttpResponseBase:
    key = _cache_key(source, transformation, variant)
    headers = {
        "ETag": f'"{key[:40]}"',
        "Cache-Control": RENDITION_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    response = get_conditional_response(request, etag=headers["ETag"])
    if response is None:
        cached = rendition_cache_dir() / key[:2] / key
        response = _cached_response(cached, source)
        if response is None:
            response = _render_response(request, source, transformation, cached)
    if response.status_code in (200, 304):
        _set_headers(response, headers)
    if vary_on_accept:
        patch_vary_headers(response, ("Accept",))
    return response


def _download_name(source: Path, content_type: str | None) -> str:
    extension = (content_type or "").removeprefix("image/")
    return PurePosixPath(source.name).with_suffix(f".{_EXTENSIONS.get(extension, extension)}").name


def _cached_response(cached: Path, source: Path) -> FileResponse | None:
    """Serve a rendition written earlier, or None on a miss."""
    try:
        handle = cached.open("rb")
    except FileNotFoundError:
        return None
    except OSError:
        # A broken cache must not break delivery: render instead.
        logger.warning("Cannot read rendition cache at %s", cached, exc_info=True)
        return None
    content_type = sniff_content_type(handle.read(16))
    handle.seek(0)
    return FileResponse(
        handle,
        content_type=content_type or "application/octet-stream",
        filename=_download_name(source, content_type),
    )


def _render_response(
    request: HttpRequest, source: Path, transformation: Transformation, cached: Path
) -> HttpResponse:
    options = media_store_settings()
    try:
        with source.open("rb") as handle:
            rendered = render(
                handle,
                transformation,
                accept=_accept(request),
                max_output_side=options["MAX_OUTPUT_SIDE"],
                max_source_pixels=options["MAX_SOURCE_PIXELS"],
                default_quality=options["DEFAULT_QUALITY"],
            )
    except SourceTooLargeError as e:
        logger.info("Refused to render %s: %s", source, e)
        return _plain(422, "Source image is too large to transform.")
    except InvalidSourceError as e:
        logger.warning("Cannot render %s: %s", source, e, exc_info=True)
        return _plain(422, "Source file is not a readable image.")
    except OutputTooLargeError as e:
        return _plain(400, f"Requested output is too large: {e}")
    except UnsupportedTransformationError as e:
        return _plain(400, _describe(e, e.key))
    _write_atomically(cached, rendered.data)
    response = HttpResponse(rendered.data, content_type=rendered.content_type)
    response.headers["Content-Disposition"] = content_disposition_header(
        False, _download_name(source, rendered.content_type)
    )
    return response


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file and os.replace, so readers never see a partial file.

    Concurrent first requests each render and replace; the last one wins with
    identical bytes. A failed write is logged, not raised: the response is
    already in memory.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        logger.warning("Cannot write rendition cache at %s", path, exc_info=True)
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates 0600; a front server may serve this folder later.
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError:
        logger.warning("Cannot write rendition cache at %s", path, exc_info=True)
        with suppress(FileNotFoundError):
            os.unlink(temp)
