"""ImageKit's URL signatures: ``ik-s`` (HMAC-SHA1 hex) and the optional ``ik-t`` expiry.

The URL builder signs; the local CDN view and the ImageKit emulator verify.
A signature covers the URL after the endpoint (still percent-encoded, with
its query minus ``ik-t``/``ik-s``) followed by the expiry, as the SDK signs it.
No Django imports.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote

from media_store.urlbuilder import DEFAULT_EXPIRY, URL_PATH_SAFE

# ik-t is a Unix time; DEFAULT_EXPIRY (the SDK's "never") has 10 digits.
_EXPIRY_DIGITS = 12


def signature(message: str, key: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha1).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedTarget:
    """What a request carries: the signed part, and ``ik-t``/``ik-s`` if present."""

    target: str
    expiry: str | None
    signature: str | None


def split_target(path: str, query_string: str, *, encoded: bool = False) -> SignedTarget:
    """Split a request into its signed text and its signature parameters.

    ``path`` is the path after the endpoint's path (no leading "/"),
    ``query_string`` the raw query. A decoded path is re-encoded exactly as the
    builder encodes it, so ``decode`` then ``encode`` gives back what was signed;
    an ``encoded`` (raw) path is taken as it is.
    """
    kept, expiry, sig = [], None, None
    for part in query_string.split("&") if query_string else ():
        if part.startswith("ik-t="):
            expiry = part[5:]
        elif part.startswith("ik-s="):
            sig = part[5:]
        else:
            kept.append(part)
    target = path if encoded else quote(path, safe=URL_PATH_SAFE)
    if kept:
        target = f"{target}?{'&'.join(kept)}"
    return SignedTarget(target, expiry, sig)


class SignatureError(ValueError):
    """A URL's signature is missing, wrong or expired."""


class SignatureExpiredError(SignatureError):
    """A URL's ``ik-t`` is in the past."""


def verify(signed: SignedTarget, key: str, *, now: float | None = None) -> None:
    """Raise SignatureError unless ``signed`` carries a valid, unexpired signature."""
    if not signed.signature:
        raise SignatureError("The URL is not signed.")
    expiry = signed.expiry or str(DEFAULT_EXPIRY)
    # ASCII digits only, and few: str.isdigit() takes "²", which int() refuses, and
    # int() refuses strings past 4300 digits.
    if not (expiry.isascii() and expiry.isdigit() and len(expiry) <= _EXPIRY_DIGITS):
        raise SignatureError("The URL's ik-t is not a timestamp.")
    if int(expiry) < (time.time() if now is None else now):
        raise SignatureExpiredError("The URL has expired.")
    expected = signature(signed.target + expiry, key)
    # compare_digest raises TypeError for non-ASCII text; such a signature is wrong anyway.
    given = signed.signature
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise SignatureError("The URL's signature does not match.")
