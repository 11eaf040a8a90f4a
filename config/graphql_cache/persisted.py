"""Apollo's automatic persisted queries, stored in the shared cache.

A client sends ``extensions.persistedQuery`` = ``{"version": 1, "sha256Hash":
<hex SHA-256 of the document's UTF-8 text>}``, first without the document. If no
app server has seen it, the answer is the error Apollo Client waits for
(``PersistedQueryNotFound``, code ``PERSISTED_QUERY_NOT_FOUND``); the client then
sends the hash with the document, which is checked against the hash and stored
once it has passed the limits and validation (:func:`remember`), so the next
client, through any app server, sends the hash alone, as a GET a CDN can cache.

In allow-list mode (``GRAPHQL_CACHE['PERSISTED_QUERIES_ONLY']``) clients register
nothing: only documents registered with ``manage.py register_persisted_queries``
(:func:`register`) run, by hash or in full. Those are kept under keys of their
own without expiry, so documents clients registered never count as listed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from config.graphql_cache.conf import get
from config.request_errors import RequestError
from graphql_limits import ErrorCode

# Documents clients register expire, so that anyone sending valid documents cannot
# fill the cache for good; Apollo's client re-sends one it is told is gone.
CLIENT_DOCUMENT_SECONDS = 24 * 3600
CLIENT_PREFIX = "graphql:apq:"
LISTED_PREFIX = "graphql:pq-listed:"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

REGISTER_HINT = (
    "register it with `manage.py register_persisted_queries` (README, Persisted queries)"
)


@dataclass(frozen=True, slots=True)
class PersistedQuery:
    """The ``persistedQuery`` extension of a request, checked."""

    sha256: str
    # The document came with its hash: store it once it has been validated.
    with_document: bool


def document_hash(document: str) -> str:
    """The hex SHA-256 of ``document``'s UTF-8 text, as Apollo's link computes it."""
    return hashlib.sha256(document.encode()).hexdigest()


def read_extension(
    extensions: Mapping[str, Any] | None, query: str | None
) -> PersistedQuery | None:
    """The request's persisted query, or None if it has none.

    Raises RequestError (400) for a malformed extension, a hash that is not the
    document's, or a document too large to store.
    """
    extension = (extensions or {}).get("persistedQuery")
    if extension is None:
        return None
    if not isinstance(extension, Mapping):
        raise _invalid(
            '`extensions.persistedQuery` must be an object: {"version": 1, "sha256Hash": ...}.'
        )
    version = extension.get("version")
    if version != 1 or isinstance(version, bool):
        raise _invalid(f"Persisted query version {version!r} is not supported; send version 1.")
    sha256 = extension.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise _invalid(
            "`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the document "
            "as 64 lowercase hex digits."
        )
    if query is None:
        return PersistedQuery(sha256, with_document=False)
    encoded = query.encode()
    if hashlib.sha256(encoded).hexdigest() != sha256:
        raise RequestError(
            400,
            ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
            "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`; send "
            "the hash of exactly this text (its UTF-8 bytes).",
        )
    check_size(len(encoded))
    return PersistedQuery(sha256, with_document=True)


def load(persisted: PersistedQuery) -> str:
    """The document registered under ``persisted``'s hash.

    Raises RequestError: PERSISTED_QUERY_NOT_FOUND (with status 200, as Apollo
    Server answers, so that Apollo's link re-sends the document), or in allow-list
    mode PERSISTED_QUERY_NOT_IN_LIST (404).
    """
    if get("PERSISTED_QUERIES_ONLY"):
        document = cache.get(LISTED_PREFIX + persisted.sha256)
        if document is None:
            raise RequestError(
                404,
                ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
                "No registered document has this hash, and only registered documents run "
                f"here (GRAPHQL_PERSISTED_QUERIES_ONLY); {REGISTER_HINT}.",
                headers={"Cache-Control": "no-store"},
            )
        return document
    found = cache.get_many([LISTED_PREFIX + persisted.sha256, CLIENT_PREFIX + persisted.sha256])
    if not found:
        # Apollo's link matches this message or the code; a CDN must not keep it.
        raise RequestError(
            200,
            ErrorCode.PERSISTED_QUERY_NOT_FOUND,
            "PersistedQueryNotFound",
            headers={"Cache-Control": "no-store"},
        )
    return next(iter(found.values()))


def check_listed(document: str, persisted: PersistedQuery | None) -> None:
    """In allow-list mode, refuse (403) a document sent in full that is not registered."""
    if not get("PERSISTED_QUERIES_ONLY"):
        return
    sha256 = persisted.sha256 if persisted else document_hash(document)
    if cache.get(LISTED_PREFIX + sha256) is None:
        raise RequestError(
            403,
            ErrorCode.QUERY_NOT_IN_LIST,
            "Only registered documents run here (GRAPHQL_PERSISTED_QUERIES_ONLY), and this "
            f"one is not; {REGISTER_HINT}.",
        )


def remember(persisted: PersistedQuery, document: str) -> None:
    """Store a client's document after it passed the limits and validation.

    In allow-list mode clients register nothing (the document was listed already).
    """
    if persisted.with_document and not get("PERSISTED_QUERIES_ONLY"):
        cache.set(CLIENT_PREFIX + persisted.sha256, document, CLIENT_DOCUMENT_SECONDS)


def register(document: str) -> str:
    """List ``document`` (allow-list mode and every other), without expiry; return its hash.

    The caller validates it first. Raises RequestError if it is too large.
    """
    check_size(len(document.encode()))
    sha256 = document_hash(document)
    cache.set(LISTED_PREFIX + sha256, document, None)
    return sha256


def check_size(size: int) -> None:
    limit = get("MAX_PERSISTED_QUERY_BYTES")
    if size > limit:
        raise RequestError(
            400,
            ErrorCode.PERSISTED_QUERY_TOO_LARGE,
            f"The document is {size} bytes; persisted documents may have at most {limit} "
            "(GRAPHQL_MAX_PERSISTED_QUERY_BYTES). Send it without "
            "`extensions.persistedQuery`, or split it.",
        )


def _invalid(message: str) -> RequestError:
    return RequestError(400, ErrorCode.PERSISTED_QUERY_INVALID, message)
