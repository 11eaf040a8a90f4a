"""The admin's image upload: bad files and storage failures are form errors with the
API's messages, never a 500, and nothing is stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Image
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/catalog/image/add/"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(user)
    return client


def add(admin_client, content: bytes, name: str = "photo.jpg", **fields):
    return admin_client.post(
        ADD_URL, {"file": SimpleUploadedFile(name, content, "image/jpeg"), **fields}
    )


def form_errors(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return [str(message) for messages in form.errors.values() for message in messages]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an image", "The file is not an image that can be read."),
        (make_image_bytes()[:500], "The image file is damaged or truncated."),
        (make_image_bytes(fmt="BMP"), "BMP images are not accepted"),
    ],
)
def test_bad_file_gets_the_apis_message(admin_client, content, message, nothing_stored):
    errors = form_errors(add(admin_client, content))

    assert any(message in error for error in errors), errors


def test_name_defaults_to_the_file_name(admin_client, media_root):
    response = add(admin_client, make_image_bytes(), "harbour at dusk.jpg")

    assert response.status_code == 302
    image = Image.objects.get()
    assert image.name == "harbour at dusk"
    assert image.created_by.username == "root"


@pytest.mark.parametrize(
    ("fault", "status"),
    [("status", 503), ("malformed", "not-json"), ("malformed", "wrong-shape"), ("drop", None)],
)
def test_imagekit_failure_is_a_form_error(admin_client, imagekit, fault, status, nothing_stored):
    imagekit.faults.reset()
    if fault == "status":
        imagekit.faults.fail("upload", status, times=None)
    elif fault == "malformed":
        imagekit.faults.malformed("upload", status, times=None)
    else:
        imagekit.faults.drop("upload", times=None)

    errors = form_errors(add(admin_client, make_image_bytes()))
    imagekit.faults.reset()

    assert any("ImageKit" in error for error in errors), errors
