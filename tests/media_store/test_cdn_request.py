"""The one CDN request parser: chain from the path or ?tr=, name, presets, signature."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.test import RequestFactory

from media_store.cdn.errors import CdnError, error_response
from media_store.cdn.request import parse_request
from media_store.conf import signing_key
from media_store.exceptions import ErrorCode
from media_store.signing import signature, split_target
from media_store.urlbuilder import DEFAULT_EXPIRY


def signed(url: str) -> str:
    path, _, query = url.partition("?")
    target = split_target(unquote(path.removeprefix("/media/")), query)
    sig = signature(target.target + str(DEFAULT_EXPIRY), signing_key())
    return f"{url}{'&' if query else '?'}ik-s={sig}"


def request(url: str, accept: str = ""):
    return RequestFactory().get(url, HTTP_ACCEPT=accept)


@pytest.mark.parametrize(
    ("url", "name", "chain", "variant"),
    [
        ("/media/images/x.jpg", "images/x.jpg", "", None),
        ("/media/tr:w-10/images/x.jpg", "images/x.jpg", "w-10", "orig"),
        ("/media/images/x.jpg?tr=w-10,f-webp", "images/x.jpg", "w-10,f-webp", "webp"),
        ("/media/tr:w-10,f-auto/images/x.jpg", "images/x.jpg", "w-10,f-auto", "auto-webp"),
        ("/media/tr:orig-true/images/x.jpg", "images/x.jpg", "orig-true", None),
        ("/media/tr:/images/x.jpg", "images/x.jpg", "", None),
        ("/media/images/x.jpg?tr=", "images/x.jpg", "", None),
        ("/media/a%20b.jpg?tr=w-10", "a b.jpg", "w-10", "orig"),
    ],
)
def test_parse_request_reads_name_chain_and_variant(url, name, chain, variant):
    parsed = parse_request(request(signed(url), accept="image/webp"))

    assert parsed.name == name
    assert str(parsed.transformation) == chain
    assert (parsed.negotiated and parsed.negotiated.variant) == variant


def test_parse_request_expands_presets(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": {"thumb": "w-32,h-32"}}

    parsed = parse_request(request(signed("/media/tr:n-thumb:f-png/x.jpg")))

    assert str(parsed.transformation) == "w-32,h-32:f-png"


def test_parse_request_public_preset_needs_no_signature(settings):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"thumb": "w-32", "big": "w-900"},
        "PUBLIC_PRESETS": ["thumb"],
    }

    assert str(parse_request(request("/media/tr:n-thumb/x.jpg")).transformation) == "w-32"
    with pytest.raises(CdnError) as refused:
        parse_request(request("/media/tr:n-big/x.jpg"))
    assert refused.value.code == ErrorCode.SIGNATURE_REQUIRED


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/media/tr:w-10/x.jpg", 403, ErrorCode.SIGNATURE_REQUIRED),
        ("/media/private/x.jpg", 403, ErrorCode.SIGNATURE_REQUIRED),
        ("/media/x.jpg?tr=w-10&ik-s=abc", 403, ErrorCode.SIGNATURE_INVALID),
        ("/media/x.jpg?tr=w-10&ik-t=1&ik-s=abc", 403, ErrorCode.SIGNATURE_EXPIRED),
        ("/media/tr:zz-1/x.jpg", 400, ErrorCode.INVALID_TRANSFORMATION),
        ("/media/tr:w-1:w-2:w-3:w-4:w-5:w-6/x.jpg", 400, ErrorCode.CHAIN_TOO_LONG),
        ("/media/tr:w-10,f-tiff/x.jpg", 400, ErrorCode.INVALID_TRANSFORMATION),
        ("/media/tr:w-10/x.jpg?tr=w-10", 400, ErrorCode.INVALID_TRANSFORMATION),
        ("/media/../x.jpg", 404, ErrorCode.NOT_FOUND),
        ("/media/tr:w-10", 404, ErrorCode.NOT_FOUND),
    ],
)
def test_parse_request_refusals(url, status, code):
    with pytest.raises(CdnError) as refused:
        parse_request(request(url))

    assert (refused.value.status, refused.value.code) == (status, code)
    assert refused.value.message


def test_parse_request_checks_cheap_things_before_the_signature():
    # An unsigned chain that could never render is refused for what it is.
    with pytest.raises(CdnError) as refused:
        parse_request(request("/media/tr:w-abc/x.jpg"))

    assert refused.value.code == ErrorCode.INVALID_TRANSFORMATION


def test_parse_request_cached_chains_follow_setting_changes(settings):
    url = signed("/media/tr:w-1:w-2:w-3/x.jpg")
    assert parse_request(request(url))

    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_CHAIN_STEPS": 2}

    with pytest.raises(CdnError) as refused:
        parse_request(request(url))
    assert refused.value.code == ErrorCode.CHAIN_TOO_LONG


def test_error_response_is_json_with_code_message_and_headers():
    response = error_response(
        CdnError(ErrorCode.RENDER_BUSY, "busy", status=503, headers={"Retry-After": "1"})
    )

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert response["Retry-After"] == "1"
    assert response.content == b'{"error": {"code": "render_busy", "message": "busy"}}'
