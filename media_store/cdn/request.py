"""Parse and authorise a local CDN URL: the one parser the middleware and the view share.

A CDN URL is MEDIA_URL followed by ``tr:<chain>/<name>``, ``<name>?tr=<chain>``
or ``<name>``. :func:`parse_request` checks, cheapest first: the chain
(length, grammar, presets expanded, MAX_CHAIN_STEPS, renderer support), the
name, then the signature where one is needed (a transformation that is not
only public presets, or a private file). It reads no file; every refusal is
a CdnError.
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.http import HttpRequest

from appsettings import derived_from
from media_store.cdn.errors import CdnError
from media_store.conf import PRIVATE_PREFIX, get, media_store_settings, signing_key
from media_store.exceptions import ErrorCode, InvalidTransformationError
from media_store.grammar import Transformation, parse
from media_store.presets import expand, only_public_presets
from media_store.rendering import (
    Negotiated,
    UnsupportedTransformationError,
    compile_spec,
)
from media_store.rendering.formats import variant
from media_store.signing import SignatureError, SignatureExpiredError, split_target, verify

# Longer names and chains than any URL the API builds; refused unread.
MAX_NAME_LENGTH = 1024
MAX_CHAIN_LENGTH = 2048

_USE_THE_API_URL = "Use the URL the API gave you, unchanged."


@dataclass(frozen=True, slots=True)
class Chain:
    """What one chain string means, worked out once per string."""

    requested: Transformation
    transformation: Transformation  # presets expanded
    format: str | None  # the chain's ``f``, if any
    original: bool  # empty, or orig-true: serve the stored bytes
    public: bool  # only public presets: renders without a signature


@dataclass(frozen=True, slots=True)
class CdnRequest:
    """An authorised CDN request; nothing about the stored file is known yet."""

    name: str  # storage name, as in the URL after percent-decoding
    transformation: Transformation  # presets expanded; empty for an original
    negotiated: Negotiated | None  # None: serve the stored bytes
    accept: str


def media_path(request: HttpRequest) -> str | None:
    """The request's path after MEDIA_URL (still as signed), or None outside it."""
    prefix = urlsplit(settings.MEDIA_URL).path
    if not request.path.startswith(prefix):
        return None
    return request.path[len(prefix) :]


def parse_request(request: HttpRequest) -> CdnRequest:
    """Parse and authorise ``request``; raises CdnError (400, 403 or 404)."""
    rest = media_path(request)
    query = request.META.get("QUERY_STRING", "")
    spec, name = _split(rest or "", query)
    chain = _chain(spec)
    _check_name(name)
    accept = request.headers.get("Accept", "")
    negotiated = None
    if not chain.original:
        negotiated = Negotiated(variant(chain.format, accept), chain.format == "auto")
    private = posixpath.normpath(name).startswith(PRIVATE_PREFIX)
    if private or (negotiated is not None and not chain.public):
        # Rendering costs CPU: only URLs this server signed (or public presets) get it.
        _verify(rest or "", query)
    return CdnRequest(name, chain.transformation, negotiated, accept)


def _split(rest: str, query: str) -> tuple[str, str]:
    """(chain, name) from ``tr:<chain>/<name>`` or ``<name>?tr=<chain>``."""
    in_query = [unquote_plus(part[3:]) for part in query.split("&") if part.startswith("tr=")]
    if len(in_query) > 1:
        raise CdnError(
            ErrorCode.INVALID_TRANSFORMATION,
            "Give ?tr= once; chain steps with ':' inside one value.",
        )
    if rest.startswith("tr:"):
        if in_query:
            raise CdnError(
                ErrorCode.INVALID_TRANSFORMATION,
                "Give the transformation either in the path (tr:...) or in ?tr=, not both.",
            )
        spec, _, name = rest[3:].partition("/")
        return spec, name
    return (in_query[0] if in_query else ""), rest


def _check_name(name: str) -> None:
    """Refuse names no stored file can have, before touching the disk."""
    parts = name.split("/")
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or "\0" in name
        or name.startswith("/")
        or ".." in parts
        or not _encodable(name)
    ):
        raise CdnError(
            ErrorCode.NOT_FOUND,
            "No stored file has this name. Check the path after the media URL.",
            status=404,
        )


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable bytes
        return False
    return True


# Presets, public presets and MAX_CHAIN_STEPS are read into the cached chains.
@derived_from(media_store_settings)
@functools.lru_cache(maxsize=1024)
def _chain(spec: str) -> Chain:
    """Parse, expand and check ``spec``; cached per string (a listing repeats a few)."""
    max_steps = get("MAX_CHAIN_STEPS")
    if len(spec) > MAX_CHAIN_LENGTH:
        raise CdnError(
            ErrorCode.INVALID_TRANSFORMATION,
            f"The transformation is {len(spec)} characters long; at most {MAX_CHAIN_LENGTH}"
            " are read. Use fewer steps or a preset (n-<name>).",
        )
    # Presets only add steps: a chain with too many ':' is refused unparsed.
    if spec.count(":") + 1 > max_steps:
        raise _too_long(spec.count(":") + 1, max_steps)
    try:
        requested = parse(spec)
        transformation = expand(requested)
    except InvalidTransformationError as e:
        raise CdnError(ErrorCode.INVALID_TRANSFORMATION, describe(e, e.key)) from e
    if len(transformation.steps) > max_steps:
        raise _too_long(len(transformation.steps), max_steps)
    try:
        compiled = compile_spec(transformation)
    except UnsupportedTransformationError as e:
        raise CdnError(ErrorCode.UNSUPPORTED_TRANSFORMATION, describe(e, e.key)) from e
    return Chain(
        requested,
        transformation,
        compiled.format,
        original=compiled.original or not transformation,
        public=only_public_presets(requested),
    )


def _too_long(steps: int, max_steps: int) -> CdnError:
    return CdnError(
        ErrorCode.CHAIN_TOO_LONG,
        f"The chain has {steps} steps (presets expanded); at most {max_steps} are allowed"
        " (MAX_CHAIN_STEPS). Fold steps together: one step can resize, crop and apply"
        " effects at once.",
    )


def describe(error: Exception, key: str | None) -> str:
    """A short client message about a bad chain that always names the offending key."""
    message = str(error)
    if key and key not in message:
        message = f"{key}: {message}"
    return f"Invalid transformation: {message}"


def _verify(rest: str, query: str) -> None:
    # The signature covers the URL after MEDIA_URL, as the storage's builder made it.
    signed = split_target(rest, query)
    if not signed.signature:
        raise CdnError(
            ErrorCode.SIGNATURE_REQUIRED,
            "This URL needs this server's signature (ik-s): transformations other than"
            f" public presets, and private files, are signed. {_USE_THE_API_URL}",
            status=403,
        )
    try:
        verify(signed, signing_key())
    except SignatureExpiredError as e:
        raise CdnError(
            ErrorCode.SIGNATURE_EXPIRED,
            "The URL has expired (ik-t is in the past). Ask the API for a new URL.",
            status=403,
        ) from e
    except SignatureError as e:
        raise CdnError(ErrorCode.SIGNATURE_INVALID, f"{e} {_USE_THE_API_URL}", status=403) from e
