"""What every log line carries: the request id, and the JSON formatter for LOG_FORMAT=json.

Imported by ``settings.LOGGING`` before the apps load, so it imports no models.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

NO_VALUE = "-"

# Set by ops.requestlog.RequestLogMiddleware for the request running on this thread.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_VALUE)


def current_request_id() -> str:
    """The id of the request being handled here, or "-" outside one."""
    return request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record; attach it to handlers, as loggers'
    filters do not see the records their children propagate."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, without the objects Django attaches to records.

    ``django.request`` and ``django.server`` pass the request (or its socket) as
    ``extra``; its text would include the query string.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)
