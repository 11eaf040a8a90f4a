"""Errors raised by media_store."""

from __future__ import annotations

import enum


class InvalidTransformationError(ValueError):
    """A transformation string or argument is not valid ImageKit grammar.

    ``key`` names the offending transformation key (``"w"``, ``"f"``...), or is
    None when the string cannot be split into keys at all.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class UnknownNamedTransformationError(InvalidTransformationError):
    """An ``n-<name>`` step names a transformation nobody defined; ``name`` is that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no named transformation {name!r}", key="n")
        self.name = name


class RemoteStorageError(OSError):
    """The remote storage (ImageKit) refused or failed a request.

    The message is safe to show: it carries the service's answer, never a key.
    ``retryable`` is True when the same request may succeed later (5xx, 429,
    timeouts, dropped connections, malformed answers) and False when something
    must be fixed first (a 400/401/403/404: a bad request, a refused key).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ErrorCode(enum.StrEnum):
    """``error.code`` in the local CDN's JSON error bodies. Tests compare codes, not text."""

    # 400: the URL asks for something that cannot or may not be rendered.
    INVALID_TRANSFORMATION = "invalid_transformation"
    UNSUPPORTED_TRANSFORMATION = "unsupported_transformation"
    CHAIN_TOO_LONG = "chain_too_long"
    RENDER_BUDGET_EXCEEDED = "render_budget_exceeded"
    OUTPUT_TOO_LARGE = "output_too_large"
    # 403: rendering or a private file needs this server's signature.
    SIGNATURE_REQUIRED = "signature_required"
    SIGNATURE_INVALID = "signature_invalid"
    SIGNATURE_EXPIRED = "signature_expired"
    # 404, 405
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # 422: the stored file cannot be transformed.
    SOURCE_TOO_LARGE = "source_too_large"
    INVALID_SOURCE = "invalid_source"
    # 503: every render slot is busy; the only error worth retrying as it is.
    RENDER_BUSY = "render_busy"
