"""ImageKitStorage.upload_auth: upload API V2 tokens the local server (and ImageKit) accept."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from media_store.storage.imagekit import (
    DIRECT_UPLOAD_TYPES,
    UPLOAD_API_V2_URL,
    ImageKitStorage,
    direct_upload_extension,
)
from tests.conftest import IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY, make_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(imagekit) -> ImageKitStorage:
    return ImageKitStorage()


def decode(token: str) -> dict:
    return jwt.decode(token, IMAGEKIT_PRIVATE_KEY, algorithms=["HS256"])


def test_upload_auth_token_binds_every_form_field(storage):
    auth = storage.upload_auth(max_bytes=5000, file_name="cat.webp")

    header = jwt.get_unverified_header(auth.token)
    payload = decode(auth.token)
    assert (header["alg"], header["typ"], header["kid"]) == ("HS256", "JWT", IMAGEKIT_PUBLIC_KEY)
    assert {k: v for k, v in payload.items() if k not in ("iat", "exp")} == dict(auth.fields)
    assert payload["exp"] == auth.expire
    assert 0 < payload["exp"] - payload["iat"] <= 3600
    assert abs(payload["iat"] - time.time()) < 5
    assert auth.fields["folder"] == "/catalog/uploads/"
    assert auth.fields["fileName"].endswith(".webp")
    assert (auth.fields["useUniqueFileName"], auth.fields["overwriteFile"]) == ("false", "false")
    assert auth.fields["checks"].startswith('"file.size" <= 5000 AND "file.mime" IN [')
    assert all(f'"{mime}"' in auth.fields["checks"] for mime in DIRECT_UPLOAD_TYPES.values())
    assert auth.form_fields == {**auth.fields, "token": auth.token}
    assert IMAGEKIT_PRIVATE_KEY not in repr(auth)


def test_upload_auth_is_accepted_by_the_server_as_a_browser_sends_it(storage, imagekit):
    auth = storage.upload_auth(max_bytes=100_000, file_name="a.png")

    response = httpx.post(
        auth.upload_url,
        data=auth.form_fields,
        files={"file": ("a.png", make_image_bytes((40, 30), fmt="PNG"), "image/png")},
    )

    assert response.status_code == 200, response.text
    assert response.json()["filePath"] == f"/catalog/uploads/{auth.fields['fileName']}"


def test_upload_auth_size_check_is_the_limit_given(storage, imagekit):
    auth = storage.upload_auth(max_bytes=100, file_name="a.png")

    response = httpx.post(
        auth.upload_url,
        data=auth.form_fields,
        files={"file": ("a.png", make_image_bytes(fmt="PNG"), "image/png")},
    )

    assert response.status_code == 400
    assert response.json()["message"] == "Your request failed 'checks' validation."


def test_upload_url_is_imagekits_without_an_api_base_url(imagekit):
    storage = ImageKitStorage(api_base_url=None)

    assert storage.upload_auth(max_bytes=1).upload_url == UPLOAD_API_V2_URL


def test_upload_url_follows_the_api_base_url(imagekit):
    storage = ImageKitStorage(api_base_url="http://127.0.0.1:9/ik/")

    assert (
        storage.upload_auth(max_bytes=1).upload_url == "http://127.0.0.1:9/ik/api/v2/files/upload"
    )


def test_upload_auth_without_public_key_is_improperly_configured(imagekit):
    with pytest.raises(ImproperlyConfigured, match="IMAGEKIT_PUBLIC_KEY"):
        ImageKitStorage(public_key="").upload_auth(max_bytes=1)


@pytest.mark.parametrize(
    ("file_name", "content_type", "extension"),
    [
        ("", "", "jpg"),
        ("photo.JPEG", "", "jpg"),
        ("dir/photo.png", "image/jpeg", "png"),
        ("c:\\users\\me\\photo.webp", "", "webp"),
        ("noext", "image/avif", "avif"),
        ("", "image/gif; charset=binary", "gif"),
        ("", "image/jpg", "jpg"),
    ],
)
def test_direct_upload_extension(file_name: str, content_type: str, extension: str):
    assert direct_upload_extension(file_name, content_type) == extension


@pytest.mark.parametrize(
    ("file_name", "content_type"),
    [("a.svg", ""), ("a.exe", "image/png"), ("", "application/pdf"), ("a.php", "")],
)
def test_direct_upload_extension_refuses_other_types(file_name: str, content_type: str):
    with pytest.raises(ValueError, match="not an accepted image type"):
        direct_upload_extension(file_name, content_type)
