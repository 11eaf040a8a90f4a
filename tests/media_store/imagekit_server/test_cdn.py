from __future__ import annotations

import io
import time
from types import SimpleNamespace

import httpx
import pytest
from imagekitio import ImageKit
from imagekitio.lib import helper
from PIL import Image

from media_store.imagekit_server import ImageKitServer
from tests.media_store.imagekit_server.conftest import image_bytes


@pytest.fixture
def photo(client: ImageKit):
    return client.files.upload(file=image_bytes((80, 60), "JPEG"), file_name="photo.jpg")


def size_of(response: httpx.Response) -> tuple[int, int]:
    return Image.open(io.BytesIO(response.content)).size


def test_original_is_byte_identical(client: ImageKit, server: ImageKitServer) -> None:
    data = image_bytes((80, 60), "JPEG")
    uploaded = client.files.upload(file=data, file_name="photo.jpg", folder="a b/c")

    response = httpx.get(uploaded.url)

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-ik-requestId"]


def test_original_of_a_non_image(client: ImageKit) -> None:
    uploaded = client.files.upload(file=b"hello", file_name="notes.txt")

    response = httpx.get(uploaded.url)

    assert response.content == b"hello"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_head_has_no_body(photo) -> None:
    response = httpx.head(photo.url)

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == photo.size


def test_conditional_get_is_304(photo) -> None:
    etag = httpx.get(photo.url).headers["etag"]

    assert httpx.get(photo.url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("position", ["path", "query"])
def test_transformation_resizes(
    client: ImageKit, server: ImageKitServer, photo, position: str
) -> None:
    url = client.helper.build_url(
        src=photo.file_path,
        url_endpoint=server.url_endpoint,
        transformation=[{"width": 40, "format": "png"}],
        transformation_position=position,  # type: ignore[typeddict-item]
    )

    response = httpx.get(url)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert size_of(response) == (40, 30)


def test_thumbnail_url_serves_a_thumbnail(photo) -> None:
    response = httpx.get(photo.thumbnail_url)

    assert response.status_code == 200
    assert size_of(response) == (100, 100)


def test_orig_true_serves_the_original(server: ImageKitServer, photo) -> None:
    response = httpx.get(f"{server.url_endpoint}/tr:w-10,orig-true{photo.file_path}")

    assert response.content == httpx.get(photo.url).content


@pytest.mark.parametrize(
    "suffix",
    ["/tr:w-abc{path}", "/tr:w-10{path}?tr=h-10", "/tr:n-unknown{path}", "{path}?tr=zz-1"],
)
def test_bad_transformation_is_400(server: ImageKitServer, photo, suffix: str) -> None:
    response = httpx.get(server.url_endpoint + suffix.format(path=photo.file_path))

    assert response.status_code == 400
    assert response.json()["message"]


def test_transforming_a_non_image_is_400(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.files.upload(file=b"hello", file_name="notes.txt")

    response = httpx.get(f"{server.url_endpoint}/tr:w-10{uploaded.file_path}")

    assert response.status_code == 400


def test_missing_file_is_404(server: ImageKitServer) -> None:
    assert httpx.get(f"{server.url_endpoint}/nope.jpg").status_code == 404
    assert httpx.get(f"{server.url}/cdn/other-endpoint/nope.jpg").status_code == 404


@pytest.mark.parametrize("position", ["path", "query"])
def test_signed_url_accepted(client: ImageKit, server: ImageKitServer, photo, position) -> None:
    url = client.helper.build_url(
        src=photo.file_path,
        url_endpoint=server.url_endpoint,
        transformation=[{"width": 20}],
        transformation_position=position,
        signed=True,
    )

    response = httpx.get(url)

    assert "ik-s=" in url
    assert response.status_code == 200, response.text


def test_signed_url_with_expiry_accepted(client: ImageKit, server: ImageKitServer, photo) -> None:
    url = client.helper.build_url(
        src=photo.file_path, url_endpoint=server.url_endpoint, expires_in=300
    )

    assert "ik-t=" in url
    assert httpx.get(url).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("w-20", "w-21"),
        lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),
        lambda url: url.replace("ik-s=", "x=1&ik-s="),
    ],
)
def test_tampered_signed_url_is_401(
    client: ImageKit, server: ImageKitServer, photo, tamper
) -> None:
    url = client.helper.build_url(
        src=photo.file_path,
        url_endpoint=server.url_endpoint,
        transformation=[{"width": 20}],
        signed=True,
    )

    response = httpx.get(tamper(url))

    assert response.status_code == 401


def test_expired_signed_url_is_401(
    client: ImageKit, server: ImageKitServer, photo, monkeypatch
) -> None:
    # Build the URL "an hour ago": swap only the SDK helper's clock, not the process's.
    an_hour_ago = time.time() - 3600
    monkeypatch.setattr(helper, "time", SimpleNamespace(time=lambda: an_hour_ago))
    url = client.helper.build_url(
        src=photo.file_path, url_endpoint=server.url_endpoint, expires_in=60
    )
    monkeypatch.undo()

    response = httpx.get(url)

    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_private_file_needs_a_signed_url(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.files.upload(file=b"secret", file_name="s.txt", is_private_file=True)
    signed = client.helper.build_url(
        src=uploaded.file_path, url_endpoint=server.url_endpoint, signed=True
    )

    unsigned = httpx.get(uploaded.url)
    allowed = httpx.get(signed)

    assert unsigned.status_code == 401
    assert allowed.content == b"secret"
    assert "no-store" in allowed.headers["cache-control"]


def test_unpublished_file_is_404(client: ImageKit) -> None:
    uploaded = client.files.upload(file=b"draft", file_name="d.txt", is_published=False)

    assert httpx.get(uploaded.url).status_code == 404


# --- Named transformations (the dashboard's) ------------------------------------------


def test_named_transformations_are_served_next_to_the_built_in_ones(tmp_path) -> None:
    named = {"card": "w-40,h-30", "tall": "w-30:rt-90"}
    with ImageKitServer(root=tmp_path, named_transformations=named) as server:
        client = server.client(max_retries=0)
        photo = client.files.upload(file=image_bytes((80, 60), "JPEG"), file_name="p.jpg")

        card = httpx.get(f"{server.url_endpoint}/tr:n-card:f-png{photo.file_path}")
        tall = httpx.get(f"{server.url_endpoint}/tr:n-tall{photo.file_path}")
        thumbnail = httpx.get(photo.thumbnail_url)

    assert (card.headers["content-type"], size_of(card)) == ("image/png", (40, 30))
    assert size_of(tall) == (23, 30)
    assert size_of(thumbnail) == (100, 100)


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ("n-card", "named transformation 'card' does not exist"),
        ("n-ik_ml_thumbnail,w-10", "must be alone in its step"),
    ],
)
def test_bad_named_transformation_is_400(server, photo, chain: str, message: str) -> None:
    response = httpx.get(f"{server.url_endpoint}/tr:{chain}{photo.file_path}")

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_invalid_named_transformation_is_refused_at_start(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"'card' is invalid: step 2 'h-0'"):
        ImageKitServer(root=tmp_path, named_transformations={"card": "w-10:h-0"})
