from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from media_store import conf, views
from media_store.conf import signing_key
from media_store.exceptions import ErrorCode
from media_store.grammar import parse
from media_store.signing import signature, split_target
from media_store.urlbuilder import DEFAULT_EXPIRY

WEBP_ACCEPT = "image/webp,*/*;q=0.8"
AVIF_ACCEPT = "image/avif,image/webp,*/*;q=0.8"


def image_bytes(size=(640, 480), fmt="JPEG", mode="RGB", color=(51, 102, 204)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt)
    return buffer.getvalue()


def signed(url: str) -> str:
    """Sign a local CDN URL the way the storage's URL builder does."""
    path, _, query = url.partition("?")
    target = split_target(unquote(path.removeprefix("/media/")), query)
    sig = signature(target.target + str(DEFAULT_EXPIRY), signing_key())
    return f"{url}{'&' if query else '?'}ik-s={sig}"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def decode(response) -> Image.Image:
    return Image.open(io.BytesIO(body(response)))


def error(response) -> tuple[str, str]:
    """(code, message) of a CDN error response, checking its shape and headers."""
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    payload = response.json()
    assert set(payload) == {"error"}
    return payload["error"]["code"], payload["error"]["message"]


@pytest.fixture
def store():
    def store(name: str, data: bytes) -> str:
        return default_storage.save(name, ContentFile(data))

    return store


@pytest.fixture
def photo(store) -> str:
    return store("images/x.jpg", image_bytes())


@pytest.fixture
def render_calls(monkeypatch) -> list[str]:
    """Count real renders by wrapping the view's render()."""
    calls: list[str] = []
    real = views.render

    def counting(source, transformation, **kwargs):
        calls.append(str(transformation))
        return real(source, transformation, **kwargs)

    monkeypatch.setattr(views, "render", counting)
    return calls


# --- Originals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("images/x.jpg", image_bytes(), "image/jpeg"),
        ("a/b/logo.png", image_bytes(fmt="PNG"), "image/png"),
        ("x.webp", image_bytes(fmt="WEBP"), "image/webp"),
    ],
)
def test_original_served_with_content_type(client, store, name, data, content_type):
    name = store(name, data)

    response = client.get(signed(f"/media/{name}"))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["ETag"]
    assert body(response) == data


def test_original_if_none_match_returns_304(client, photo):
    etag = client.get(signed(f"/media/{photo}"))["ETag"]

    response = client.get(signed(f"/media/{photo}"), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_original_head_has_headers_and_no_body(client, photo):
    response = client.head(f"/media/{photo}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert int(response["Content-Length"]) == default_storage.size(photo)
    assert body(response) == b""


def test_post_not_allowed(client, photo):
    response = client.post(f"/media/{photo}")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert error(response)[0] == ErrorCode.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("url", ["/media/{}?tr=", "/media/tr:/{}", "/media/tr:w-10,orig-true/{}"])
def test_empty_or_orig_chain_serves_original(client, photo, render_calls, url):
    response = client.get(signed(url.format(photo)))

    assert response.status_code == 200
    assert body(response) == default_storage.open(photo).read()
    assert render_calls == []


# --- Transformations -------------------------------------------------------


def test_transformed_path_form_renders_webp(client, photo):
    response = client.get(signed(f"/media/tr:w-120,f-webp/{photo}"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"]
    assert not response.has_header("Vary")
    image = decode(response)
    assert (image.format, image.size) == ("WEBP", (120, 90))


def test_transformed_query_form_keeps_source_format(client, photo):
    response = client.get(signed(f"/media/{photo}?tr=w-50"))

    image = decode(response)
    assert response["Content-Type"] == "image/jpeg"
    assert (image.format, image.width) == ("JPEG", 50)


def test_transformed_url_from_storage_is_served(client, photo):
    from media_store.grammar import parse

    url = default_storage.transformed_url(photo, parse("h-30:f-png"))

    response = client.get(url.removeprefix("http://127.0.0.1:8000"))

    assert decode(response).size == (40, 30)


def test_transformed_path_and_query_together_is_400(client, photo):
    response = client.get(signed(f"/media/tr:w-10/{photo}?tr=w-20"))

    assert response.status_code == 400
    assert error(response)[0] == ErrorCode.INVALID_TRANSFORMATION


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (AVIF_ACCEPT, "image/avif"),
        (WEBP_ACCEPT, "image/webp"),
        ("image/jpeg,*/*", "image/jpeg"),
    ],
)
def test_transformed_auto_format_negotiates_and_varies(client, photo, accept, content_type):
    response = client.get(signed(f"/media/tr:w-20,f-auto/{photo}"), HTTP_ACCEPT=accept)

    assert response["Content-Type"] == content_type
    assert response["Vary"] == "Accept"


def test_transformed_auto_variants_cached_separately(client, photo, render_calls):
    url = f"/media/tr:w-20,f-auto/{photo}"
    webp = client.get(signed(url), HTTP_ACCEPT=WEBP_ACCEPT)
    jpeg = client.get(signed(url), HTTP_ACCEPT="*/*")
    again = client.get(signed(url), HTTP_ACCEPT=WEBP_ACCEPT)

    assert len(render_calls) == 2
    assert webp["ETag"] != jpeg["ETag"]
    assert again["Content-Type"] == "image/webp"


# --- Rendition cache -------------------------------------------------------


def test_transformed_second_request_served_from_cache(client, photo, render_calls, tmp_path):
    url = f"/media/tr:w-120,f-webp/{photo}"
    first = client.get(signed(url))

    second = client.get(signed(url))

    assert render_calls == ["w-120,f-webp"]
    assert second.status_code == 200
    assert second["Content-Type"] == "image/webp"
    assert second["ETag"] == first["ETag"]
    assert body(second) == body(first)
    cached = [p for p in (tmp_path / "renditions").rglob("*") if p.is_file() and p.name[0] != "."]
    assert len(cached) == 1


def test_transformed_if_none_match_returns_304_without_render(client, photo, render_calls):
    url = f"/media/tr:w-10/{photo}"
    etag = client.get(signed(url))["ETag"]

    response = client.get(signed(url), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert len(render_calls) == 1


def test_transformed_replaced_source_renders_again(client, photo, render_calls, media_root):
    url = f"/media/tr:w-10/{photo}"
    client.get(signed(url))
    source = Path(media_root) / photo
    source.write_bytes(image_bytes((200, 100)))
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))

    response = client.get(signed(url))

    assert len(render_calls) == 2
    assert decode(response).size == (10, 5)


def test_transformed_cache_write_failure_still_serves(client, photo, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDITION_CACHE_DIR": blocker}

    response = client.get(signed(f"/media/tr:w-10/{photo}"))

    assert response.status_code == 200
    assert decode(response).width == 10


# --- Errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "key", "code"),
    [
        ("zz-1", "zz", ErrorCode.INVALID_TRANSFORMATION),
        ("w-abc", "w", ErrorCode.INVALID_TRANSFORMATION),
        ("w-10,f-tiff", "f", ErrorCode.INVALID_TRANSFORMATION),
        ("rt-45", "rt", ErrorCode.INVALID_TRANSFORMATION),
        ("w-10:bl-500", "bl", ErrorCode.INVALID_TRANSFORMATION),
        ("w-300,h-300,cm-extract,x-600", "cm", ErrorCode.UNSUPPORTED_TRANSFORMATION),
    ],
)
def test_bad_or_unsupported_chain_is_400_naming_key(client, photo, chain, key, code):
    for url in (f"/media/tr:{chain}/{photo}", f"/media/{photo}?tr={chain}"):
        response = client.get(signed(url))

        assert response.status_code == 400
        assert error(response)[0] == code
        assert f"'{key}" in error(response)[1]


@pytest.mark.parametrize("url", ["/media/missing.jpg", "/media/tr:w-10/missing.jpg", "/media/"])
def test_missing_file_is_404(client, url):
    response = client.get(signed(url))

    assert response.status_code == 404
    assert error(response)[0] == ErrorCode.NOT_FOUND


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file next to MEDIA_ROOT that must never be served."""
    path = tmp_path / "secret.jpg"
    path.write_bytes(image_bytes((20, 20)))
    return path


@pytest.mark.parametrize(
    "url",
    [
        "/media/../secret.jpg",
        "/media/%2e%2e/secret.jpg",
        "/media/images/../../secret.jpg",
        "/media/tr:w-10/../secret.jpg",
        "/media/..%2fsecret.jpg?tr=w-10",
        "/media/%00secret.jpg",
    ],
)
def test_path_outside_media_root_is_404(client, photo, secret, url):
    assert client.get(signed(url)).status_code == 404


def test_symlink_out_of_media_root_is_404(client, photo, secret, media_root):
    (Path(media_root) / "link.jpg").symlink_to(secret)

    assert client.get("/media/link.jpg").status_code == 404


def test_output_over_max_side_is_400(client, photo, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_OUTPUT_SIDE": 100}

    response = client.get(signed(f"/media/tr:w-101/{photo}"))

    assert response.status_code == 400
    assert error(response)[0] == ErrorCode.OUTPUT_TOO_LARGE
    assert client.get(signed(f"/media/tr:w-100/{photo}")).status_code == 200


def test_source_over_pixel_limit_is_422(client, photo, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_SOURCE_PIXELS": 640 * 480 - 1}

    response = client.get(signed(f"/media/tr:w-10/{photo}"))

    assert response.status_code == 422
    assert error(response)[0] == ErrorCode.SOURCE_TOO_LARGE


def test_source_not_an_image_is_422(client, store):
    name = store("notes.txt", b"hello")
    response = client.get(signed(f"/media/tr:w-10/{name}"))

    assert response.status_code == 422
    assert error(response)[0] == ErrorCode.INVALID_SOURCE
    assert client.get(signed(f"/media/{name}")).status_code == 200


# --- Settings --------------------------------------------------------------


def test_settings_merge_over_defaults(settings):
    settings.MEDIA_STORE = {"MAX_OUTPUT_SIDE": 2000}

    assert conf.get("MAX_OUTPUT_SIDE") == 2000
    assert conf.get("DEFAULT_QUALITY") == conf.DEFAULTS["DEFAULT_QUALITY"]


def test_settings_rendition_dir_defaults_next_to_media_root(settings, tmp_path):
    settings.MEDIA_STORE = {}
    settings.MEDIA_ROOT = tmp_path / "m"

    assert conf.rendition_cache_dir() == tmp_path / "renditions"


@pytest.mark.parametrize(
    "media_store",
    [{"MAX_OUTPUT_SIDES": 1}, {"MAX_OUTPUT_SIDE": 0}, {"DEFAULT_QUALITY": 101}],
)
def test_settings_invalid_raises_improperly_configured(settings, media_store):
    settings.MEDIA_STORE = media_store

    with pytest.raises(ImproperlyConfigured):
        conf.media_store_settings()


# --- Signatures and presets -------------------------------------------------


def test_transformed_unsigned_is_403_without_render(client, photo, render_calls):
    for url in (f"/media/tr:w-120/{photo}", f"/media/{photo}?tr=w-120"):
        response = client.get(url)

        assert response.status_code == 403
        assert error(response)[0] == ErrorCode.SIGNATURE_REQUIRED
    assert render_calls == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("w-120", "w-121"),
        lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),
        lambda url: url.replace("x.jpg", "y.jpg"),
    ],
    ids=["chain", "signature", "path"],
)
def test_transformed_tampered_signature_is_403(client, photo, store, tamper):
    store("images/y.jpg", image_bytes())
    url = signed(f"/media/tr:w-120/{photo}")

    assert client.get(url).status_code == 200
    response = client.get(tamper(url))
    assert response.status_code == 403
    assert error(response)[0] == ErrorCode.SIGNATURE_INVALID


def test_transformed_expired_signature_is_403(client, photo, monkeypatch):
    builder = default_storage._url_builder
    monkeypatch.setattr("time.time", lambda: 1_700_000_000)
    expired = builder.build(photo, parse("w-10"), expires_in=60)
    monkeypatch.undo()
    fresh = builder.build(photo, parse("w-10"), expires_in=60)

    assert "ik-t=1700000060" in expired
    response = client.get(expired.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 403
    assert error(response)[0] == ErrorCode.SIGNATURE_EXPIRED
    assert client.get(fresh.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_public_preset_needs_no_signature(client, photo, settings):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"thumb": "w-32,h-32", "big": "w-600"},
        "PUBLIC_PRESETS": ["thumb"],
    }

    public = client.get(f"/media/tr:n-thumb/{photo}")
    private = client.get(f"/media/tr:n-big/{photo}")

    assert public.status_code == 200
    assert decode(public).size == (32, 32)
    assert private.status_code == 403
    assert decode(client.get(signed(f"/media/tr:n-big/{photo}"))).size == (600, 450)


def test_preset_chained_with_other_steps_is_expanded(client, photo, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": {"thumb": "w-32,h-32"}}

    response = client.get(signed(f"/media/tr:n-thumb:f-png/{photo}"))

    assert response["Content-Type"] == "image/png"
    assert decode(response).size == (32, 32)


@pytest.mark.parametrize(
    ("chain", "message"),
    [("n-nope", "no preset named 'nope'"), ("n-thumbnail,w-10", "must be alone")],
)
def test_bad_preset_is_400(client, photo, chain, message):
    response = client.get(f"/media/tr:{chain}/{photo}")

    assert response.status_code == 400
    assert error(response) == (ErrorCode.INVALID_TRANSFORMATION, error(response)[1])
    assert message in error(response)[1]


def test_invalid_preset_setting_is_improperly_configured(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": {"bad": "w-abc"}}

    with pytest.raises(ImproperlyConfigured, match="'bad'"):
        conf.presets()


# --- Cached renditions before the middleware stack ------------------------------


def test_cached_hit_is_answered_by_the_middleware(client, photo, monkeypatch):
    url = signed(f"/media/tr:w-40,f-webp/{photo}")
    first = client.get(url)

    def view_must_not_run(*args, **kwargs):
        raise AssertionError("the view ran for a cached rendition")

    monkeypatch.setattr(views, "_serve_rendition", view_must_not_run)
    second = client.get(url)

    assert second.status_code == 200
    assert second["Content-Type"] == "image/webp"
    assert second["ETag"] == first["ETag"]
    assert second["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body(second) == body(first)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_cached_rendition_still_needs_its_signature(client, photo):
    client.get(signed(f"/media/tr:w-40/{photo}"))

    unsigned = client.get(f"/media/tr:w-40/{photo}")
    wrong = client.get(f"/media/tr:w-40/{photo}?ik-s=0000")

    assert (unsigned.status_code, error(unsigned)[0]) == (403, ErrorCode.SIGNATURE_REQUIRED)
    assert (wrong.status_code, error(wrong)[0]) == (403, ErrorCode.SIGNATURE_INVALID)


def test_cached_rendition_of_replaced_source_is_not_served(client, photo, media_root):
    url = signed(f"/media/tr:w-10/{photo}")
    client.get(url)
    source = Path(media_root) / photo
    source.write_bytes(image_bytes((200, 100)))
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))

    assert decode(client.get(url)).size == (10, 5)
