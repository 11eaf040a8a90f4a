"""Refusals of a GraphQL request as a whole: an HTTP status, a code and a message.

Raised by the view and by what it calls (persisted queries); the view answers
each with :func:`error_response`, JSON in GraphQL's error shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from cross_web import HTTPException
from django.http import JsonResponse

from graphql_limits import ErrorCode


class RequestError(HTTPException):
    """An HTTP-level refusal of a GraphQL request, with its error code (and headers)."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.code = code
        self.headers = dict(headers or {})


def error_response(
    status: int, code: ErrorCode, message: str, headers: Mapping[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]},
        status=status,
        headers=headers,
    )
