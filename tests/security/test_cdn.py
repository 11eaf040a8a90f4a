"""Hostile requests to the local CDN: each attack class gets a status, a JSON error code and
a message that says what to fix, and leaves nothing rendered or stored.

The limits are the project's defaults (config.settings), so these cases also pin what
an anonymous client can make the server do.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from media_store.conf import signing_key
from media_store.exceptions import ErrorCode
from media_store.limiter import limiter
from media_store.signing import signature, split_target
from media_store.urlbuilder import DEFAULT_EXPIRY
from tests.utils import png_claiming

pytestmark = pytest.mark.django_db

# Statuses the CDN may answer; anything else (a 500 above all) is a bug.
CDN_STATUSES = {200, 304, 400, 403, 404, 405, 422, 503}


def jpeg(size: tuple[int, int], colour: tuple[int, int, int] = (51, 102, 204)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def signed(url: str, *, expiry: int = DEFAULT_EXPIRY) -> str:
    """Sign a local CDN URL as the storage's URL builder does."""
    path, _, query = url.partition("?")
    target = split_target(unquote(path.removeprefix("/media/")), query)
    sig = signature(target.target + str(expiry), signing_key())
    expiry_param = "" if expiry == DEFAULT_EXPIRY else f"ik-t={expiry}&"
    return f"{url}{'&' if query else '?'}{expiry_param}ik-s={sig}"


def error(response) -> tuple[str, str]:
    """(code, message) of a CDN error, after checking the body's shape and headers."""
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    payload = response.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message"}
    return payload["error"]["code"], payload["error"]["message"]


def assert_refused(response, status: int, code: ErrorCode, *words: str) -> None:
    assert response.status_code == status, response.content[:300]
    got, message = error(response)
    assert got == code
    for word in words:
        assert word in message, message
    if status != 503:
        assert "try again" not in message.lower()


@pytest.fixture
def photo() -> str:
    return default_storage.save("images/photo.jpg", ContentFile(jpeg((640, 480))))


@pytest.fixture
def big_photo() -> str:
    """A 12 MP JPEG, the size of a phone photo."""
    return default_storage.save("images/big.jpg", ContentFile(jpeg((4000, 3000))))


@pytest.fixture
def tiny_photo() -> str:
    return default_storage.save("images/tiny.jpg", ContentFile(jpeg((64, 64))))


@pytest.fixture
def other_photo() -> str:
    return default_storage.save("images/other.jpg", ContentFile(jpeg((640, 480))))


@pytest.fixture
def private_photo() -> str:
    return default_storage.save("private/images/secret.jpg", ContentFile(jpeg((64, 64))))


# --- chains the budget refuses before decoding ---------------------------------------------


def test_chain_of_40_steps_is_refused_unparsed(client, big_photo, no_renditions, nothing_stored):
    chain = ":".join(f"w-{4000 - step},h-{4000 - step},c-force,bl-50" for step in range(40))

    response = client.get(signed(f"/media/tr:{chain}/{big_photo}"))

    assert_refused(response, 400, ErrorCode.CHAIN_TOO_LONG, "40 steps", "MAX_CHAIN_STEPS", "5")


def test_chain_over_the_step_limit_via_presets_is_refused(
    client, photo, settings, no_renditions, nothing_stored
):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"three": "w-300:w-200:w-100"},
        "PUBLIC_PRESETS": ["three"],
    }

    response = client.get(f"/media/tr:n-three:n-three/{photo}")

    assert_refused(response, 400, ErrorCode.CHAIN_TOO_LONG, "6 steps", "presets expanded")


def test_chain_string_over_the_length_limit_is_refused(client, photo, no_renditions):
    chain = "w-100," + ",".join(["e-grayscale"] * 400)

    response = client.get(signed(f"/media/tr:{chain}/{photo}"))

    assert_refused(response, 400, ErrorCode.INVALID_TRANSFORMATION, "characters long")


@pytest.mark.parametrize(
    "chain",
    [
        "w-4000,h-4000,c-force,bl-100",
        "w-4000,h-4000,c-force,bl-50:w-3999,h-3999,c-force,bl-50",
        "w-3000,h-3000,c-force,e-sharpen-100:bl-100:e-sharpen-100",
    ],
    ids=["blur", "blur-chain", "sharpen-blur"],
)
def test_blur_heavy_chain_is_refused_naming_the_work_limit(
    client, big_photo, chain, no_renditions, nothing_stored
):
    response = client.get(signed(f"/media/tr:{chain}/{big_photo}"))

    assert_refused(
        response, 400, ErrorCode.RENDER_BUDGET_EXCEEDED, "MAX_RENDER_WORK", "smaller output"
    )


@pytest.mark.parametrize(
    ("chain", "option"),
    [
        ("w-4096,h-4096,c-force", "MAX_RENDER_MEMORY"),
        ("w-4096,h-4096,c-force,f-png", "MAX_RENDER_WORK"),
        ("w-4096,h-4096,cm-pad_resize,bg-FF000050,f-png", "MAX_RENDER_WORK"),
        ("w-64,dpr-5:w-4000,h-4000,c-force,r-max", "MAX_RENDER_WORK"),
    ],
)
def test_upscaling_chain_is_refused_naming_its_limit(
    client, tiny_photo, chain, option, no_renditions, nothing_stored
):
    response = client.get(signed(f"/media/tr:{chain}/{tiny_photo}"))

    assert_refused(response, 400, ErrorCode.RENDER_BUDGET_EXCEEDED, option)


def test_public_preset_still_obeys_the_budget(
    client, settings, tiny_photo, no_renditions, nothing_stored
):
    # Given a public preset that is cheap for a photo but huge for this chain of presets
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"poster": "w-4096,h-4096,c-force,bl-80"},
        "PUBLIC_PRESETS": ["poster"],
    }

    # When anyone asks for it without a signature
    response = client.get(f"/media/tr:n-poster/{tiny_photo}")

    # Then it is refused before decoding, like a signed chain
    assert_refused(response, 400, ErrorCode.RENDER_BUDGET_EXCEEDED, "MAX_RENDER_")


def test_output_over_max_side_is_refused(client, photo, no_renditions, nothing_stored):
    response = client.get(signed(f"/media/tr:w-5000/{photo}"))

    assert_refused(response, 400, ErrorCode.OUTPUT_TOO_LARGE, "4096")


def test_decompression_bomb_header_is_refused_before_decoding(
    client, store_bomb, no_renditions, nothing_stored
):
    response = client.get(signed(f"/media/tr:w-100/{store_bomb}"))

    assert_refused(response, 422, ErrorCode.SOURCE_TOO_LARGE, "MAX_SOURCE_PIXELS")


@pytest.fixture
def store_bomb() -> str:
    """A PNG whose header claims 30000x30000 pixels (900 MP) with almost no data."""
    return default_storage.save("images/bomb.png", ContentFile(png_claiming(30000, 30000)))


def test_not_an_image_is_422(client, no_renditions):
    name = default_storage.save("images/notes.jpg", ContentFile(b"<html>hello</html>"))

    response = client.get(signed(f"/media/tr:w-100/{name}"))

    assert_refused(response, 422, ErrorCode.INVALID_SOURCE, "not a readable image")


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["/media/tr:w-120/{}", "/media/{}?tr=w-120"])
def test_unsigned_transformation_is_403(client, photo, form, no_renditions, nothing_stored):
    response = client.get(form.format(photo))

    assert_refused(response, 403, ErrorCode.SIGNATURE_REQUIRED, "ik-s", "URL the API gave you")


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda url: url.replace("w-120", "w-2000"), ErrorCode.SIGNATURE_INVALID),
        (lambda url: url[:-4] + "0000", ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.replace("photo.jpg", "other.jpg"), ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.replace("ik-s=", "ik-t=abc&ik-s="), ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.replace("ik-s=", "ik-t=%C2%B2&ik-s="), ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.replace("ik-s=", f"ik-t={'9' * 5000}&ik-s="), ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.split("ik-s=")[0] + "ik-s=%E9%E9%E9", ErrorCode.SIGNATURE_INVALID),
        (lambda url: url.split("ik-s=")[0] + "ik-s=", ErrorCode.SIGNATURE_REQUIRED),
    ],
    ids=[
        "chain",
        "signature",
        "path",
        "ik-t-text",
        "ik-t-unicode",
        "ik-t-huge",
        "ik-s-latin1",
        "empty",
    ],
)
def test_tampered_signature_is_403(
    client, photo, other_photo, tamper, code, no_renditions, nothing_stored
):
    url = signed(f"/media/tr:w-120/{photo}")

    response = client.get(tamper(url))

    assert_refused(response, 403, code, "URL the API gave you")


def test_raw_latin1_bytes_in_ik_t_are_403(photo, no_renditions):
    # QUERY_STRING is Latin-1: a raw 0xB2 byte arrives as "²", which str.isdigit() accepts.
    url = signed(f"/media/tr:w-120/{photo}").replace("ik-s=", "ik-t=\xb2&ik-s=")
    path, _, query = url.partition("?")

    response = Client().generic("GET", path, QUERY_STRING=query)

    assert_refused(response, 403, ErrorCode.SIGNATURE_INVALID)


def test_expired_signature_is_403(client, photo, no_renditions, nothing_stored):
    response = client.get(signed(f"/media/tr:w-120/{photo}", expiry=1_700_000_000))

    assert_refused(response, 403, ErrorCode.SIGNATURE_EXPIRED, "new URL")


@pytest.mark.parametrize(
    "form", ["/media/{}", "/media/tr:w-10/{}", "/media/{}?tr=w-10", "/media/tr:orig-true/{}"]
)
def test_private_file_without_signature_is_403(
    client, private_photo, form, no_renditions, nothing_stored
):
    response = client.get(form.format(private_photo))

    assert_refused(response, 403, ErrorCode.SIGNATURE_REQUIRED)


@pytest.mark.parametrize(
    "path",
    ["/media/images/../private/images/secret.jpg", "/media/./private/images/secret.jpg"],
)
def test_private_file_behind_dot_segments_is_not_served(
    client, private_photo, path, no_renditions, nothing_stored
):
    response = client.get(path)

    assert response.status_code in (403, 404)
    assert error(response)[0] in (ErrorCode.SIGNATURE_REQUIRED, ErrorCode.NOT_FOUND)


# --- names -----------------------------------------------------------------------------------


@pytest.fixture
def secret(tmp_path):
    """A file next to MEDIA_ROOT that must never be served."""
    path = tmp_path / "secret.jpg"
    path.write_bytes(jpeg((20, 20)))
    return path


@pytest.mark.parametrize(
    "url",
    [
        "/media/../secret.jpg",
        "/media/%2e%2e/secret.jpg",
        "/media/images/../../secret.jpg",
        "/media/tr:w-10/../secret.jpg",
        "/media/..%2fsecret.jpg?tr=w-10",
        "/media/%2e%2e%2fsecret.jpg",
        "/media//etc/passwd",
        "/media/tr:w-10//etc/passwd",
    ],
)
def test_path_traversal_is_404(client, photo, secret, url, no_renditions, nothing_stored):
    response = client.get(signed(url))

    assert_refused(response, 404, ErrorCode.NOT_FOUND, "No stored file")


@pytest.mark.parametrize(
    "url",
    [
        "/media/%00secret.jpg",
        "/media/images/photo.jpg%00.png",
        "/media/tr:w-10/images/photo.jpg%00",
        "/media/" + "a" * 5000 + ".jpg",
        "/media/tr:w-10/" + "a/" * 600 + "x.jpg",
        "/media/" + "%F0%9F%92%A9" * 300,
        "/media/images/%ff%fe.jpg",
        "/media/",
        "/media/tr:w-10/",
    ],
    ids=["nul", "nul-suffix", "nul-tr", "long", "deep", "emoji", "bad-utf8", "empty", "tr-empty"],
)
def test_weird_name_is_404(client, photo, url, no_renditions, nothing_stored):
    response = client.get(signed(url))

    assert_refused(response, 404, ErrorCode.NOT_FOUND)


# --- chains in the URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("/media/tr:w-10/{}?tr=w-20", ErrorCode.INVALID_TRANSFORMATION, ("not both",)),
        ("/media/{}?tr=w-10&tr=w-20", ErrorCode.INVALID_TRANSFORMATION, ("once",)),
        ("/media/tr:w-10%00/{}", ErrorCode.INVALID_TRANSFORMATION, ("'w'",)),
        ("/media/{}?tr=w-%ZZ", ErrorCode.INVALID_TRANSFORMATION, ("'w'",)),
        ("/media/{}?tr=w-%ff", ErrorCode.INVALID_TRANSFORMATION, ("'w'",)),
        ("/media/tr:w-1e9/{}", ErrorCode.INVALID_TRANSFORMATION, ("'w'",)),
        ("/media/tr:w-99999999999999/{}", ErrorCode.INVALID_TRANSFORMATION, ("'w'",)),
        ("/media/tr::::/{}", ErrorCode.INVALID_TRANSFORMATION, ()),
        ("/media/tr:n-../{}", ErrorCode.INVALID_TRANSFORMATION, ("'n'",)),
        ("/media/{}?tr=n-nope", ErrorCode.INVALID_TRANSFORMATION, ("no preset named",)),
        ("/media/tr:w-10,f-tiff/{}", ErrorCode.INVALID_TRANSFORMATION, ("'f'",)),
        ("/media/tr:w-300,h-300,cm-extract,x-600/{}", ErrorCode.UNSUPPORTED_TRANSFORMATION, ()),
    ],
    ids=[
        "both-forms",
        "tr-twice",
        "nul-in-chain",
        "bad-percent",
        "latin1-percent",
        "exponent",
        "huge-number",
        "empty-steps",
        "preset-traversal",
        "unknown-preset",
        "unknown-format",
        "crop-outside",
    ],
)
def test_bad_chain_is_400(client, photo, url, code, words, no_renditions, nothing_stored):
    response = client.get(signed(url.format(photo)))

    assert_refused(response, 400, code, *words)


@pytest.mark.parametrize(
    "accept",
    ["", "\x00", "image/webp;q=abc", "image/avif;q=-1, image/webp", "*/*;" * 2000, "画像/webp"],
    ids=["empty", "nul", "bad-q", "negative-q", "huge", "unicode"],
)
def test_garbage_accept_header_still_negotiates(client, photo, accept):
    response = client.get(signed(f"/media/tr:w-40,f-auto/{photo}"), HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/webp", "image/avif", "image/jpeg")
    assert response["Vary"] == "Accept"


# --- methods and headers ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(client, photo, method, no_renditions, nothing_stored):
    response = client.generic(method, f"/media/tr:w-40/{photo}")

    assert_refused(response, 405, ErrorCode.METHOD_NOT_ALLOWED, "GET and HEAD")
    assert response["Allow"] == "GET, HEAD"


def test_head_of_rendition_has_headers_and_no_body(client, photo):
    response = client.head(signed(f"/media/tr:w-40/{photo}"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b""


def test_head_of_refused_rendition_is_the_same_refusal(client, photo, no_renditions):
    response = client.head(f"/media/tr:w-40/{photo}")

    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_RANGE": "bytes=0-10"},
        {"HTTP_RANGE": "bytes=99999999-"},
        {"HTTP_RANGE": "garbage"},
        {"HTTP_IF_NONE_MATCH": "garbage"},
        {"HTTP_IF_NONE_MATCH": '"' + "x" * 10000},
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MODIFIED_SINCE": "yesterday"},
        {"HTTP_IF_MATCH": '"nope"'},
    ],
    ids=["range", "range-past-end", "range-garbage", "inm", "inm-long", "inm-star", "ims", "im"],
)
def test_odd_conditional_or_range_headers_never_fail(client, photo, headers):
    url = signed(f"/media/tr:w-40/{photo}")
    # Once rendering (the view), once from the cache (the middleware).
    for _ in range(2):
        response = client.get(url, **headers)

        assert response.status_code in (200, 304, 412)


# --- the cache is only a cache ---------------------------------------------------------------


def test_cached_rendition_is_not_served_without_its_signature(client, photo):
    url = signed(f"/media/tr:w-40/{photo}")
    assert client.get(url).status_code == 200

    unsigned = client.get(f"/media/tr:w-40/{photo}")
    forged = client.get(url[:-4] + "0000")

    assert_refused(unsigned, 403, ErrorCode.SIGNATURE_REQUIRED)
    assert_refused(forged, 403, ErrorCode.SIGNATURE_INVALID)


# --- concurrency -----------------------------------------------------------------------------


def test_render_without_a_free_slot_is_503_with_retry_after(
    client, photo, settings, no_renditions, nothing_stored
):
    # Given every render slot held (here by the test itself)
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDER_QUEUE_TIMEOUT": 0.05}
    with limiter().slot(0, timeout=1), limiter().slot(0, timeout=1):
        assert limiter().running == limiter().slots == 2
        # When a render is asked for
        response = client.get(signed(f"/media/tr:w-41/{photo}"))

    # Then it is refused at once, and the refusal says when to come back
    assert_refused(response, 503, ErrorCode.RENDER_BUSY, "try again later")
    assert response["Retry-After"] == "1"


def test_cached_rendition_is_served_while_every_slot_is_busy(client, photo, settings):
    url = signed(f"/media/tr:w-42/{photo}")
    assert client.get(url).status_code == 200
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDER_QUEUE_TIMEOUT": 0.05}

    with limiter().slot(0, timeout=1), limiter().slot(0, timeout=1):
        response = client.get(url)
        head = client.head(url)  # HEAD goes past the middleware, to the view's cache lookup

    assert response.status_code == 200
    assert head.status_code == 200


def test_eight_concurrent_heavy_renders_never_exceed_the_slots(big_photo):
    # Given 8 anonymous clients asking at once for 8 different costly renditions
    # the budget allows (each about 0.3-0.6 s of CPU)
    urls = [signed(f"/media/tr:w-{1500 + index},f-webp/{big_photo}") for index in range(8)]
    most = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, limiter().running)
            done.wait(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    barrier = threading.Barrier(len(urls))

    def fetch(url: str):
        barrier.wait()
        return Client().get(url)

    try:
        with ThreadPoolExecutor(len(urls)) as pool:
            responses = list(pool.map(fetch, urls))
    finally:
        done.set()
        watcher.join()

    # Then at most MAX_CONCURRENT_RENDERS ran at once; the others were told to come back
    assert most <= limiter().slots
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 1
    for response in responses:
        if response.status_code == 503:
            assert_refused(response, 503, ErrorCode.RENDER_BUSY)
            assert response["Retry-After"]
        else:
            assert response["Content-Type"] == "image/webp"


# --- fuzz ------------------------------------------------------------------------------------

_URL_PIECES = st.sampled_from(
    [
        "tr:",
        "w-",
        "h-",
        "100",
        "0.5",
        ",",
        ":",
        "/",
        "..",
        ".",
        "%",
        "%00",
        "%2f",
        "%2e",
        "%ff",
        "?",
        "&",
        "tr=",
        "ik-s=",
        "ik-t=",
        "n-",
        "thumbnail",
        "images",
        "photo.jpg",
        "private/",
        "f-auto",
        "bl-100",
        "e-sharpen",
        "orig-true",
        "é",
        "\u202e",
        " ",
        "+",
        "#",
        "\\",
        "~",
        "zz",
        "-",
        "9" * 12,
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pieces=st.lists(_URL_PIECES, max_size=12),
    text=st.text(max_size=20),
    sign=st.booleans(),
)
def test_fuzzed_urls_never_fail(client, photo, pieces, text, sign):
    url = "/media/" + "".join(pieces) + quote(text, safe="/:?&=%")
    url = url.split("#")[0]
    if sign:
        url = signed(url)

    response = client.get(url)

    assert response.status_code in CDN_STATUSES
    if response.status_code >= 400:
        code, message = error(response)
        assert code in set(ErrorCode)
        assert message
