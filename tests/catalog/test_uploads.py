"""The one upload path: every way in records the same checksum; privacy moves the files."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.models import Image
from catalog.uploads import replace_image_file, set_private
from tests.catalog.factories import stored_image
from tests.conftest import make_image_bytes
from tests.utils import UPLOAD_AUTH_SELECTION, browser_upload, multipart_upload, run

pytestmark = pytest.mark.django_db

UPLOAD = """
mutation($file: Upload!) { uploadImage(file: $file) { __typename ... on Image { id } } }
"""
UPLOAD_AUTH = f"""
mutation {{ imagekitUploadAuth(fileName: "a.jpg") {{
  ... on ImageUploadAuth {{ {UPLOAD_AUTH_SELECTION} }}
}} }}
"""
REGISTER = """
mutation($fileId: String!) {
  registerUploadedImage(fileId: $fileId) { __typename ... on Image { id } }
}
"""


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def through_api(client, token, content: bytes) -> None:
    response = multipart_upload(client, UPLOAD, content=content, Authorization=f"Bearer {token}")
    assert response.json()["data"]["uploadImage"]["__typename"] == "Image"


def through_admin(client, token, content: bytes) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", password="x-123-pass"))
    response = client.post(
        "/admin/catalog/image/add/",
        {"file": SimpleUploadedFile("photo.jpg", content, "image/jpeg")},
    )
    assert response.status_code == 302


def through_import(client, token, content: bytes, tmp_path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "photo.jpg").write_bytes(content)
    call_command(
        "import_images", tmp_path / "photos", "--workers=1", stdout=StringIO(), stderr=StringIO()
    )


@pytest.mark.parametrize("entry", [through_api, through_admin, through_import])
def test_add_image_records_the_checksum_of_the_original(
    client, editor_token, entry, tmp_path, media_root
):
    content = make_image_bytes((300, 200))
    args = (tmp_path,) if entry is through_import else ()

    entry(client, editor_token, content, *args)

    image = Image.objects.get()
    assert image.checksum == sha256(content)
    assert image.image.storage.open(image.image.name).read() == content


def test_register_uploaded_image_records_the_checksum(client, editor_token, imagekit):
    headers = {"Authorization": f"Bearer {editor_token}"}
    content = make_image_bytes((300, 200))
    auth = run(client, UPLOAD_AUTH, {}, headers)
    uploaded = browser_upload(auth, content).json()

    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    assert result["__typename"] == "Image"
    assert Image.objects.get().checksum == sha256(content)


def test_replace_image_file_records_the_new_checksum(media_root):
    image = stored_image()
    content = make_image_bytes((200, 100), color="#ff0000")

    replace_image_file(image, ContentFile(content, name="new.jpg"))

    image.refresh_from_db()
    assert image.checksum == sha256(content)
    assert (image.width, image.height) == (200, 100)


def test_set_private_moves_the_files_and_back(django_capture_on_commit_callbacks, media_root):
    image = stored_image(size=(120, 90))
    public = image.stored_names()
    original = image.image.storage.open(image.image.name).read()

    with django_capture_on_commit_callbacks(execute=True):
        set_private(image, True)

    image.refresh_from_db()
    assert image.is_private is True
    assert all(name.startswith("private/images/") for name in image.stored_names())
    assert not any(image.image.storage.exists(name) for name in public)
    assert image.image.storage.open(image.image.name).read() == original
    assert "?" in image.image.url, "private URLs are signed with an expiry"

    private = image.stored_names()
    with django_capture_on_commit_callbacks(execute=True):
        set_private(image, False)

    image.refresh_from_db()
    assert all(name.startswith("images/") for name in image.stored_names())
    assert not any(image.image.storage.exists(name) for name in private)
    assert image.image.storage.open(image.image_xs.name).read()


def test_set_private_on_imagekit_uploads_private_files(
    django_capture_on_commit_callbacks, imagekit
):
    image = stored_image(size=(120, 90))

    with django_capture_on_commit_callbacks(execute=True):
        set_private(image, True)

    image.refresh_from_db()
    paths = {f"/catalog/{name}" for name in image.stored_names()}
    records = {r.file_path: r for r in imagekit.store.files()}
    assert set(records) == paths, "the public files are gone, the private ones stored"
    assert all(records[path].is_private for path in paths)
