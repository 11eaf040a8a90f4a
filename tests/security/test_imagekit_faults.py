"""ImageKit failing, or answering what its API does not document, under each call the
catalog makes: a clear OperationInfo (never a 500 or "Unexpected error."), and
nothing stored (``nothing_stored`` also checks the local ImageKit server's files).

Faults come from the local server over real HTTP: error statuses, dropped
connections, and 200 answers that are not JSON or JSON of the wrong shape.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Image
from media_store.models import StoredFile
from tests.conftest import IMAGEKIT_PRIVATE_KEY, make_image_bytes
from tests.utils import (
    ERROR_FIELDS,
    UPLOAD_AUTH_SELECTION,
    browser_upload,
    errors,
    multipart_upload,
    run,
)

pytestmark = pytest.mark.django_db

FAST = {"retry-after-ms": "1"}

UPLOAD = f"""
mutation Upload($file: Upload!) {{
  uploadImage(file: $file) {{ __typename ... on Image {{ id }} {ERROR_FIELDS} }}
}}
"""

UPLOAD_AUTH = f"""
mutation {{ imagekitUploadAuth {{
  __typename ... on ImageUploadAuth {{ {UPLOAD_AUTH_SELECTION} }} {ERROR_FIELDS}
}} }}
"""

REGISTER = f"""
mutation Register($fileId: String!) {{
  registerUploadedImage(fileId: $fileId) {{ __typename ... on Image {{ id }} {ERROR_FIELDS} }}
}}
"""

# Each fault, for every request to the endpoint until the test ends.
FAULTS = [
    pytest.param(lambda s, e: s.faults.fail(e, 503, times=None, headers=FAST), id="503"),
    pytest.param(lambda s, e: s.faults.malformed(e, "not-json", times=None), id="200-not-json"),
    pytest.param(lambda s, e: s.faults.malformed(e, "text", times=None), id="200-html"),
    pytest.param(
        lambda s, e: s.faults.malformed(e, "wrong-shape", times=None), id="200-wrong-shape"
    ),
    pytest.param(
        lambda s, e: s.faults.malformed(e, "wrong-types", times=None), id="200-wrong-types"
    ),
    pytest.param(lambda s, e: s.faults.drop(e, times=None), id="dropped-connection"),
]


@pytest.fixture
def headers(editor_token) -> dict:
    return {"Authorization": f"Bearer {editor_token}"}


@pytest.fixture
def fast_storage(settings, imagekit):
    """One retry, short timeouts: a failing ImageKit is reported quickly."""
    settings.IMAGEKIT_MAX_RETRIES = 1
    settings.IMAGEKIT_UPLOAD_TIMEOUT = 2.0
    settings.STORAGES = {**settings.STORAGES}  # rebuild the storage with these options
    return imagekit


@pytest.fixture
def uploaded(client, headers, fast_storage) -> dict:
    """A browser upload waiting to be registered: ImageKit's answer."""
    auth = run(client, UPLOAD_AUTH, {}, headers)
    response = browser_upload(auth, make_image_bytes((400, 300)))
    assert response.status_code == 200, response.text
    return response.json()


def upload(client, headers) -> dict:
    response = multipart_upload(client, UPLOAD, content=make_image_bytes(), **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["uploadImage"]


def only_message(result: dict) -> str:
    (message,) = result["messages"]
    return message["message"]


@pytest.mark.parametrize("fault", FAULTS)
def test_upload_when_imagekit_fails_is_storage_unavailable(
    client, headers, fast_storage, fault, nothing_stored
):
    fault(fast_storage, "upload")

    result = upload(client, headers)

    assert errors(result) == [("file", "storage_unavailable")]
    text = only_message(result)
    assert "try again later" in text
    assert "Unexpected error" not in text
    assert IMAGEKIT_PRIVATE_KEY not in text


@pytest.mark.parametrize("kind", ["not-json", "wrong-shape"])
def test_upload_when_one_of_two_files_gets_a_malformed_answer_keeps_neither(
    client, headers, fast_storage, kind, nothing_stored
):
    # The original and the small variant go up together: one answer is garbage.
    fast_storage.faults.malformed("upload", kind, times=1)

    result = upload(client, headers)

    assert errors(result) == [("file", "storage_unavailable")]
    assert len(fast_storage.requests.entries("upload")) == 2


@pytest.mark.parametrize("status", [401, 403])
def test_upload_with_a_refused_key_says_to_check_it(
    client, headers, fast_storage, status, nothing_stored
):
    fast_storage.faults.fail("upload", status, times=None)

    result = upload(client, headers)

    assert errors(result) == [("file", "storage_unavailable")]
    text = only_message(result)
    assert "check the private key (IMAGEKIT_PRIVATE_KEY)" in text
    assert "try again" not in text
    assert IMAGEKIT_PRIVATE_KEY not in text


@pytest.mark.parametrize("fault", FAULTS)
def test_register_when_details_fail_is_storage_unavailable(
    client, headers, uploaded, fast_storage, fault, nothing_stored
):
    fault(fast_storage, "details")

    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    assert errors(result) == [("fileId", "storage_unavailable")]
    assert "try again later" in only_message(result)


def test_register_after_a_failure_succeeds_with_the_same_file_id(
    client, headers, uploaded, fast_storage
):
    # The browser's upload is kept: once ImageKit answers, the same fileId registers.
    fast_storage.faults.malformed("details", "wrong-shape")
    failed = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    retried = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    assert errors(failed) == [("fileId", "storage_unavailable")]
    assert retried["__typename"] == "Image"
    assert Image.objects.get().image.name == f"uploads/{uploaded['name']}"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda s: s.faults.fail("cdn", 503, times=None), id="503"),
        pytest.param(lambda s: s.faults.drop("cdn", times=None), id="dropped-connection"),
    ],
)
def test_register_when_the_download_fails_is_storage_unavailable(
    client, headers, uploaded, fast_storage, fault, nothing_stored
):
    fault(fast_storage)

    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    assert errors(result) == [("fileId", "storage_unavailable")]
    assert "try again later" in only_message(result)


@pytest.mark.parametrize("fault", FAULTS)
def test_register_when_the_small_variant_upload_fails_is_storage_unavailable(
    client, headers, uploaded, fast_storage, fault, nothing_stored
):
    fault(fast_storage, "upload")

    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    assert errors(result) == [("fileId", "storage_unavailable")]
    assert "try again later" in only_message(result)


@pytest.mark.parametrize("fault", FAULTS)
def test_delete_failing_after_a_refused_registration_is_left_to_media_gc(
    client, headers, fast_storage, fault
):
    # given: a damaged image in the upload folder, which registering deletes
    auth = run(client, UPLOAD_AUTH, {}, headers)
    whole = make_image_bytes((640, 480))
    damaged = browser_upload(auth, whole[: len(whole) // 2]).json()
    fault(fast_storage, "delete")

    # when: the deletion fails
    result = run(client, REGISTER, {"fileId": damaged["fileId"]}, headers)

    # then: the answer is still the image's fault, nothing is registered, and
    # media_gc removes the file once ImageKit answers again
    assert errors(result) == [("fileId", "invalid_image")]
    assert Image.objects.count() == StoredFile.objects.count() == 0
    fast_storage.faults.reset()
    call_command("media_gc", "--grace-hours=0", "--delete", stdout=StringIO())
    assert fast_storage.store.files() == []


@pytest.mark.parametrize("fault", FAULTS)
def test_delete_failing_after_an_image_is_deleted_is_retried_by_media_gc(
    client, headers, fast_storage, fault, django_capture_on_commit_callbacks
):
    # given: an image, then ImageKit failing deletions
    assert upload(client, headers)["__typename"] == "Image"
    image = Image.objects.get()
    fault(fast_storage, "delete")

    # when: the row goes, and its files' deletion (after commit) fails
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()

    # then: both deletions are queued, with a message to show, and media_gc finishes them
    failed = StoredFile.objects.filter(delete_failed_at__isnull=False)
    assert set(failed.values_list("name", flat=True)) == {image.image.name, image.image_xs.name}
    assert all("try again later" in row.last_error for row in failed)
    assert len(fast_storage.store.files()) == 2
    fast_storage.faults.reset()
    out = StringIO()
    call_command("media_gc", "--delete", stdout=out)
    assert "earlier deletion failed" in out.getvalue()
    assert fast_storage.store.files() == []
    assert StoredFile.objects.count() == 0
