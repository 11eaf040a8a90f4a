"""What ImageKitStorage makes of ImageKit's failures: RemoteStorageError, for every SDK call.

The local server answers with an error status, drops the connection, or answers
200 with a body the API does not document; the real SDK parses it over HTTP.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from media_store.exceptions import RemoteStorageError
from media_store.imagekit_server import ImageKitServer
from media_store.models import StoredFile
from media_store.storage.imagekit import ImageKitStorage
from tests.conftest import IMAGEKIT_PRIVATE_KEY, make_image_bytes

pytestmark = pytest.mark.django_db

FAST = {"retry-after-ms": "1"}


@pytest.fixture
def storage(imagekit) -> ImageKitStorage:
    return ImageKitStorage(max_retries=1)


@pytest.fixture
def stored(storage) -> str:
    return storage.save("images/kept.jpg", ContentFile(make_image_bytes()))


def save(storage: ImageKitStorage) -> None:
    storage.save("images/new.jpg", ContentFile(make_image_bytes()))


def look_up(storage: ImageKitStorage) -> None:
    storage.lookup_direct_upload("0" * 24)


def list_files(storage: ImageKitStorage) -> None:
    list(storage.iter_files())


def exists(storage: ImageKitStorage) -> None:
    # Not recorded, so asked of the list API.
    storage.exists("images/unrecorded.jpg")


def delete(storage: ImageKitStorage) -> None:
    storage.delete("images/kept.jpg")


def read(storage: ImageKitStorage) -> None:
    storage.open("images/kept.jpg").close()


CALLS = [
    pytest.param("upload", save, id="upload"),
    pytest.param("details", look_up, id="details"),
    pytest.param("list", list_files, id="list"),
    pytest.param("list", exists, id="exists"),
    pytest.param("delete", delete, id="delete"),
]


def fail_503(server: ImageKitServer, endpoint: str) -> None:
    server.faults.fail(endpoint, 503, times=None, headers=FAST)


def drop(server: ImageKitServer, endpoint: str) -> None:
    server.faults.drop(endpoint, times=None)


@pytest.mark.parametrize(("endpoint", "call"), CALLS)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(fail_503, id="503"),
        pytest.param(drop, id="dropped"),
        pytest.param(lambda s, e: s.faults.malformed(e, "not-json", times=None), id="not-json"),
        pytest.param(lambda s, e: s.faults.malformed(e, "text", times=None), id="text"),
        pytest.param(lambda s, e: s.faults.malformed(e, "wrong-shape", times=None), id="shape"),
        pytest.param(lambda s, e: s.faults.malformed(e, "wrong-types", times=None), id="types"),
    ],
)
def test_failing_or_malformed_answer_is_a_retryable_remote_storage_error(
    storage, stored, imagekit, endpoint, call, fault
):
    fault(imagekit, endpoint)

    with pytest.raises(RemoteStorageError, match="try again later") as caught:
        call(storage)

    assert caught.value.retryable
    assert IMAGEKIT_PRIVATE_KEY not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(("endpoint", "call"), CALLS)
def test_refused_key_says_to_check_it_and_not_to_retry(
    storage, stored, imagekit, status, endpoint, call
):
    imagekit.faults.fail(endpoint, status, times=None)

    with pytest.raises(RemoteStorageError) as caught:
        call(storage)

    message = str(caught.value)
    assert not caught.value.retryable
    assert "IMAGEKIT_PRIVATE_KEY" in message
    assert "try again" not in message
    assert IMAGEKIT_PRIVATE_KEY not in message


def test_bad_request_says_what_imagekit_refused(storage, imagekit):
    imagekit.faults.fail("upload", 400, body={"message": "Upload Limit Exceeded."})

    with pytest.raises(RemoteStorageError) as caught:
        save(storage)

    assert not caught.value.retryable
    assert "Upload Limit Exceeded." in str(caught.value)
    assert "try again" not in str(caught.value)


def test_wrong_private_key_is_refused_by_the_server_itself(imagekit):
    storage = ImageKitStorage(private_key="not-the-key")

    with pytest.raises(RemoteStorageError, match="check the private key") as caught:
        save(storage)

    assert not caught.value.retryable
    assert "not-the-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "retryable"),
    [
        pytest.param(lambda s: s.faults.fail("cdn", 503, times=None), True, id="503"),
        pytest.param(lambda s: s.faults.drop("cdn", times=None), True, id="dropped"),
        pytest.param(lambda s: s.faults.fail("cdn", 403, times=None), False, id="403"),
    ],
)
def test_reading_from_a_failing_url_endpoint_is_a_remote_storage_error(
    storage, stored, imagekit, fault, retryable
):
    fault(imagekit)

    with pytest.raises(RemoteStorageError) as caught:
        read(storage)

    assert caught.value.retryable is retryable
    assert ("try again later" in str(caught.value)) is retryable


def test_malformed_delete_answer_keeps_the_record_for_media_gc(storage, stored, imagekit):
    imagekit.faults.malformed("delete", "wrong-shape")

    with pytest.raises(RemoteStorageError):
        storage.delete(stored)

    row = StoredFile.objects.get(name=stored)
    assert row.delete_failed_at is not None
    assert "does not document" in row.last_error


def test_empty_200_delete_answer_counts_as_deleted(storage, stored, imagekit):
    imagekit.faults.fail("delete", 200, body="")

    storage.delete(stored)

    assert not StoredFile.objects.filter(name=stored).exists()
