"""The WSGI application: routing, auth, request ids, faults and the request log."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from media_store.imagekit_server import errors
from media_store.imagekit_server.auth import ClientUploadAuth, UploadTokenAuth, check_basic
from media_store.imagekit_server.cdn import handle_cdn
from media_store.imagekit_server.errors import ApiError, error_response, json_response
from media_store.imagekit_server.faults import (
    Fault,
    FaultInjector,
    LoggedRequest,
    RequestLog,
    logged_headers,
)
from media_store.imagekit_server.listing import handle_list
from media_store.imagekit_server.serialize import file_object
from media_store.imagekit_server.upload import handle_upload, handle_upload_v2

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from media_store.imagekit_server.config import Config
    from media_store.imagekit_server.store import Store

logger = logging.getLogger(__name__)

MAX_BULK_IDS = 100
_DRAIN_CHUNK = 1024 * 1024


# A file part up to this size stays in memory while the form is parsed; larger ones
# go to a temporary file, so a burst of large uploads cannot fill the memory.
SPOOL_MAX_MEMORY = 2 * 1024 * 1024


class _Request(Request):
    # Base64 uploads arrive as a form field: allow ImageKit-sized ones (werkzeug: 500 kB).
    max_form_memory_size = 64 * 1024 * 1024

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # werkzeug's documented hook. Its default puts every body over 500 kB in a
        # temporary file on disk, which the upload then copies into the store: a
        # seventh of this server's CPU for a 500 kB photo (2.5 ms, now 2.1).
        return tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)


class _CountingInput(io.RawIOBase):
    """Wraps ``wsgi.input`` to count the body bytes actually read (for the request log)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if hasattr(self._raw, "readinto"):
            read = self._raw.readinto(buffer) or 0
        else:
            data = self._raw.read(len(buffer))
            read = len(data)
            buffer[:read] = data
        self.count += read
        return read


class ImageKitApp:
    """A WSGI app answering like ImageKit's API and URL endpoint; see ImageKitServer."""

    def __init__(
        self,
        store: Store,
        config: Config,
        faults: FaultInjector | None = None,
        log: RequestLog | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.faults = FaultInjector() if faults is None else faults
        self.log = RequestLog() if log is None else log
        self.client_auth = ClientUploadAuth(config.private_key, config.public_key)
        self.upload_tokens = UploadTokenAuth(config.private_key, config.public_key)
        self.url_map = Map(
            [
                Rule("/api/v1/files/upload", endpoint="upload", methods=["POST"]),
                Rule("/api/v2/files/upload", endpoint="upload_v2", methods=["POST"]),
                Rule("/v1/files", endpoint="list", methods=["GET"]),
                Rule("/v1/files/batch/deleteByFileIds", endpoint="bulk_delete", methods=["POST"]),
                # path: the SDK percent-encodes ``/`` in ids, which werkzeug decodes.
                Rule("/v1/files/<path:file_id>/details", endpoint="details", methods=["GET"]),
                Rule("/v1/files/<path:file_id>", endpoint="delete", methods=["DELETE"]),
                Rule(f"{config.cdn_path}/<path:path>", endpoint="cdn", methods=["GET", "HEAD"]),
                Rule("/__faults__", endpoint="admin_faults", methods=["GET", "POST", "DELETE"]),
                Rule("/__requests__", endpoint="admin_requests", methods=["GET", "DELETE"]),
                Rule("/__reset__", endpoint="admin_reset", methods=["POST"]),
                Rule("/__health__", endpoint="admin_health", methods=["GET"]),
            ],
            merge_slashes=False,
        )
        self._handlers: dict[str, Callable[..., Any]] = {
            "upload": lambda request: json_response(handle_upload(self, request)),
            "upload_v2": lambda request: json_response(handle_upload_v2(self, request)),
            "list": self._list,
            "bulk_delete": self._bulk_delete,
            "details": self._details,
            "delete": self._delete,
            "cdn": lambda request, path: handle_cdn(self, request, path),
        }

    def url_endpoint(self, request: Request) -> str:
        """The CDN base written into ``url`` fields: configured, else this host + cdn_path."""
        if self.config.url_endpoint:
            return self.config.url_endpoint.rstrip("/")
        return request.host_url.rstrip("/") + self.config.cdn_path

    def check_key(self, authorization: str | None) -> None:
        check_basic(authorization, self.config.private_key)

    # WSGI --------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        counter = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = counter
        request = _Request(environ)
        started, clock = time.time(), time.monotonic()
        endpoint: str | None = None  # None: no route matched (logged too, to debug clients)
        fault_kind: str | None = None
        response: Response | None = None
        admin = False
        try:
            try:
                matched, args = self.url_map.bind_to_environ(environ).match()
            except HTTPException as e:
                response = error_response(e.code or 500, _describe(e))
            else:
                if matched.startswith("admin_"):
                    # Admin traffic stays out of the request log.
                    admin = True
                    response = self._admin(matched, request)
                else:
                    endpoint = matched
                    response, fault_kind = self._dispatch(endpoint, request, args)
            _drain(request)
        finally:
            if not admin:
                self.log.append(
                    LoggedRequest(
                        method=request.method,
                        path=request.path,
                        query=request.query_string.decode("latin-1"),
                        endpoint=endpoint,
                        status=response.status_code if response is not None else None,
                        headers=logged_headers(request.headers),
                        body_size=counter.count,
                        retry_count=_retry_count(request),
                        fault=fault_kind,
                        started_at=started,
                        duration=time.monotonic() - clock,
                    )
                )
        if response is None:
            _drop(environ)
        response.headers["x-ik-requestId"] = uuid.uuid4().hex
        # make_conditional() adds Date and the server adds its own; send one.
        del response.headers["Date"]
        return response(environ, start_response)

    def _dispatch(
        self, endpoint: str, request: Request, args: dict[str, Any]
    ) -> tuple[Response | None, str | None]:
        latency, fault = self.faults.take(endpoint)
        if latency:
            time.sleep(latency)
        if fault is not None:
            _drain(request)
            return (None, "drop") if fault.drops else (_fault_response(fault), "status")
        try:
            if endpoint not in ("upload", "upload_v2", "cdn"):
                self.check_key(request.headers.get("Authorization"))
            return self._handlers[endpoint](request, **args), None
        except ApiError as e:
            return e.response(), None
        except Exception as e:
            # A bug here should reach the client as ImageKit-shaped JSON, not werkzeug's HTML.
            logger.exception("Local ImageKit server failed on %s %s", request.method, request.path)
            return error_response(500, f"The local ImageKit server failed: {e!r}"), None

    # API handlers ------------------------------------------------------------

    def _details(self, request: Request, file_id: str) -> Response:
        record = self.store.get(file_id)
        if record is None:
            raise ApiError(404, errors.FILE_NOT_FOUND)
        return json_response(file_object(record, self.url_endpoint(request)))

    def _delete(self, request: Request, file_id: str) -> Response:
        if not self.store.delete(file_id):
            raise ApiError(404, errors.FILE_NOT_FOUND)
        return Response(status=204)

    def _list(self, request: Request) -> Response:
        return json_response(handle_list(self, request))

    def _bulk_delete(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(cache=False) or b"{}")
        except ValueError:
            raise ApiError(400, "Your request body is not valid JSON.") from None
        if not isinstance(body, dict) or "fileIds" not in body:
            raise ApiError(400, errors.FILE_IDS_MISSING)
        file_ids = body["fileIds"]
        if not isinstance(file_ids, list) or not all(isinstance(i, str) for i in file_ids):
            raise ApiError(400, errors.FILE_IDS_NOT_ARRAY)
        if not file_ids:
            raise ApiError(400, errors.FILE_IDS_EMPTY)
        if len(file_ids) > MAX_BULK_IDS:
            raise ApiError(400, errors.FILE_IDS_TOO_MANY)
        wanted = list(dict.fromkeys(file_ids))
        deleted = self.store.delete_many(wanted)
        missing = [file_id for file_id in wanted if file_id not in deleted]
        if not deleted:
            raise ApiError(404, errors.FILES_NOT_FOUND, missingFileIds=missing)
        body = {"successfullyDeletedFileIds": deleted}
        if not missing:
            return json_response(body)
        # Partial success: ImageKit's 207 Multi-Status lists what failed.
        body["errors"] = [{"fileId": i, "error": errors.FILE_NOT_FOUND} for i in missing]
        return json_response(body, 207)

    # Admin routes (unauthenticated: bind to loopback) ------------------------

    def _admin(self, endpoint: str, request: Request) -> Response:
        method = request.method
        if endpoint == "admin_health":
            return json_response({"status": "ok"})
        if endpoint == "admin_reset":
            self.faults.reset()
            self.log.clear()
            return Response(status=204)
        if endpoint == "admin_requests":
            if method == "DELETE":
                self.log.clear()
                return Response(status=204)
            return json_response(self.log.as_json())
        if method == "DELETE":
            self.faults.reset()
            return Response(status=204)
        if method == "POST":
            try:
                spec = json.loads(request.get_data(cache=False) or b"null")
                rules = spec if isinstance(spec, list) else [spec]
                for rule in rules:
                    if not isinstance(rule, dict):
                        raise ValueError("send a JSON object (or a list of them) per fault")
                    self.faults.configure(rule)
            except ValueError as e:
                return error_response(400, f"Invalid fault: {e}")
        return json_response(self.faults.snapshot())


def _fault_response(fault: Fault) -> Response:
    body = fault.default_body() if fault.body is None else fault.body
    payload = body if isinstance(body, str) else json.dumps(body)
    headers = dict(fault.headers)
    content_type = headers.pop("Content-Type", None) or (
        "text/plain; charset=utf-8" if isinstance(body, str) else "application/json; charset=utf-8"
    )
    return Response(payload, status=fault.status, headers=headers, content_type=content_type)


def _drain(request: Request) -> None:
    """Read what is left of the body, so the client is never cut off mid-upload.

    werkzeug's server closes every connection after the response; unread body
    bytes would otherwise turn an error status into a connection reset.
    """
    stream = request.stream
    # HTTPException: werkzeug's ClientDisconnected when the body is shorter than announced.
    with contextlib.suppress(OSError, ValueError, HTTPException):
        while stream.read(_DRAIN_CHUNK):
            pass


def _drop(environ: WSGIEnvironment) -> NoReturn:
    """Close the client socket without a response; the SDK sees APIConnectionError."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # werkzeug treats ConnectionError from the app as a dropped client and stays quiet.
    raise ConnectionAbortedError("fault injection: connection dropped")


def _retry_count(request: Request) -> int | None:
    raw = request.headers.get("x-stainless-retry-count")
    return int(raw) if raw and raw.isdigit() else None


def _describe(error: HTTPException) -> str:
    if error.code == 404:
        return "No such API route or URL endpoint path on this local ImageKit server."
    if error.code == 405:
        return f"Method not allowed here: {error.description}"
    return str(error.description or error.name)
