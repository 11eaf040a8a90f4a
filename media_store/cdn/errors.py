"""Refusals of the local CDN, and the one JSON shape every error response has."""

from __future__ import annotations

import json

from django.http import HttpResponse

from media_store.exceptions import ErrorCode


class CdnError(Exception):
    """A request the CDN refuses: ``status``, a stable ``code``, and a message
    that says what to change (client-safe: it never echoes paths or keys)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


def error_response(error: CdnError) -> HttpResponse:
    """``{"error": {"code": ..., "message": ...}}`` with the error's status and headers."""
    body = json.dumps({"error": {"code": str(error.code), "message": error.message}})
    response = HttpResponse(body, status=error.status, content_type="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A refusal can change with settings or the source; never cache it as the answer.
    response.headers["Cache-Control"] = "no-store"
    for name, value in error.headers.items():
        response.headers[name] = value
    return response
