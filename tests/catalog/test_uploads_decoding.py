"""An upload is decoded once: validation's decode is also the small variant's source."""

from __future__ import annotations

import io
import threading
import warnings

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image

from catalog.image_files import decoded_upload, derive, hide_blurhash_deprecation


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


def test_concurrent_uploads_leave_the_processs_warning_filters_alone():
    # warnings.catch_warnings swaps the process's filter list: uploads in threads
    # (gunicorn's) that used it left each other's filters behind.
    data = photo_bytes(size=(640, 480))
    before = list(warnings.filters)
    start = threading.Barrier(8)

    def upload_several() -> None:
        start.wait(timeout=10)
        for _ in range(15):
            with decoded_upload(ContentFile(data, name="photo.jpg")) as upload:
                upload.derive()
            derive(ContentFile(data, name="photo.jpg"))

    threads = [threading.Thread(target=upload_several) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert warnings.filters == before


def test_blurhashs_deprecation_is_hidden_and_no_other():
    # pytest resets the filters around each test: set them as start-up does.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hide_blurhash_deprecation()
        derive(ContentFile(photo_bytes(size=(320, 240)), name="photo.jpg"))
        # Attributed to this module (stacklevel 1), not blurhash: still shown.
        warnings.warn(
            "Image.Image.getdata is deprecated here too", DeprecationWarning, stacklevel=1
        )

    assert [str(w.message) for w in caught] == ["Image.Image.getdata is deprecated here too"]
