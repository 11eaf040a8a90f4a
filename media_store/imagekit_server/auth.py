"""Authentication: the private key in Basic auth, and client-side upload signatures."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping

from media_store.imagekit_server.errors import MISSING_KEY, WRONG_KEY, ApiError

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
