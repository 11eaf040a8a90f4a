"""ImageKit's JSON error bodies, and the exception handlers raise to produce one.

Messages marked [SPEC] are copied from ImageKit's OpenAPI spec (see
/work/shared/imagekit-protocol.md); the others are this emulator's own wording
because ImageKit's is not documented.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

# ImageKit's SDK fixtures write a space before the period; keep it byte-identical.
HELP = "For support kindly contact us at support@imagekit.io ."

# [SPEC] components/responses and the per-endpoint errors.
MISSING_KEY = "Your request does not contain private API key."
WRONG_KEY = "Your account cannot be authenticated."
FILE_NOT_FOUND = "The requested file does not exist."
FILES_NOT_FOUND = "The requested file(s) does not exist."
MISSING_FILE = "Your request is missing file parameter."
FILE_TOO_LARGE = "Your request contains invalid file parameter. The file size exceeds limits."
INVALID_TRANSFORMATION = (
    "The file could not be uploaded because the transformation field is invalid."
)
FILE_EXISTS = (
    "A file with the same name already exists at the exact location. We could not overwrite it "
    "because both overwriteFile and useUniqueFileName are set to false."
)
CHECKS_SYNTAX = "Your request contains invalid syntax for the checks parameter."
CHECKS_FAILED = "Your request failed 'checks' validation."
# [SPEC] POST /api/v2/files/upload.
TOKEN_MISSING = "Your request is missing token parameter."
TOKEN_EXPIRED = "Your request contains expired token."
TOKEN_INVALID = "Your request has invalid token."
TOKEN_PAYLOAD_MISMATCH = (
    "Your request contains invalid payload. It does not match with the payload used to "
    "generate token."
)
TOKEN_AND_KEY = (
    "Your request contains both token and basic auth parameter. Use only one method, you "
    "might be exposing your private API key."
)
FILE_IDS_MISSING = "fileIds parameter is missing."
FILE_IDS_TOO_MANY = "fileIds cannot have more than 100 items."
FILE_IDS_NOT_ARRAY = "fileIds should be an Array."
FILE_IDS_EMPTY = "fileIds is empty."


class ApiError(Exception):
    """Raised inside a handler to answer with an ImageKit error body.

    ``extra`` adds fields next to ``message`` and ``help`` (``missingFileIds``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        return error_response(self.status, self.message, headers=self.headers, **self.extra)


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json; charset=utf-8",
    )


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    """``{"message": ..., "help": ..., **extra}`` with ``status``."""
    return json_response({"message": message, "help": HELP, **extra}, status, headers)
