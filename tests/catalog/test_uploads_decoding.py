"""An upload is decoded once: validation's decode is also the small variant's source."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image

from catalog.image_files import decoded_upload, derive


def photo_bytes(fmt: str = "JPEG", size=(1600, 1200), **options) -> bytes:
    """A noisy image: its JPEG scan data fills most of the file."""
    image = Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * band) for band in range(3)])
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_decoded_upload_jpeg_decodes_at_the_small_variants_scale():
    with decoded_upload(ContentFile(photo_bytes(), name="photo.jpg")) as upload:
        assert (upload.inspected.width, upload.inspected.height) == (1600, 1200)
        # 1/4 scale: the smallest at least 320 px (SMALL_VARIANT_SIZE) on the long side
        assert upload.img.size == (400, 300)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_decoded_upload_jpeg_cut_in_its_scan_data_is_refused(cut):
    data = photo_bytes()
    truncated = data[: int(len(data) * cut)]

    with (
        pytest.raises(ValidationError) as refused,
        decoded_upload(ContentFile(truncated, name="cut.jpg")),
    ):
        pass

    assert [error.code for error in refused.value.error_dict["file"]] == ["invalid_image"]


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {"quality": 80}), ("JPEG", {"progressive": True}), ("PNG", {}), ("WEBP", {})],
)
def test_decoded_upload_derives_what_derive_makes_from_the_file(fmt, options):
    data = photo_bytes(fmt, size=(900, 700), **options)

    with decoded_upload(ContentFile(data, name="photo")) as upload:
        once = upload.derive()
    separately = derive(ContentFile(data, name="photo"))

    assert once.small.read() == separately.small.read()
    assert (once.blurhash, once.dominant_color) == (separately.blurhash, separately.dominant_color)
