"""GraphQL multipart requests (uploads) from clients that may not upload, with
too much data, or with broken framing: refused with a JSON 4xx, often before a
byte of the body is read, and never with anything stored."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.client import ClientHandler, encode_multipart

from catalog.models import Image
from config.views import MULTIPART_OVERHEAD
from graphql_limits import ErrorCode
from tests.conftest import make_image_bytes
from tests.utils import GRAPHQL_URL

pytestmark = pytest.mark.django_db

UPLOAD = """mutation($file: Upload!) { uploadImage(file: $file) {
  __typename ... on Image { name } ... on OperationInfo { messages { code message } } } }"""
BOUNDARY = "BoUnDaRy"


class Tripwire(io.RawIOBase):
    """A request body that records how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


def multipart_body(**parts) -> bytes:
    return encode_multipart(BOUNDARY, parts)


def upload_parts(content: bytes = b"", **operations) -> dict:
    return {
        "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}, **operations}),
        "map": json.dumps({"0": ["variables.file"]}),
        "0": SimpleUploadedFile("photo.jpg", content or make_image_bytes(), "image/jpeg"),
    }


def send(body: bytes, *, content_length: int | None = None, token: str | None = None):
    """POST ``body`` through Django's handler; return (response, bytes of the body read)."""
    stream = Tripwire(body)
    environ = RequestFactory()._base_environ(
        PATH_INFO=GRAPHQL_URL,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(len(body) if content_length is None else content_length),
        **{"wsgi.input": stream},
        **({"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}),
    )
    response = ClientHandler(enforce_csrf_checks=True)(environ)
    return response, stream.read_bytes


def refused(response, status: int, code: ErrorCode) -> str:
    assert response.status_code == status, response.content
    (error,) = json.loads(response.content)["errors"]
    assert error["extensions"]["code"] == code
    return error["message"]


def test_anonymous_upload_refused_before_the_body_is_read(media_root, nothing_stored):
    response, read = send(multipart_body(**upload_parts()))

    message = refused(response, 401, ErrorCode.UNAUTHENTICATED)
    assert "Authorization: Bearer" in message
    assert read == 0


def test_upload_without_permission_refused_before_the_body_is_read(
    editor, editor_token, nothing_stored
):
    editor.user_permissions.clear()

    response, read = send(multipart_body(**upload_parts()), token=editor_token)

    message = refused(response, 403, ErrorCode.FORBIDDEN)
    assert "catalog.add_image" in message
    assert read == 0


def test_declared_length_over_the_limit_refused_before_the_body_is_read(
    editor_token, settings, nothing_stored
):
    settings.CATALOG = {**settings.CATALOG, "MAX_UPLOAD_BYTES": 10_000}
    body = multipart_body(**upload_parts())

    response, read = send(body, content_length=10_000 + MULTIPART_OVERHEAD + 1, token=editor_token)

    message = refused(response, 413, ErrorCode.BODY_TOO_LARGE)
    assert "CATALOG_MAX_UPLOAD_BYTES" in message
    assert read == 0


def test_files_past_the_limit_stop_the_upload_while_streaming(
    editor_token, settings, media_root, nothing_stored
):
    # The declared length fits (the framing allowance), the file bytes do not: the
    # upload handler stops reading at the limit, before anything is stored.
    settings.CATALOG = {**settings.CATALOG, "MAX_UPLOAD_BYTES": 10_000}
    body = multipart_body(**upload_parts(os.urandom(500_000)))

    response, read = send(body, token=editor_token)

    assert "CATALOG_MAX_UPLOAD_BYTES" in refused(response, 413, ErrorCode.BODY_TOO_LARGE)
    assert read < len(body)
    assert Image.objects.count() == 0


def test_lying_short_content_length_reads_no_further(editor_token, nothing_stored):
    body = multipart_body(**upload_parts())

    response, read = send(body, content_length=200, token=editor_token)

    assert read <= 200
    assert response.status_code == 400
    assert json.loads(response.content)["errors"][0]["extensions"]["code"] in (
        ErrorCode.INVALID_MULTIPART,
        ErrorCode.INVALID_JSON,
    )


@pytest.mark.parametrize(
    ("map_", "hint"),
    [
        ({"0": ["variables.file.x.y"]}, "null placeholder inside `variables`"),
        ({"0": ["query"]}, "null placeholder inside `variables`"),
        ({"0": ["variables.nothing"]}, "null placeholder inside `variables`"),
        ({"0": ["variables"]}, "null placeholder inside `variables`"),
        ({"0": "variables.file"}, "lists of paths"),
        (["variables.file"], "lists of paths"),
        ({"1": ["variables.file"]}, "which was not sent"),
    ],
)
def test_bad_map(editor_token, map_, hint, nothing_stored):
    parts = {**upload_parts(), "map": json.dumps(map_)}

    response, _ = send(multipart_body(**parts), token=editor_token)

    assert hint in refused(response, 400, ErrorCode.INVALID_MULTIPART)


def test_map_into_a_value_that_is_not_null(editor_token, nothing_stored):
    operations = json.dumps({"query": UPLOAD, "variables": {"file": "already here"}})

    response, _ = send(
        multipart_body(**{**upload_parts(), "operations": operations}), token=editor_token
    )

    assert "null placeholder" in refused(response, 400, ErrorCode.INVALID_MULTIPART)


@pytest.mark.parametrize(
    ("operations", "code"),
    [
        ("{not json", ErrorCode.INVALID_JSON),
        (json.dumps([{"query": UPLOAD}]), ErrorCode.INVALID_MULTIPART),
        (json.dumps("a string"), ErrorCode.INVALID_MULTIPART),
        (None, ErrorCode.INVALID_MULTIPART),
    ],
)
def test_bad_operations(editor_token, operations, code, nothing_stored):
    parts = upload_parts()
    if operations is None:
        del parts["operations"]
    else:
        parts["operations"] = operations

    response, _ = send(multipart_body(**parts), token=editor_token)

    refused(response, 400, code)


def test_too_many_file_parts(editor_token, settings, nothing_stored):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    parts = {
        **upload_parts(),
        **{str(i): SimpleUploadedFile(f"{i}.jpg", b"x", "image/jpeg") for i in range(1, 4)},
    }

    response, _ = send(multipart_body(**parts), token=editor_token)

    assert "multipart" in refused(response, 400, ErrorCode.INVALID_MULTIPART)


def test_broken_framing(editor_token, nothing_stored):
    body = b'--BoUnDaRy\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{' * 3

    response, _ = send(body, token=editor_token)

    assert response.status_code == 400
    assert json.loads(response.content)["errors"][0]["extensions"]["code"] in (
        ErrorCode.INVALID_MULTIPART,
        ErrorCode.INVALID_JSON,
    )


def test_file_part_never_mapped_leaves_the_variable_null(editor_token, nothing_stored):
    parts = {**upload_parts(), "map": json.dumps({})}

    response, _ = send(multipart_body(**parts), token=editor_token)

    assert response.status_code == 200
    (error,) = json.loads(response.content)["errors"]
    assert error["extensions"]["code"] == ErrorCode.BAD_USER_INPUT
    assert "$file" in error["message"]


def test_upload_variable_sent_as_a_string(client, editor_token, nothing_stored):
    response = client.post(
        GRAPHQL_URL,
        json.dumps({"query": UPLOAD, "variables": {"file": "aGVsbG8="}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {editor_token}"},
    )

    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == ErrorCode.BAD_USER_INPUT
    assert "Upload takes a file" in error["message"]


def test_upload_literal_in_the_document(client, editor_token, nothing_stored):
    query = 'mutation { uploadImage(file: "x") { __typename } }'

    response = client.post(
        GRAPHQL_URL,
        json.dumps({"query": query}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {editor_token}"},
    )

    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == ErrorCode.GRAPHQL_VALIDATION_FAILED
    assert "Upload" in error["message"]


def test_session_upload_without_csrf_token(editor, nothing_stored):
    # A cross-site form can post multipart with the user's cookie: it needs the token.
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(GRAPHQL_URL, upload_parts())

    assert "X-CSRFToken" in refused(response, 403, ErrorCode.FORBIDDEN)


def test_change_permission_alone_is_enough_to_be_read(editor, editor_token, nothing_stored):
    editor.user_permissions.set([Permission.objects.get(codename="change_image")])

    response, read = send(multipart_body(**upload_parts()), token=editor_token)

    assert read > 0
    result = json.loads(response.content)["data"]["uploadImage"]
    assert result["__typename"] == "OperationInfo"
