from __future__ import annotations

import re

import httpx
import pytest
from imagekitio import BadRequestError, ImageKit, NotFoundError

from media_store.imagekit_server import ImageKitServer
from media_store.imagekit_server.errors import (
    FILE_IDS_EMPTY,
    FILE_IDS_MISSING,
    FILE_IDS_NOT_ARRAY,
    FILE_IDS_TOO_MANY,
    FILE_NOT_FOUND,
    FILES_NOT_FOUND,
)
from tests.media_store.imagekit_server.conftest import PRIVATE_KEY, image_bytes

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_get_details_fields(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.files.upload(
        file=image_bytes((20, 10), mode="RGBA"), file_name="alpha.png", tags=["t"]
    )

    raw = client.files.with_raw_response.get(uploaded.file_id)
    body = raw.json()

    assert raw.status_code == 200
    assert body["type"] == "file"
    assert body["fileId"] == uploaded.file_id
    assert body["mime"] == "image/png"
    assert body["hasAlpha"] is True
    assert (body["width"], body["height"], body["size"]) == (20, 10, uploaded.size)
    assert body["thumbnail"] == uploaded.thumbnail_url
    assert body["url"] == uploaded.url
    assert body["tags"] == ["t"]
    assert body["customMetadata"] == {}
    assert ISO_MS.match(body["createdAt"])
    assert ISO_MS.match(body["updatedAt"])
    assert raw.headers["x-ik-requestId"]


def test_get_details_parsed_by_the_sdk(client: ImageKit) -> None:
    uploaded = client.files.upload(file=b"text", file_name="a.txt")

    details = client.files.get(uploaded.file_id)

    assert details.created_at is not None
    assert details.created_at.tzinfo is not None
    assert details.file_type == "non-image"
    assert details.mime == "text/plain"
    assert details.version_info.name == "Version 1"


def test_get_missing_file_is_not_found(client: ImageKit) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.files.get("0" * 24)

    assert caught.value.body["message"] == FILE_NOT_FOUND


def test_get_id_with_a_slash_is_not_found(client: ImageKit) -> None:
    with pytest.raises(NotFoundError):
        client.files.get("a/b")


def test_delete_returns_204_then_get_is_not_found(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.files.upload(file=b"x", file_name="gone.txt")
    blob = server.store.blob_path(server.store.get(uploaded.file_id))

    raw = client.files.with_raw_response.delete(uploaded.file_id)

    assert raw.status_code == 204
    assert raw.http_response.content == b""
    assert not blob.exists()
    with pytest.raises(NotFoundError):
        client.files.get(uploaded.file_id)


def test_delete_missing_file_is_not_found(client: ImageKit) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.files.delete("0" * 24)

    assert caught.value.body["message"] == FILE_NOT_FOUND


def test_bulk_delete_all_found_is_200(client: ImageKit, server: ImageKitServer) -> None:
    ids = [client.files.upload(file=b"x", file_name=f"{i}.txt").file_id for i in range(3)]

    raw = client.files.bulk.with_raw_response.delete(file_ids=ids)

    assert raw.status_code == 200
    assert raw.json() == {"successfullyDeletedFileIds": ids}
    assert server.store.files() == []


def test_bulk_delete_some_missing_is_207(client: ImageKit, server: ImageKitServer) -> None:
    kept = client.files.upload(file=b"x", file_name="a.txt").file_id
    missing = "0" * 24

    raw = client.files.bulk.with_raw_response.delete(file_ids=[kept, missing])

    assert raw.status_code == 207
    assert raw.json()["successfullyDeletedFileIds"] == [kept]
    assert raw.json()["errors"] == [{"fileId": missing, "error": FILE_NOT_FOUND}]
    assert raw.parse().successfully_deleted_file_ids == [kept]


def test_bulk_delete_all_missing_is_404(client: ImageKit) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.files.bulk.delete(file_ids=["0" * 24, "1" * 24])

    assert caught.value.body["message"] == FILES_NOT_FOUND
    assert caught.value.body["missingFileIds"] == ["0" * 24, "1" * 24]


@pytest.mark.parametrize(
    ("file_ids", "message"),
    [([], FILE_IDS_EMPTY), ([f"{i:024x}" for i in range(101)], FILE_IDS_TOO_MANY)],
)
def test_bulk_delete_invalid_ids_via_sdk(
    client: ImageKit, file_ids: list[str], message: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.files.bulk.delete(file_ids=file_ids)

    assert caught.value.body["message"] == message


@pytest.mark.parametrize(
    ("body", "message"),
    [({}, FILE_IDS_MISSING), ({"fileIds": "abc"}, FILE_IDS_NOT_ARRAY)],
)
def test_bulk_delete_invalid_body(server: ImageKitServer, body: dict, message: str) -> None:
    response = httpx.post(
        f"{server.url}/v1/files/batch/deleteByFileIds", auth=(PRIVATE_KEY, ""), json=body
    )

    assert response.status_code == 400
    assert response.json()["message"] == message


def test_restarted_server_sees_the_same_files(tmp_path) -> None:
    with ImageKitServer(root=tmp_path, private_key=PRIVATE_KEY) as first:
        client = first.client(max_retries=0)
        uploaded = client.files.upload(file=b"persisted", file_name="p.txt")

    with ImageKitServer(root=tmp_path, private_key=PRIVATE_KEY) as second:
        details = second.client(max_retries=0).files.get(uploaded.file_id)
        served = httpx.get(f"{second.url_endpoint}{details.file_path}")

    assert details.name == uploaded.name
    assert served.content == b"persisted"
