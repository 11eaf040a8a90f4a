from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from imagekitio import BadRequestError, ImageKit
from PIL import Image as PILImage

from media_store.imagekit_server import ImageKitServer
from media_store.imagekit_server.app import SPOOL_MAX_MEMORY
from media_store.imagekit_server.errors import FILE_EXISTS, FILE_TOO_LARGE, MISSING_FILE
from tests.media_store.imagekit_server.conftest import (
    PRIVATE_KEY,
    NonSeekable,
    image_bytes,
    stored_bytes,
)
from tests.utils import png_claiming

SUFFIXED = re.compile(r"^photo_[A-Za-z0-9_-]{8}\.jpg$")


def test_upload_bytes_stores_identical_bytes(client: ImageKit, server: ImageKitServer) -> None:
    data = image_bytes(fmt="JPEG")

    uploaded = client.files.upload(file=data, file_name="photo.jpg")

    assert stored_bytes(server, uploaded.file_id) == data
    assert uploaded.size == len(data)
    assert re.fullmatch(r"[0-9a-f]{24}", uploaded.file_id)


def test_upload_open_file_stores_identical_bytes(
    client: ImageKit, server: ImageKitServer, tmp_path
) -> None:
    path = tmp_path / "large.bin"
    path.write_bytes(bytes(range(256)) * 12288)  # 3 MiB: past the in-memory spool

    with path.open("rb") as handle:
        uploaded = client.files.upload(file=handle, file_name="large.bin")

    assert stored_bytes(server, uploaded.file_id) == path.read_bytes()
    assert server.requests.entries("upload")[-1].body_size > SPOOL_MAX_MEMORY


def test_upload_non_seekable_stream_is_chunked_and_identical(
    client: ImageKit, server: ImageKitServer
) -> None:
    data = b"chunked-body " * 50_000

    uploaded = client.files.upload(
        file=("stream.txt", NonSeekable(data), "text/plain"), file_name="stream.txt"
    )

    assert stored_bytes(server, uploaded.file_id) == data
    logged = server.requests.entries("upload")[-1]
    assert logged.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in logged.headers


def test_upload_response_fields_for_an_image(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.files.upload(
        file=image_bytes((64, 48)),
        file_name="shot.png",
        folder="products/shoes",
        tags=["red", "sale"],
        custom_metadata={"sku": "A1"},
        response_fields=["customMetadata"],
    )

    body = uploaded.model_dump(by_alias=True, exclude_unset=True)
    assert body["filePath"] == f"/products/shoes/{uploaded.name}"
    assert body["url"] == f"{server.url_endpoint}{body['filePath']}"
    assert body["thumbnailUrl"] == f"{server.url_endpoint}/tr:n-ik_ml_thumbnail{body['filePath']}"
    assert (body["width"], body["height"]) == (64, 48)
    assert body["fileType"] == "image"
    assert body["versionInfo"] == {"id": uploaded.file_id, "name": "Version 1"}
    assert body["tags"] == ["red", "sale"]
    assert body["customMetadata"] == {"sku": "A1"}
    assert body["AITags"] is None
    assert body["customCoordinates"] is None
    assert (body["isPrivateFile"], body["isPublished"]) == (False, True)
    assert "mime" not in body


def test_upload_of_a_huge_image_reports_its_size_without_decoding(client: ImageKit) -> None:
    # 100 megapixels: past Pillow's warning threshold, below its refusal. The probe
    # reads the header only; Pillow's warning goes to the process's filters as usual
    # (the probe no longer swaps them, which raced with other threads).
    with pytest.warns(PILImage.DecompressionBombWarning):
        uploaded = client.files.upload(file=png_claiming(10_000, 10_000), file_name="huge.png")

    body = uploaded.model_dump(by_alias=True, exclude_unset=True)
    assert (body["fileType"], body["width"], body["height"]) == ("image", 10_000, 10_000)


def test_upload_of_an_image_past_pillows_limit_is_an_image_without_size(
    client: ImageKit,
) -> None:
    uploaded = client.files.upload(file=png_claiming(20_000, 20_000), file_name="bomb.png")

    body = uploaded.model_dump(by_alias=True, exclude_unset=True)
    assert (body["fileType"], body["width"], body["height"]) == ("image", None, None)


def test_upload_custom_metadata_only_when_requested(client: ImageKit) -> None:
    uploaded = client.files.upload(file=b"x", file_name="a.txt", custom_metadata={"k": 1})

    assert "customMetadata" not in uploaded.model_dump(by_alias=True, exclude_unset=True)


def test_upload_non_image_has_no_dimensions(client: ImageKit) -> None:
    uploaded = client.files.upload(file=b"%PDF-1.4 not really", file_name="doc.pdf")

    body = uploaded.model_dump(by_alias=True, exclude_unset=True)
    assert body["fileType"] == "non-image"
    assert "width" not in body
    assert "height" not in body


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("my photo (1).jpg", "my_photo__1_.jpg"),
        ("a+b&c=d.png", "a_b_c_d.png"),
        ("naïve-café.JPG", "naïve-café.JPG"),
        ("日本語.png", "日本語.png"),
        ("under_score.v2.tar.gz", "under_score.v2.tar.gz"),
        ("../../etc/passwd", ".._.._etc_passwd"),
    ],
)
def test_upload_file_name_sanitised(client: ImageKit, file_name: str, expected: str) -> None:
    uploaded = client.files.upload(file=b"x", file_name=file_name, use_unique_file_name=False)

    assert uploaded.name == expected


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (None, "/"),
        ("/", "/"),
        ("a/b", "/a/b/"),
        ("//a//b//", "/a/b/"),
        ("my folder/../x", "/my_folder/__/x/"),
    ],
)
def test_upload_folder_normalised(client: ImageKit, folder: str | None, expected: str) -> None:
    kwargs = {} if folder is None else {"folder": folder}

    uploaded = client.files.upload(
        file=b"x", file_name="f.txt", use_unique_file_name=False, **kwargs
    )

    assert uploaded.file_path == f"{expected}f.txt"


def test_upload_unique_suffix_by_default(client: ImageKit) -> None:
    first = client.files.upload(file=b"1", file_name="photo.jpg")
    second = client.files.upload(file=b"2", file_name="photo.jpg")

    assert SUFFIXED.match(first.name)
    assert SUFFIXED.match(second.name)
    assert first.name != second.name
    assert first.file_id != second.file_id


def test_upload_same_path_without_unique_name_adds_a_version(
    client: ImageKit, server: ImageKitServer
) -> None:
    first = client.files.upload(
        file=b"old", file_name="a.txt", use_unique_file_name=False, tags=["keep"]
    )

    second = client.files.upload(
        file=b"new", file_name="a.txt", use_unique_file_name=False, overwrite_tags=False
    )

    assert second.file_id == first.file_id
    assert second.version_info.name == "Version 2"
    assert second.version_info.id != first.version_info.id
    assert second.tags == ["keep"]
    assert stored_bytes(server, first.file_id) == b"new"


def test_upload_overwrite_false_refused(client: ImageKit) -> None:
    client.files.upload(file=b"old", file_name="a.txt", use_unique_file_name=False)

    with pytest.raises(BadRequestError) as caught:
        client.files.upload(
            file=b"new", file_name="a.txt", use_unique_file_name=False, overwrite_file=False
        )

    assert caught.value.status_code == 400
    assert caught.value.body["message"] == FILE_EXISTS


def test_upload_empty_file_refused(client: ImageKit, server: ImageKitServer) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.files.upload(file=b"", file_name="empty.txt")

    assert caught.value.body["message"] == MISSING_FILE
    assert server.store.files() == []


def test_upload_missing_file_part_refused(server: ImageKitServer) -> None:
    response = httpx.post(
        f"{server.url}/api/v1/files/upload",
        auth=(PRIVATE_KEY, ""),
        files={"fileName": (None, "a.txt")},
    )

    assert response.status_code == 400
    assert response.json()["message"] == MISSING_FILE


def test_upload_over_the_size_limit_refused(tmp_path) -> None:
    with ImageKitServer(root=tmp_path, private_key=PRIVATE_KEY, max_file_size=10) as small:
        client = ImageKit(private_key=PRIVATE_KEY, base_url=small.url, max_retries=0)

        with pytest.raises(BadRequestError) as caught:
            client.files.upload(file=b"x" * 11, file_name="big.bin")

        assert caught.value.body["message"] == FILE_TOO_LARGE
        assert small.store.files() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("isPrivateFile", "yes"), ("customMetadata", "{not json"), ("transformation", "[]")],
)
def test_upload_invalid_field_refused(server: ImageKitServer, field: str, value: str) -> None:
    response = httpx.post(
        f"{server.url}/api/v1/files/upload",
        auth=(PRIVATE_KEY, ""),
        files={"file": ("a.txt", b"x"), "fileName": (None, "a.txt"), field: (None, value)},
    )

    assert response.status_code == 400
    assert field in response.json()["message"]


def test_upload_base64_file_field(server: ImageKitServer) -> None:
    data = image_bytes()

    response = httpx.post(
        f"{server.url}/api/v1/files/upload",
        auth=(PRIVATE_KEY, ""),
        files={"file": (None, base64.b64encode(data).decode()), "fileName": (None, "b.png")},
    )

    assert response.status_code == 200
    assert stored_bytes(server, response.json()["fileId"]) == data


def test_upload_client_side_signature_accepted_once(
    client: ImageKit, server: ImageKitServer
) -> None:
    params = client.helper.get_authentication_parameters()
    form = {
        "fileName": (None, "c.txt"),
        "publicKey": (None, server.public_key),
        "token": (None, params["token"]),
        "expire": (None, str(params["expire"])),
        "signature": (None, params["signature"]),
    }
    url = f"{server.url}/api/v1/files/upload"

    first = httpx.post(url, files={**form, "file": ("c.txt", b"c")})
    replay = httpx.post(url, files={**form, "file": ("c.txt", b"c")})

    assert first.status_code == 200
    assert replay.status_code == 400


def test_upload_client_side_bad_signature_refused(client: ImageKit, server: ImageKitServer) -> None:
    params = client.helper.get_authentication_parameters()

    response = httpx.post(
        f"{server.url}/api/v1/files/upload",
        files={
            "file": ("c.txt", b"c"),
            "fileName": (None, "c.txt"),
            "publicKey": (None, server.public_key),
            "token": (None, params["token"]),
            "expire": (None, str(params["expire"])),
            "signature": (None, "0" * 40),
        },
    )

    assert response.status_code == 400
    assert server.store.files() == []


def test_concurrent_uploads_to_one_path_become_versions(
    client: ImageKit, server: ImageKitServer
) -> None:
    def upload(i: int):
        return client.files.upload(
            file=f"v{i}".encode(), file_name="same.txt", use_unique_file_name=False
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(upload, range(16)))

    assert len({r.file_id for r in results}) == 1
    assert sorted(int(r.version_info.name.split()[1]) for r in results) == list(range(1, 17))
    (record,) = server.store.files()
    assert record.version_number == 16
    assert [p.name for p in server.store.blob_dir.iterdir()] == [record.version_id]


def test_concurrent_unique_uploads_get_distinct_names(client: ImageKit) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: client.files.upload(file=b"x", file_name="p.jpg"), range(16))
        )

    assert len({r.file_path for r in results}) == 16
