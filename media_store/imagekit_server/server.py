"""ImageKitServer: the emulator on a real socket, in a daemon thread (like moto's server)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from media_store.imagekit_server.app import ImageKitApp
from media_store.imagekit_server.config import (
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_NAMED_TRANSFORMATIONS,
    Config,
)
from media_store.imagekit_server.faults import FaultInjector, RequestLog
from media_store.imagekit_server.store import Store

if TYPE_CHECKING:
    from imagekitio import ImageKit

DEFAULT_PRIVATE_KEY = "private_local_imagekit_key"
DEFAULT_PUBLIC_KEY = "public_local_imagekit_key"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=128)


class _QuietHandler(WSGIRequestHandler):
    # Tests make hundreds of requests; werkzeug's per-request access log is noise there.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not getattr(self.server, "quiet", False):
            super().log_request(code, size)


class ImageKitServer:
    """An ImageKit-compatible API and URL endpoint on ``http://host:port``.

    Point the real SDK at it with ``ImageKit(private_key=server.private_key,
    base_url=server.url)`` and build delivery URLs on ``server.url_endpoint``
    (``<url>/cdn/<endpoint_id>``). Files persist under ``root``: a new server on
    the same root sees them. ``port=0`` picks a free port; the socket is bound
    in the constructor, so ``url`` is known before ``start()``.

    ``faults`` (FaultInjector) and ``requests`` (RequestLog) drive and observe
    it from tests; ``POST /__faults__`` and ``GET /__requests__`` do the same
    over HTTP for a server in another process.

    ``client_upload_folder`` (e.g. ``/catalog/uploads/``) hardens the account:
    a V1 client-side upload outside that folder, or one that would overwrite a
    file, is refused with 403 (see Config).

    ``named_transformations`` ({"card": "w-400,h-300"}) are what an account
    creates in ImageKit's dashboard: the CDN serves ``tr:n-card`` with them, and
    answers 400 for a name it does not have, as ImageKit does.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        private_key: str = DEFAULT_PRIVATE_KEY,
        public_key: str = DEFAULT_PUBLIC_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        endpoint_id: str = "demo",
        url_endpoint: str | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        max_output_side: int = 4096,
        max_source_pixels: int = 40_000_000,
        default_quality: int = 80,
        named_transformations: Mapping[str, str] | None = None,
        client_upload_folder: str | None = None,
        quiet: bool = True,
    ) -> None:
        if not endpoint_id or "/" in endpoint_id:
            raise ValueError(
                f"endpoint_id must be one path segment such as 'demo', got {endpoint_id!r}"
            )
        self.root = Path(root)
        self.private_key = private_key
        self.public_key = public_key
        self.faults = FaultInjector()
        self.requests = RequestLog()
        # Before the store is opened: an invalid option raises with nothing to close.
        self.config = Config(
            private_key=private_key,
            public_key=public_key,
            cdn_path=f"/cdn/{endpoint_id}",
            url_endpoint=url_endpoint,
            max_file_size=max_file_size,
            max_output_side=max_output_side,
            max_source_pixels=max_source_pixels,
            default_quality=default_quality,
            # ImageKit's built-in names exist on every account, next to the dashboard's.
            named_transformations={
                **DEFAULT_NAMED_TRANSFORMATIONS,
                **(named_transformations or {}),
            },
            client_upload_folder=client_upload_folder,
        )
        self.store = Store(self.root)
        self.app = ImageKitApp(self.store, self.config, self.faults, self.requests)
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            listener = _listen(host, port)
        except OSError:
            self.store.close()
            raise
        with listener:
            # werkzeug calls sys.exit() when it cannot bind; binding here raises OSError
            # instead. werkzeug dups the descriptor, so ours is closed afterwards.
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        self._server.quiet = quiet  # type: ignore[attr-defined]
        self.host, self.port = self._server.server_address[:2]

    @property
    def url(self) -> str:
        """The API base URL, for ``ImageKit(base_url=...)``."""
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}"

    @property
    def url_endpoint(self) -> str:
        """The URL endpoint (CDN base) for ``helper.build_url(url_endpoint=...)``."""
        return self.config.url_endpoint or f"{self.url}{self.config.cdn_path}"

    def start(self) -> ImageKitServer:
        """Serve in a daemon thread; returns once accepting. Idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name=f"imagekit-server-{self.port}", daemon=True
            )
            self._thread.start()
        if not self.ready.wait(timeout=10):
            raise RuntimeError("the local ImageKit server did not start within 10 s")
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` (the management command uses this)."""
        self.ready.set()
        try:
            self._server.serve_forever(poll_interval=0.1)
        finally:
            self.ready.clear()

    def stop(self) -> None:
        """Stop serving, close the socket and the index. Safe to call twice."""
        if self.ready.is_set():
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
        self.store.close()

    def reset(self, *, files: bool = False) -> None:
        """Forget faults and the request log; with ``files=True`` delete every file too."""
        self.faults.reset()
        self.requests.clear()
        if files:
            self.store.clear()

    def client(self, **kwargs: Any) -> ImageKit:
        """A real SDK client for this server (kwargs go to ``ImageKit``, e.g. max_retries)."""
        from imagekitio import ImageKit

        kwargs.setdefault("private_key", self.private_key)
        kwargs.setdefault("base_url", self.url)
        return ImageKit(**kwargs)

    def __enter__(self) -> ImageKitServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
