"""Authentication: the private key in Basic auth, and client-side upload credentials.

Client-side uploads carry either V1 parameters (publicKey, token, expire and an
HMAC-SHA1 signature of token + expire: nothing else is signed) or, on upload API
V2, a JWT whose payload binds every form field (``UploadTokenAuth``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt

from media_store.imagekit_server.errors import (
    MISSING_KEY,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    TOKEN_PAYLOAD_MISMATCH,
    WRONG_KEY,
    ApiError,
)
from media_store.jwt_keys import hide_short_hmac_key_warning

# Client-side uploads (publicKey + token + expire + signature): ImageKit's wording for
# these is not in the protocol notes, so the messages below are UNVERIFIED.
EXPIRE_INVALID = "The expire parameter should be a Unix time in less than 1 hour into the future."
SIGNATURE_INVALID = "Your request contains invalid signature parameter."
TOKEN_REUSED = "The token parameter has already been used. Generate a new token for each upload."
MAX_EXPIRE_SECONDS = 3600


def check_basic(header: str | None, private_key: str) -> None:
    """Accept ``Basic base64(key:anything)`` or ``Basic <key>``; raise ApiError 401/403.

    Only the part before the first ``:`` is compared: the SDK sends a password
    (``do_not_set``) that ImageKit ignores.
    """
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        raise ApiError(401, MISSING_KEY)
    if _same(token, private_key):
        return
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(403, WRONG_KEY) from None
    username = decoded.partition(":")[0]
    if not username:
        raise ApiError(401, MISSING_KEY)
    if not _same(username, private_key):
        raise ApiError(403, WRONG_KEY)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class ClientUploadAuth:
    """Checks ImageKit's client-side upload parameters; each token is accepted once."""

    def __init__(self, private_key: str, public_key: str) -> None:
        self._private_key = private_key
        self._public_key = public_key
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, form: Mapping[str, str]) -> None:
        """Raise ApiError unless publicKey, token, expire and signature are valid.

        signature = HMAC-SHA1(private key, token + expire), hex, as the SDK's
        ``helper.get_authentication_parameters`` computes it.
        """
        if not self._public_key or not _same(form.get("publicKey", ""), self._public_key):
            raise ApiError(403, WRONG_KEY)
        token = form.get("token", "")
        expire_raw = form.get("expire", "")
        now = time.time()
        try:
            expire = int(expire_raw)
        except ValueError:
            raise ApiError(400, EXPIRE_INVALID) from None
        if not now < expire <= now + MAX_EXPIRE_SECONDS:
            raise ApiError(400, EXPIRE_INVALID)
        expected = hmac.new(
            self._private_key.encode(), f"{token}{expire_raw}".encode(), hashlib.sha1
        ).hexdigest()
        if not token or not _same(form.get("signature", "").lower(), expected):
            raise ApiError(400, SIGNATURE_INVALID)
        with self._lock:
            # Forget tokens whose expiry passed: they cannot validate again anyway.
            self._used = {t: exp for t, exp in self._used.items() if exp > now}
            if token in self._used:
                raise ApiError(400, TOKEN_REUSED)
            self._used[token] = expire


# Upload API V2 tokens. VERIFIED [DOCS] (imagekitio/docs-keep-a-changelog,
# api-reference/upload-file-api/secure-client-side-file-upload.md): a JWT, HS256 with
# the private key, header kid = public key; the payload lists every form field but
# `file` and `token`, as strings, and the request must carry the same set with the
# same values; expiry under an hour; a token is refused the second time, even if its
# first request failed. Messages [SPEC] in errors.py. UNVERIFIED: the status and
# message for a reused token and for a wrong kid (ImageKit documents only "a
# validation error"; 400 and the wordings below are ours), whether iat is required
# (jsonwebtoken always sends it; we require it), how non-string payload values compare.
MAX_TOKEN_LIFETIME = 3600
# Registered claims: in the payload, never form fields.
TOKEN_CLAIMS = frozenset({"iat", "exp"})
V2_TOKEN_REUSED = (
    "Your request contains a token that has already been used. Generate a new token for "
    "each upload."
)


class UploadTokenAuth:
    """Checks upload API V2 tokens against the form they came with; each is accepted once."""

    def __init__(self, private_key: str, public_key: str) -> None:
        self._private_key = private_key
        self._public_key = public_key
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()
        # Also without Django (a bench's child process): ImageKit picks the key's length.
        hide_short_hmac_key_warning()

    def check(self, token: str, fields: Mapping[str, list[str]]) -> None:
        """Raise ApiError 400 unless ``token`` is valid, unused and binds exactly ``fields``.

        ``fields`` maps each form field (``file`` and ``token`` left out) to its
        values: a field sent twice is tampering too.
        """
        if not token:
            raise ApiError(400, TOKEN_MISSING)
        payload = self._verified(token)
        now = time.time()
        with self._lock:
            # The token is spent from here on, whatever happens to this request.
            self._used = {t: exp for t, exp in self._used.items() if exp > now}
            if token in self._used:
                raise ApiError(400, V2_TOKEN_REUSED)
            self._used[token] = float(payload["exp"])
        bound = {key: value for key, value in payload.items() if key not in TOKEN_CLAIMS}
        if set(fields) != set(bound):
            raise ApiError(400, TOKEN_PAYLOAD_MISMATCH)
        for key, values in fields.items():
            if len(values) != 1 or values[0] != _form_value(bound[key]):
                raise ApiError(400, TOKEN_PAYLOAD_MISMATCH)

    def _verified(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise ApiError(400, TOKEN_INVALID) from None
        if not self._public_key or not _same(str(header.get("kid", "")), self._public_key):
            raise ApiError(400, TOKEN_INVALID)
        try:
            # A short key's PyJWT warning is hidden when the server is made (jwt_keys).
            payload = jwt.decode(
                token,
                self._private_key,
                algorithms=["HS256"],
                options={"require": ["exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(400, TOKEN_EXPIRED) from None
        except jwt.InvalidTokenError:
            # Bad signature, another algorithm, missing or malformed iat/exp, iat ahead.
            raise ApiError(400, TOKEN_INVALID) from None
        if not isinstance(payload, dict):
            raise ApiError(400, TOKEN_INVALID)
        lifetime = payload["exp"] - payload["iat"]
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            raise ApiError(400, TOKEN_INVALID)
        return payload


def _form_value(value: Any) -> str:
    """How a payload value reads as a form field: strings as they are (UNVERIFIED for others)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))
