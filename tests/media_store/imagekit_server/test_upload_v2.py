"""Upload API V2 on the local server: JWT client-side uploads, checks, the hardened V1 mode."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from imagekitio import BadRequestError, ImageKit

from media_store.imagekit_server import ImageKitServer
from media_store.imagekit_server.auth import V2_TOKEN_REUSED
from media_store.imagekit_server.errors import (
    CHECKS_FAILED,
    CHECKS_SYNTAX,
    FILE_EXISTS,
    TOKEN_AND_KEY,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    TOKEN_PAYLOAD_MISMATCH,
)
from media_store.imagekit_server.upload import CLIENT_FOLDER_REFUSED, CLIENT_OVERWRITE_REFUSED
from tests.conftest import IMAGEKIT_PUBLIC_KEY as PUBLIC_KEY
from tests.media_store.imagekit_server.conftest import PRIVATE_KEY, image_bytes, stored_bytes

CHECKS = '"file.size" <= 100000 AND "file.mime" IN ["image/png", "image/jpeg"]'


def bound(**changes: str) -> dict[str, str]:
    """Fields a token binds, with a fresh name: identical payloads signed in the same
    second are the same token, which the server accepts only once."""
    return {
        "fileName": f"{uuid.uuid4().hex}.png",
        "folder": "/catalog/uploads/",
        "useUniqueFileName": "false",
        "overwriteFile": "false",
        "checks": CHECKS,
        **changes,
    }


def token(
    payload: dict[str, Any],
    *,
    key: str = PRIVATE_KEY,
    kid: str | None = PUBLIC_KEY,
    algorithm: str = "HS256",
    lifetime: int = 600,
    issued: int = 0,
    claims: dict[str, Any] | None = None,
) -> str:
    issued += int(time.time())  # seconds from now
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(
        {**payload, "iat": issued, "exp": issued + lifetime, **(claims or {})},
        key,
        algorithm=algorithm,
        headers=headers,
    )


def post(server: ImageKitServer, form: dict[str, Any], content: bytes | None = None, **kwargs):
    files = {name: (None, value) for name, value in form.items()}
    if content is not None:
        files["file"] = ("upload.bin", content)
    return httpx.post(f"{server.url}/api/v2/files/upload", files=files, **kwargs)


def upload(server: ImageKitServer, form: dict[str, Any], content: bytes | None = None, **kwargs):
    return post(server, form, image_bytes() if content is None else content, **kwargs)


def test_v2_token_upload_stores_the_bound_name(server: ImageKitServer) -> None:
    data, fields = image_bytes(), bound()

    response = post(server, {**fields, "token": token(fields)}, data)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["filePath"] == f"/catalog/uploads/{fields['fileName']}"
    assert stored_bytes(server, body["fileId"]) == data
    assert [e.endpoint for e in server.requests.entries()] == ["upload_v2"]


def test_v2_token_is_accepted_once(server: ImageKitServer) -> None:
    fields = bound(useUniqueFileName="true")
    form = {**fields, "token": token(fields)}

    first, second = upload(server, form), upload(server, form)

    assert first.status_code == 200
    assert (second.status_code, second.json()["message"]) == (400, V2_TOKEN_REUSED)
    assert len(server.store.files()) == 1


def test_v2_token_is_spent_by_a_refused_request(server: ImageKitServer) -> None:
    fields = bound()
    form = {**fields, "token": token(fields)}

    too_big = upload(server, form, image_bytes((400, 400), fmt="BMP"))
    retried = upload(server, form)

    assert (too_big.status_code, too_big.json()["message"]) == (400, CHECKS_FAILED)
    assert (retried.status_code, retried.json()["message"]) == (400, V2_TOKEN_REUSED)
    assert server.store.files() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fileName", "other.png"),
        ("folder", "/catalog/images/"),
        ("overwriteFile", "true"),
        ("useUniqueFileName", "true"),
        ("checks", '"file.size" <= 100000000'),
    ],
)
def test_v2_tampered_field_refused(server: ImageKitServer, field: str, value: str) -> None:
    fields = bound()

    response = upload(server, {**fields, field: value, "token": token(fields)})

    assert (response.status_code, response.json()["message"]) == (400, TOKEN_PAYLOAD_MISMATCH)
    assert server.store.files() == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"isPrivateFile": "true"}, id="added-field"),
        pytest.param({"publicKey": PUBLIC_KEY}, id="added-public-key"),
        pytest.param({"checks": None}, id="missing-field"),
    ],
)
def test_v2_form_must_carry_exactly_the_bound_fields(
    server: ImageKitServer, change: dict[str, str | None]
) -> None:
    fields = bound()
    form = {**fields, "token": token(fields), **change}
    form = {name: value for name, value in form.items() if value is not None}

    response = upload(server, form)

    assert (response.status_code, response.json()["message"]) == (400, TOKEN_PAYLOAD_MISMATCH)


def test_v2_field_sent_twice_refused(server: ImageKitServer) -> None:
    fields = bound()
    parts = [(name, (None, value)) for name, value in fields.items()]
    parts += [("folder", (None, "/elsewhere/")), ("token", (None, token(fields)))]
    parts.append(("file", ("a.png", image_bytes())))

    response = httpx.post(f"{server.url}/api/v2/files/upload", files=parts)

    assert (response.status_code, response.json()["message"]) == (400, TOKEN_PAYLOAD_MISMATCH)
    assert server.store.files() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"issued": -700}, TOKEN_EXPIRED, id="expired"),
        pytest.param({"lifetime": 3601}, TOKEN_INVALID, id="over-an-hour"),
        pytest.param({"issued": 60, "lifetime": -30}, TOKEN_INVALID, id="exp-before-iat"),
        pytest.param({"issued": 120}, TOKEN_INVALID, id="issued-later"),
        pytest.param({"key": "another_private_key"}, TOKEN_INVALID, id="other-key"),
        pytest.param({"kid": "another_public_key"}, TOKEN_INVALID, id="wrong-kid"),
        pytest.param({"kid": None}, TOKEN_INVALID, id="no-kid"),
        pytest.param({"algorithm": "HS512"}, TOKEN_INVALID, id="other-algorithm"),
        pytest.param({"claims": {"iat": "yesterday"}}, TOKEN_INVALID, id="bad-iat"),
    ],
)
def test_v2_bad_token_refused(server: ImageKitServer, kwargs: dict[str, Any], message: str) -> None:
    fields = bound()

    response = upload(server, {**fields, "token": token(fields, **kwargs)})

    assert (response.status_code, response.json()["message"]) == (400, message)
    assert server.store.files() == []


@pytest.mark.parametrize(
    "value",
    ["", "not-a-jwt", "a.b.c", jwt.encode(bound(), key="", algorithm="none")],
    ids=["empty", "garbage", "three-parts", "unsigned"],
)
def test_v2_malformed_token_refused(server: ImageKitServer, value: str) -> None:
    response = upload(server, {**bound(), "token": value})

    expected = TOKEN_MISSING if value == "" else TOKEN_INVALID
    assert (response.status_code, response.json()["message"]) == (400, expected)


def test_v2_without_token_or_key_refused(server: ImageKitServer) -> None:
    response = upload(server, bound())

    assert (response.status_code, response.json()["message"]) == (400, TOKEN_MISSING)


def test_v2_token_and_key_together_refused(server: ImageKitServer) -> None:
    fields = bound()

    response = upload(server, {**fields, "token": token(fields)}, auth=(PRIVATE_KEY, ""))

    assert (response.status_code, response.json()["message"]) == (400, TOKEN_AND_KEY)


def test_v2_with_the_private_key_through_the_sdk(client: ImageKit, server: ImageKitServer) -> None:
    uploaded = client.beta.v2.files.upload(
        file=image_bytes(), file_name="server.png", folder="/anywhere/", tags=["a", "b"]
    )

    assert uploaded.file_path.startswith("/anywhere/server_")
    assert server.store.get(uploaded.file_id).tags == ["a", "b"]


def test_v2_bound_create_only_upload_never_replaces(server: ImageKitServer) -> None:
    fields = bound()
    assert upload(server, {**fields, "token": token(fields)}).status_code == 200
    original = server.store.files()[0]
    # Another token for the same name, issued earlier: never the same token, even when
    # a second boundary falls between the two.
    again_token = token(fields, issued=-30)

    again = upload(server, {**fields, "token": again_token}, image_bytes((10, 10)))

    assert (again.status_code, again.json()["message"]) == (400, FILE_EXISTS)
    assert server.store.files()[0].version_id == original.version_id


@pytest.mark.parametrize(
    ("checks", "content", "status", "message"),
    [
        ('"file.size" < 10', image_bytes(), 400, CHECKS_FAILED),
        ('"file.size" <= "1mb" AND "file.mime" = "image/png"', image_bytes(), 200, None),
        ('"file.mime" IN ["image/jpeg"]', image_bytes(), 400, CHECKS_FAILED),
        ('"file.mime" : "image/"', b"%PDF-1.4 \x00\x01 not an image", 400, CHECKS_FAILED),
        ('"request.folder" : "catalog/"', image_bytes(), 400, None),
        ('"file.size" < 1 OR "file.size" > 1', image_bytes(), 400, None),
        ('"file.size" <', image_bytes(), 400, None),
    ],
    ids=["size", "size-and-mime", "mime-in", "pdf-named-png", "unsupported", "or", "syntax"],
)
def test_v2_checks(
    server: ImageKitServer, checks: str, content: bytes, status: int, message: str | None
) -> None:
    fields = bound(checks=checks)

    response = post(server, {**fields, "token": token(fields)}, content)

    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["message"].startswith(message or CHECKS_SYNTAX)
        assert server.store.files() == []


def test_v1_checks_are_evaluated_too(client: ImageKit, server: ImageKitServer) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.files.upload(file=image_bytes(), file_name="a.png", checks='"file.size" < 10')

    assert caught.value.body["message"] == CHECKS_FAILED
    assert server.store.files() == []


# --- The hardened account: V1 client-side uploads confined ---------------------------


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory):
    with ImageKitServer(
        root=tmp_path_factory.mktemp("hardened"),
        private_key=PRIVATE_KEY,
        public_key=PUBLIC_KEY,
        client_upload_folder="catalog/uploads",
    ) as server:
        yield server


def v1_upload(server: ImageKitServer, content: bytes, **form: str) -> httpx.Response:
    params = ImageKit(private_key=PRIVATE_KEY).helper.get_authentication_parameters()
    fields = {
        "publicKey": PUBLIC_KEY,
        "token": params["token"],
        "expire": str(params["expire"]),
        "signature": params["signature"],
        **form,
    }
    return httpx.post(
        f"{server.url}/api/v1/files/upload",
        files={**{k: (None, v) for k, v in fields.items()}, "file": ("a.png", content)},
    )


def test_hardened_v1_client_upload_outside_the_folder_refused(hardened: ImageKitServer) -> None:
    response = v1_upload(hardened, image_bytes(), fileName="x.png", folder="/catalog/images/")

    assert response.status_code == 403
    assert response.json()["message"] == CLIENT_FOLDER_REFUSED.format(folder="/catalog/uploads/")
    assert hardened.store.get_by_path("/catalog/images/x.png") is None


def test_hardened_v1_client_overwrite_refused(hardened: ImageKitServer) -> None:
    hardened.client().files.upload(
        file=b"mine", file_name="kept.png", folder="/catalog/uploads/", use_unique_file_name=False
    )

    response = v1_upload(
        hardened,
        image_bytes(),
        fileName="kept.png",
        folder="/catalog/uploads/",
        useUniqueFileName="false",
        overwriteFile="true",
    )

    assert (response.status_code, response.json()["message"]) == (403, CLIENT_OVERWRITE_REFUSED)
    record = hardened.store.get_by_path("/catalog/uploads/kept.png")
    assert hardened.store.blob_path(record).read_bytes() == b"mine"


def test_hardened_v1_client_upload_into_the_folder_accepted(hardened: ImageKitServer) -> None:
    response = v1_upload(hardened, image_bytes(), fileName="new.png", folder="/catalog/uploads/")

    assert response.status_code == 200, response.text
    assert response.json()["filePath"].startswith("/catalog/uploads/new_")


def test_hardened_account_leaves_private_key_uploads_alone(hardened: ImageKitServer) -> None:
    client = hardened.client(max_retries=0)
    client.files.upload(file=b"1", file_name="p.txt", folder="/any/", use_unique_file_name=False)

    replaced = client.files.upload(
        file=b"2", file_name="p.txt", folder="/any/", use_unique_file_name=False
    )

    assert replaced.version_info.name == "Version 2"
