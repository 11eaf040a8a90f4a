"""Hostile files through uploadImage: refused with a code on `file` (or another
argument) and nothing stored; odd but valid files stored correctly; and, as a
property, no mutation of an image's bytes ever gives a 500 or leaves a file behind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from PIL import ImageStat

from catalog.models import Image
from tests.conftest import make_image_bytes
from tests.utils import multipart_upload, png_claiming

pytestmark = pytest.mark.django_db

UPLOAD = """mutation($file: Upload!, $name: String, $altText: String) {
  uploadImage(file: $file, name: $name, altText: $altText) {
    __typename
    ... on Image { name width height mimeType }
    ... on OperationInfo { messages { field code message } }
  } }"""


def upload(client, token: str, content: bytes, filename: str = "photo.jpg", **variables):
    response = multipart_upload(
        client,
        UPLOAD,
        content=content,
        filename=filename,
        variables=variables,
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadImage"]


def refused(result: dict) -> tuple[str, str, str]:
    assert result["__typename"] == "OperationInfo", result
    (message,) = result["messages"]
    return message["field"], message["code"], message["message"]


def encoded(image: PILImage.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "code", "hint"),
    [
        (b"", "empty.jpg", "empty", "empty"),
        (make_image_bytes()[:700], "cut.jpg", "invalid_image", "damaged or truncated"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            "x.svg",
            "invalid_image",
            "not an image",
        ),
        (b"<html><script>alert(1)</script></html>", "page.jpg", "invalid_image", "not an image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "doc.pdf", "invalid_image", "not an image"),
        (make_image_bytes(fmt="BMP"), "old.bmp", "unsupported_format", "upload JPEG, PNG"),
        (make_image_bytes(fmt="TIFF"), "scan.tif", "unsupported_format", "upload JPEG, PNG"),
        (png_claiming(7000, 7000), "big.png", "too_many_pixels", "the limit is 40000000"),
        (png_claiming(50_000, 50_000), "bomb.png", "too_many_pixels", "the limit is 40000000"),
        (png_claiming(2**31 - 1, 2**31 - 1), "huge.png", "too_many_pixels", "limit is"),
        (png_claiming(0, 0), "zero.png", "invalid_image", "image"),
    ],
    ids=[
        "empty",
        "truncated",
        "svg",
        "html",
        "pdf",
        "bmp",
        "tiff",
        "big",
        "bomb",
        "overflow",
        "zero",
    ],
)
def test_hostile_files_are_refused(
    csrf_client, editor_token, content, filename, code, hint, nothing_stored
):
    field, got_code, message = refused(upload(csrf_client, editor_token, content, filename))

    assert (field, got_code) == ("file", code)
    assert hint in message


def test_gif_frames_beyond_the_pixel_limit(csrf_client, editor_token, settings, nothing_stored):
    settings.CATALOG = {**settings.CATALOG, "MAX_UPLOAD_PIXELS": 10_000}
    frames = [PILImage.new("P", (200, 200), i) for i in range(3)]
    content = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])

    field, code, _ = refused(upload(csrf_client, editor_token, content, "anim.gif"))

    assert (field, code) == ("file", "too_many_pixels")


def test_alt_text_too_long(csrf_client, editor_token, nothing_stored):
    result = upload(csrf_client, editor_token, make_image_bytes(), altText="x" * 256)

    field, code, message = refused(result)
    assert (field, code) == ("altText", "max_length")
    assert "255" in message


def test_name_too_long(csrf_client, editor_token, nothing_stored):
    field, code, _ = refused(upload(csrf_client, editor_token, make_image_bytes(), name="n" * 300))

    assert (field, code) == ("name", "max_length")


@pytest.mark.parametrize(
    "filename",
    ["../../../../etc/passwd.jpg", "/abs/path.jpg", "a\\..\\..\\b.jpg", "con.jpg", "ünï cödé.jpg"],
)
def test_client_file_names_never_reach_the_storage_path(
    csrf_client, editor_token, media_root, filename
):
    result = upload(csrf_client, editor_token, make_image_bytes(), filename)

    assert result["__typename"] == "Image"
    image = Image.objects.get()
    assert image.image.name == f"images/{image.pk.hex}.jpg"
    stored = {p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()}
    assert stored == {image.image.name, image.image_xs.name}


def test_sixteen_bit_png_is_stored_with_its_brightness(csrf_client, editor_token, media_root):
    grey = PILImage.new("I;16", (64, 48), 32768)  # mid-grey in 16 bits
    result = upload(csrf_client, editor_token, encoded(grey, "PNG"), "deep.png")

    assert result["__typename"] == "Image"
    with PILImage.open(media_root / Image.objects.get().image_xs.name) as small:
        (mean,) = ImageStat.Stat(small.convert("L")).mean
    assert 110 < mean < 145


def test_cmyk_jpeg_is_stored(csrf_client, editor_token):
    content = encoded(PILImage.new("CMYK", (40, 30), (0, 128, 255, 0)), "JPEG")

    result = upload(csrf_client, editor_token, content)

    assert (result["__typename"], result["width"], result["height"]) == ("Image", 40, 30)


def test_exif_orientation_out_of_range_is_ignored(csrf_client, editor_token):
    image = PILImage.new("RGB", (60, 20), "red")
    exif = image.getexif()
    exif[0x0112] = 99  # not an orientation
    result = upload(csrf_client, editor_token, encoded(image, "JPEG", exif=exif.tobytes()))

    assert (result["__typename"], result["width"], result["height"]) == ("Image", 60, 20)


# --- Property: mutated image bytes ---------------------------------------------------

SEEDS = {
    "jpeg": make_image_bytes((48, 32)),
    "png": make_image_bytes((48, 32), fmt="PNG"),
    "gif": make_image_bytes((48, 32), fmt="GIF"),
    "webp": make_image_bytes((48, 32), fmt="WEBP"),
}


@st.composite
def mutated_images(draw) -> bytes:
    """A valid small image with bytes flipped, cut, repeated or inserted."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(2, 8))
    return bytes(data)


def stored_files(root: Path) -> set[str]:
    return {p.as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=mutated_images())
def test_mutated_images_never_fail_the_server_nor_leave_files(
    csrf_client, editor_token, media_root, content
):
    rows, files = Image.objects.count(), stored_files(media_root)

    result = upload(csrf_client, editor_token, content, "mutated.bin")

    if result["__typename"] == "Image":
        image = Image.objects.latest("created_at")
        assert Image.objects.count() == rows + 1
        assert stored_files(media_root) == files | {
            (media_root / image.image.name).as_posix(),
            (media_root / image.image_xs.name).as_posix(),
        }
    else:
        (message,) = result["messages"]
        assert message["field"] == "file"
        assert message["code"] in {
            "invalid_image",
            "unsupported_format",
            "too_many_pixels",
            "empty",
        }
        assert Image.objects.count() == rows
        assert stored_files(media_root) == files
