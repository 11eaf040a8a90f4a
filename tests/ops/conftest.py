from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from ops.health import clear_cached_results


@pytest.fixture(autouse=True)
def fresh_readiness() -> Iterator[None]:
    """No test sees the storage check's answer from another."""
    clear_cached_results()
    yield
    clear_cached_results()


def console_handler(stream: io.StringIO, fmt: str) -> logging.Handler:
    """A handler built as settings.LOGGING builds "console", with ``fmt`` for its formatter."""
    config = settings.LOGGING
    handler = logging.StreamHandler(stream)
    for name in config["handlers"]["console"]["filters"]:
        options = dict(config["filters"][name])
        handler.addFilter(import_string(options.pop("()"))(**options))
    options = dict(config["formatters"][fmt])
    factory = import_string(options.pop("()")) if "()" in options else logging.Formatter
    if "format" in options:
        options["fmt"] = options.pop("format")
    handler.setFormatter(factory(**options))
    return handler


class LogCapture:
    """What the console handler would have written, in one format."""

    def __init__(self, stream: io.StringIO, fmt: str) -> None:
        self.stream = stream
        self.fmt = fmt

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[str]:
        return self.text.splitlines()

    def records(self) -> list[dict]:
        """Each line as JSON (the json format only)."""
        return [json.loads(line) for line in self.lines()]

    def requests(self) -> list[dict]:
        return [record for record in self.records() if record["logger"] == "ops.request"]


@pytest.fixture
def capture_logs() -> Iterator[Callable[..., LogCapture]]:
    """``capture_logs("json", level=logging.DEBUG)``: the root logger also writes there."""
    root = logging.getLogger()
    added: list[logging.Handler] = []
    level = root.level

    def start(fmt: str = "json", level: int = logging.INFO) -> LogCapture:
        stream = io.StringIO()
        handler = console_handler(stream, fmt)
        handler.setLevel(level)
        root.addHandler(handler)
        added.append(handler)
        root.setLevel(min(root.level, level))
        return LogCapture(stream, fmt)

    yield start
    for handler in added:
        root.removeHandler(handler)
    root.setLevel(level)
