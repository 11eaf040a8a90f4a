"""The embedded CDN: serve stored files and their ImageKit-style transformations.

The request is parsed and authorised by ``media_store.cdn.request`` (shared
with the cached-rendition middleware). A rendition is looked up in the cache
(``media_store.cdn.renditions``, keyed by the source's name and version, the
canonical chain and the negotiated format); on a miss the source's header is
read, the render budget checked before a pixel is decoded, and the render
runs under the process's render limiter. Errors are translated to HTTP here
and nowhere else: every refusal is a JSON body (``media_store.cdn.errors``).
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path, PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.csrf import csrf_exempt
from PIL import Image

from media_store.budget import RenderCost, check_render_budget
from media_store.cdn import renditions
from media_store.cdn.errors import CdnError, error_response
from media_store.cdn.request import CdnRequest, describe, parse_request
from media_store.conf import media_store_settings
from media_store.exceptions import ErrorCode, InvalidTransformationError
from media_store.limiter import RenderBusyError, limiter
from media_store.rendering import (
    InvalidSourceError,
    OutputTooLargeError,
    RenderBudgetExceededError,
    Rendered,
    SourceInfo,
    SourceTooLargeError,
    UnsupportedTransformationError,
    probe,
    render,
    sniff_content_type,
)
from media_store.rendering.errors import ChainTooLongError

logger = logging.getLogger(__name__)

# A rendition's URL names its exact bytes (the source's mtime is in the key),
# so clients may keep it for a year without revalidating.
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Originals can be overwritten under the same name; revalidate hourly via ETag.
ORIGINAL_CACHE_CONTROL = "public, max-age=3600"
# Uploaded files are user content: never let a browser run one (HTML, SVG) on our origin.
ORIGINAL_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}
# What Pillow raises for a stored file it cannot decode, besides its own error types.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@csrf_exempt
def serve(request: HttpRequest, path: str = "", chain: str | None = None) -> HttpResponseBase:
    """GET/HEAD ``<path>``, ``tr:<chain>/<path>`` or ``<path>?tr=<chain>``.

    The URL kwargs only route here: the shared parser reads the request itself.
    400 for a bad, unsupported or too costly chain, 403 for a transformation or
    private file without a valid signature (public presets excepted), 404 for
    a missing file, 405 for other methods, 422 for a source over
    MAX_SOURCE_PIXELS or one that is not a readable image, 503 (Retry-After)
    when every render slot stays busy. Every error body is JSON.
    """
    if request.method not in ("GET", "HEAD"):
        return error_response(
            CdnError(
                ErrorCode.METHOD_NOT_ALLOWED,
                "The media URLs only answer GET and HEAD.",
                status=405,
                headers={"Allow": "GET, HEAD"},
            )
        )
    try:
        cdn = parse_request(request)
        source = find_source(cdn.name)
        if cdn.negotiated is None:
            return _serve_original(request, source)
        return _serve_rendition(request, cdn, source)
    except CdnError as e:
        return error_response(e)


def _storage_root() -> Path:
    return Path(storages["default"].location).resolve()


def find_source(name: str) -> Path:
    """The stored file for ``name``; CdnError 404 if missing or outside the storage root."""
    storage = storages["default"]
    try:
        candidate = Path(storage.path(name))
        # resolve() follows symlinks, so a link pointing out of the root is refused too.
        resolved = candidate.resolve(strict=True)
        inside = resolved.is_relative_to(_storage_root()) and resolved.is_file()
    except SuspiciousFileOperation:
        logger.info("Refused media path outside the storage root: %r", name)
        inside = False
    except (OSError, ValueError, NotImplementedError):
        # Missing, unreadable, a name too long for the file system, or no local paths.
        inside = False
    if not inside:
        raise CdnError(
            ErrorCode.NOT_FOUND,
            "No stored file has this name. Check the path after the media URL.",
            status=404,
        )
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


def rendition_headers(key: str) -> dict[str, str]:
    """Headers of every rendition response (200 or 304), from the view or the middleware."""
    return {
        "ETag": f'"{key[:40]}"',
        "Cache-Control": RENDITION_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }


def _serve_rendition(request: HttpRequest, cdn: CdnRequest, source: Path) -> HttpResponseBase:
    assert cdn.negotiated is not None
    name = source.relative_to(_storage_root()).as_posix()
    key = renditions.rendition_key(name, source.stat(), cdn.transformation, cdn.negotiated.variant)
    headers = rendition_headers(key)
    response = get_conditional_response(request, etag=headers["ETag"])
    if response is None:
        response = _cached_response(key, source) or _render_response(cdn, source, key)
    _set_headers(response, headers)
    if cdn.negotiated.vary_on_accept:
        patch_vary_headers(response, ("Accept",))
    return response


def _download_name(source: Path, content_type: str | None) -> str:
    extension = (content_type or "").removeprefix("image/")
    return PurePosixPath(source.name).with_suffix(f".{_EXTENSIONS.get(extension, extension)}").name


def _cached_response(key: str, source: Path) -> FileResponse | None:
    """Serve a rendition written earlier, or None on a miss."""
    cached = renditions.open_cached(key)
    if cached is None:
        return None
    content_type = sniff_content_type(cached.handle.read(16))
    cached.handle.seek(0)
    return FileResponse(
        cached.handle,
        content_type=content_type or "application/octet-stream",
        filename=_download_name(source, content_type),
    )


def _render_response(cdn: CdnRequest, source: Path, key: str) -> HttpResponseBase:
    """Check the budget from the header, render under the limiter, cache the result."""
    options = media_store_settings()
    header = _probe(source, options["MAX_SOURCE_PIXELS"])
    cost = _check_budget(cdn, header)
    try:
        with limiter().slot(cost.memory, options["RENDER_QUEUE_TIMEOUT"]):
            # Another request may have rendered it while this one waited.
            cached = _cached_response(key, source)
            if cached is not None:
                return cached
            rendered = _render(cdn, source)
    except RenderBusyError as e:
        logger.warning("Render refused, every slot busy: %s", e)
        raise CdnError(
            ErrorCode.RENDER_BUSY,
            "Every render slot is busy; try again later (see Retry-After). Already"
            " rendered images are still served.",
            status=503,
            headers={"Retry-After": str(e.retry_after)},
        ) from e
    renditions.store(key, rendered.data)
    response = HttpResponse(rendered.data, content_type=rendered.content_type)
    response.headers["Content-Disposition"] = content_disposition_header(
        False, _download_name(source, rendered.content_type)
    )
    return response


def _probe(source: Path, max_source_pixels: int) -> SourceInfo:
    try:
        return probe(source, max_source_pixels=max_source_pixels)
    except SourceTooLargeError as e:
        logger.info("Refused to render %s: %s", source, e)
        raise _source_too_large(max_source_pixels) from e
    except (InvalidSourceError, *_DECODE_ERRORS) as e:
        logger.warning("Cannot read the header of %s: %s", source, e)
        raise _invalid_source() from e


def _check_budget(cdn: CdnRequest, header: SourceInfo) -> RenderCost:
    """The render's cost, or the CdnError that refuses it.

    With the orientation unknown (see SourceInfo) the source may turn out turned:
    both ways must pass, and the dearer one is what the limiter reserves.
    """
    sizes = [header.size] if header.orientation is not None else {header.size, header.size[::-1]}
    try:
        costs = [
            check_render_budget(
                cdn.transformation,
                size,
                header.format,
                source_mode=header.mode,
                orientation=header.orientation,
                accept=cdn.accept,
            )
            for size in sizes
        ]
    except ChainTooLongError as e:
        raise CdnError(ErrorCode.CHAIN_TOO_LONG, str(e)) from e
    except RenderBudgetExceededError as e:
        raise CdnError(ErrorCode.RENDER_BUDGET_EXCEEDED, str(e)) from e
    except OutputTooLargeError as e:
        raise _output_too_large(e) from e
    except (UnsupportedTransformationError, InvalidTransformationError) as e:
        raise CdnError(ErrorCode.UNSUPPORTED_TRANSFORMATION, describe(e, e.key)) from e
    return max(costs, key=lambda cost: cost.memory)


def _render(cdn: CdnRequest, source: Path) -> Rendered:
    options = media_store_settings()
    try:
        return render(
            source,
            cdn.transformation,
            accept=cdn.accept,
            max_output_side=options["MAX_OUTPUT_SIDE"],
            max_source_pixels=options["MAX_SOURCE_PIXELS"],
            default_quality=options["DEFAULT_QUALITY"],
        )
    except SourceTooLargeError as e:
        raise _source_too_large(options["MAX_SOURCE_PIXELS"]) from e
    except OutputTooLargeError as e:
        raise _output_too_large(e) from e
    except UnsupportedTransformationError as e:
        raise CdnError(ErrorCode.UNSUPPORTED_TRANSFORMATION, describe(e, e.key)) from e
    except (InvalidSourceError, Image.DecompressionBombError, *_DECODE_ERRORS) as e:
        # The stored file, not the request, is at fault: log it whole.
        logger.warning("Cannot render %s", source, exc_info=True)
        raise _invalid_source() from e


def _source_too_large(max_pixels: int) -> CdnError:
    return CdnError(
        ErrorCode.SOURCE_TOO_LARGE,
        f"The stored image has more than the {max_pixels} pixels the CDN transforms"
        " (MAX_SOURCE_PIXELS). Request the original, or upload a smaller image.",
        status=422,
    )


def _invalid_source() -> CdnError:
    return CdnError(
        ErrorCode.INVALID_SOURCE,
        "The stored file is not a readable image, so it cannot be transformed. Request"
        " the original, or upload the image again.",
        status=422,
    )


def _output_too_large(error: OutputTooLargeError) -> CdnError:
    return CdnError(
        ErrorCode.OUTPUT_TOO_LARGE,
        f"Requested output is too large: {error}. Ask for smaller w, h or dpr.",
    )
