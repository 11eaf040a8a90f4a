"""The URL endpoint: originals, ``/tr:<chain>/`` and ``?tr=`` renditions, signed URLs.

Transformations reuse the project's grammar (``media_store.grammar``) and Pillow
renderer (``media_store.rendering``); neither imports Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from media_store.imagekit_server.errors import ApiError
from media_store.signing import SignatureError, SignatureExpiredError, split_target, verify
from media_store.urlbuilder import URL_PATH_SAFE

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from media_store.imagekit_server.app import ImageKitApp
    from media_store.imagekit_server.store import FileRecord

SIGNATURE_INVALID = "The signature in this URL is invalid. Build signed URLs with the private key."
SIGNATURE_EXPIRED = "This signed URL has expired (ik-t is in the past). Build a new one."
PRIVATE_NEEDS_SIGNATURE = "This file is private: request it with a signed URL (ik-s)."
NOT_FOUND = "The requested resource does not exist."
BOTH_CHAINS = "Give the transformation either in the path (/tr:...) or in ?tr=, not both."
# Uploaded files are user content: a browser must never run one on this origin.
ORIGINAL_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def handle_cdn(app: ImageKitApp, request: Request, path: str) -> Response:
    """Serve ``<cdn_path>/<path>``; 401 for a bad signature, 404 for a missing file."""
    signed = _check_signature(app, request)
    chain = None
    first, _, rest = path.partition("/")
    if first.startswith("tr:") and rest:
        chain, path = first[3:], rest
    query_chain = request.args.get("tr")
    if chain is not None and query_chain is not None:
        raise ApiError(400, BOTH_CHAINS)
    chain = chain if chain is not None else query_chain

    record = app.store.get_by_path("/" + path)
    if record is None or not record.is_published:
        raise ApiError(404, NOT_FOUND)
    if record.is_private and not signed:
        raise ApiError(401, PRIVATE_NEEDS_SIGNATURE)
    if chain:
        # Imported here so the API keeps working even if the renderer cannot be imported.
        from media_store.imagekit_server.transform import render_rendition

        response = render_rendition(app, request, record, chain)
        if response is not None:
            return _cache_headers(response, record)
    return _original(app, request, record)


def _original(app: ImageKitApp, request: Request, record: FileRecord) -> Response:
    response = send_file(
        app.store.blob_path(record),
        request.environ,
        mimetype=record.mime,
        etag=record.version_id,
        conditional=True,
    )
    response.headers["Content-Security-Policy"] = ORIGINAL_CSP
    return _cache_headers(response, record)


def _cache_headers(response: Response, record: FileRecord) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = (
        "private, no-store" if record.is_private else "public, max-age=3600"
    )
    return response


def _check_signature(app: ImageKitApp, request: Request) -> bool:
    """True for a valid ``ik-s``; False when there is none; ApiError 401 when invalid/expired.

    ImageKit checks the raw path after ``<cdn_path>/`` plus the query without
    ik-t/ik-s, plus the expiry (protocol notes, section 5), as media_store.signing does.
    """
    raw_path, _, raw_query = _raw_target(request).partition("?")
    prefix = app.config.cdn_path + "/"
    relative = raw_path[len(prefix) :] if raw_path.startswith(prefix) else raw_path
    signed = split_target(relative, raw_query, encoded=True)
    if signed.signature is None:
        return False
    try:
        verify(signed, app.config.private_key)
    except SignatureExpiredError as e:
        raise ApiError(401, SIGNATURE_EXPIRED) from e
    except SignatureError as e:
        raise ApiError(401, SIGNATURE_INVALID) from e
    return True


def _raw_target(request: Request) -> str:
    """The request target as the client sent it (still percent-encoded).

    werkzeug's server (and gunicorn, uWSGI) put it in REQUEST_URI / RAW_URI as a
    WSGI "bytes as latin-1" string; other servers only give the decoded path, so
    fall back to re-quoting it the way the SDK does.
    """
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if raw:
        text = raw.encode("latin-1", "replace").decode("utf-8", "replace")
        split = urlsplit(text)
        if split.scheme and split.netloc:
            # An absolute-form target (sent to proxies): keep path and query only.
            return split.path + ("?" + split.query if split.query else "")
        return text
    query = request.environ.get("QUERY_STRING", "")
    return quote(request.path, safe=URL_PATH_SAFE) + ("?" + query if query else "")
