"""Fault injection and the request log, shared by the server object and its admin routes.

Faults are queued per endpoint and consumed in order, one per request, so a
test can script "500, then 429, then succeed". They are checked before
authentication and before anything is stored, like a failing load balancer.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any

from media_store.imagekit_server.errors import HELP

ENDPOINTS = frozenset({"upload", "upload_v2", "details", "delete", "list", "bulk_delete", "cdn"})
ANY_ENDPOINT = "*"

_JSON = "application/json; charset=utf-8"
# 200 answers ImageKit's API does not document, by kind: (body, Content-Type). What
# the SDK makes of each (lenient parsing, its default): JSONDecodeError; the text as a
# str; a list; a model whose fields hold the wrong types.
MALFORMED_BODIES: dict[str, tuple[str, str]] = {
    "not-json": ("{not json", _JSON),
    "text": ("<html><body>502 Bad Gateway</body></html>", "text/html; charset=utf-8"),
    "wrong-shape": (json.dumps(["not", "a", "file"]), _JSON),
    "wrong-types": (
        json.dumps({"fileId": 5, "filePath": None, "name": ["x"], "size": "big"}),
        _JSON,
    ),
}


@dataclass
class Fault:
    """One queued fault. ``status`` None means: drop the connection without answering."""

    status: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    remaining: int | None = 1  # None: every request until reset()

    @property
    def drops(self) -> bool:
        return self.status is None

    def default_body(self) -> dict[str, str]:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = ""
        return {"message": f"Injected fault: {self.status} {phrase}".rstrip(), "help": HELP}


class FaultInjector:
    """Thread-safe per-endpoint faults: error statuses, dropped connections, latency.

    Endpoint names: ``upload`` (API V1), ``upload_v2``, ``details``, ``delete``,
    ``list``, ``bulk_delete``, ``cdn``, or ``*`` for all of them (consulted after the
    endpoint's own queue).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}
        self._latency: dict[str, float] = {}

    def fail(
        self,
        endpoint: str,
        status: int,
        *,
        times: int | None = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests (None: all) with ``status``.

        ``body`` is sent as JSON (a str is sent as is); by default an ImageKit-style
        ``{"message", "help"}``. ``headers`` e.g. ``{"Retry-After": "1"}``.
        """
        if not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code (100-599), got {status!r}")
        self._push(endpoint, Fault(status, body, dict(headers or {}), _times(times)))

    def malformed(self, endpoint: str, kind: str = "not-json", *, times: int | None = 1) -> None:
        """Answer the next ``times`` requests 200 with a body the API does not document.

        ``kind``: one of MALFORMED_BODIES (``not-json``, ``text``, ``wrong-shape``,
        ``wrong-types``). Nothing is stored, as with any fault.
        """
        if kind not in MALFORMED_BODIES:
            raise ValueError(f"kind must be one of {', '.join(MALFORMED_BODIES)}, got {kind!r}")
        body, content_type = MALFORMED_BODIES[kind]
        self._push(endpoint, Fault(200, body, {"Content-Type": content_type}, _times(times)))

    def drop(self, endpoint: str, *, times: int | None = 1) -> None:
        """Close the connection without a response for the next ``times`` requests."""
        self._push(endpoint, Fault(None, remaining=_times(times)))

    def delay(self, endpoint: str, seconds: float) -> None:
        """Sleep ``seconds`` before handling each request to ``endpoint`` (0 removes it)."""
        _check_endpoint(endpoint)
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        with self._lock:
            if seconds:
                self._latency[endpoint] = float(seconds)
            else:
                self._latency.pop(endpoint, None)

    def reset(self) -> None:
        """Remove every queued fault and latency."""
        with self._lock:
            self._queues.clear()
            self._latency.clear()

    def take(self, endpoint: str) -> tuple[float, Fault | None]:
        """The latency and the fault (if any) for one request to ``endpoint``; consumes it."""
        with self._lock:
            latency = self._latency.get(endpoint, self._latency.get(ANY_ENDPOINT, 0.0))
            for name in (endpoint, ANY_ENDPOINT):
                queue = self._queues.get(name)
                if queue:
                    fault = queue[0]
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            queue.popleft()
                    return latency, fault
        return latency, None

    def configure(self, spec: Mapping[str, Any]) -> None:
        """Apply one JSON rule from the admin route.

        ``{"endpoint": "upload", "status": 503, "times": 2, "body": {...}, "headers": {...}}``,
        ``{"endpoint": "upload", "drop": true, "times": 1}``,
        ``{"endpoint": "upload", "malformed": "not-json"}`` or
        ``{"endpoint": "upload", "latency": 0.5}``. Raises ValueError on a bad rule.
        """
        endpoint = spec.get("endpoint")
        if not isinstance(endpoint, str):
            raise ValueError('a fault needs "endpoint": one of ' + _names())
        times = spec.get("times", 1)
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise ValueError('"times" must be an integer >= 1 or null (forever)')
        if "latency" in spec:
            latency = spec["latency"]
            if isinstance(latency, bool) or not isinstance(latency, int | float):
                raise ValueError('"latency" must be a number of seconds')
            self.delay(endpoint, float(latency))
        elif spec.get("drop"):
            self.drop(endpoint, times=times)
        elif "malformed" in spec:
            kind = spec["malformed"]
            if not isinstance(kind, str):
                raise ValueError('"malformed" must be one of ' + ", ".join(MALFORMED_BODIES))
            self.malformed(endpoint, kind, times=times)
        elif "status" in spec:
            status = spec["status"]
            if isinstance(status, bool) or not isinstance(status, int):
                raise ValueError('"status" must be an integer HTTP status')
            headers = spec.get("headers") or {}
            if not isinstance(headers, dict):
                raise ValueError('"headers" must be an object of header names to values')
            self.fail(
                endpoint,
                status,
                times=times,
                body=spec.get("body"),
                headers={str(k): str(v) for k, v in headers.items()},
            )
        else:
            raise ValueError(
                'a fault needs one of "status", "drop": true, "malformed" or "latency"'
            )

    def snapshot(self) -> dict[str, Any]:
        """The pending faults and latencies, JSON-ready."""
        with self._lock:
            return {
                "faults": {
                    name: [asdict(fault) for fault in queue]
                    for name, queue in self._queues.items()
                    if queue
                },
                "latency": dict(self._latency),
            }

    def _push(self, endpoint: str, fault: Fault) -> None:
        _check_endpoint(endpoint)
        with self._lock:
            self._queues.setdefault(endpoint, deque()).append(fault)


def _times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None (forever), got {times!r}")
    return times


def _names() -> str:
    return ", ".join(sorted(ENDPOINTS)) + f" or {ANY_ENDPOINT!r}"


def _check_endpoint(endpoint: str) -> None:
    if endpoint != ANY_ENDPOINT and endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; use one of {_names()}")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the server saw it. ``status`` is None for a dropped connection."""

    method: str
    path: str
    query: str
    endpoint: str | None
    status: int | None
    headers: dict[str, str]  # lower-case names: content-*, accept, user-agent, x-stainless-*
    body_size: int  # bytes read from the request body
    retry_count: int | None  # x-stainless-retry-count
    fault: str | None  # "status", "drop" or None
    started_at: float
    duration: float


# Headers worth keeping; Authorization is left out so logs never hold the key.
_LOGGED_HEADERS = ("content-type", "content-length", "transfer-encoding", "accept", "user-agent")


def logged_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _LOGGED_HEADERS or lower.startswith("x-stainless-"):
            kept[lower] = value
    return kept


class RequestLog:
    """A bounded, thread-safe list of LoggedRequest (oldest dropped first)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, endpoint: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            entries = list(self._entries)
        return [e for e in entries if endpoint is None or e.endpoint == endpoint]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(entry) for entry in self.entries()]
