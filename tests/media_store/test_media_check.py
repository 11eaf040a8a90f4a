"""``manage.py media_check``: rows whose files are missing, files no row references, --fix."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image as PILImage

from catalog.models import Image
from media_store.models import StoredFile
from tests.catalog.factories import stored_image
from tests.conftest import make_image_bytes
from tests.utils import call

pytestmark = pytest.mark.django_db


def test_media_check_with_every_file_present_exits_zero(media_root):
    stored_image("fine")

    checked = call("media_check")

    assert checked.error is None, checked.output
    assert "2 file(s) referenced, 2 stored: 0 missing, 0 unreferenced. Nothing was changed." in (
        checked.output
    )


def test_media_check_lists_missing_files_by_field_and_unreferenced_files(media_root):
    kept, no_original, no_small = stored_image("kept"), stored_image("a"), stored_image("b")
    (media_root / no_original.image.name).unlink()
    (media_root / no_small.image_xs.name).unlink()
    orphan = storages["default"].save("images/orphan.jpg", ContentFile(make_image_bytes()))

    checked = call("media_check")

    assert checked.returncode == 1
    assert "2 referenced file(s) missing" in str(checked.error)
    output = checked.output
    assert (
        f"Missing: catalog.Image pk={no_original.pk} field=image name={no_original.image.name} "
        "(an original)" in output
    )
    assert (
        f"Missing: catalog.Image pk={no_small.pk} field=image_xs "
        f"name={no_small.image_xs.name} (--fix re-makes it from its image)" in output
    )
    assert f"Unreferenced: {orphan} (" in output
    assert kept.image.name not in output
    assert (
        "6 file(s) referenced, 5 stored: 2 missing (catalog.Image.image: 1, "
        "catalog.Image.image_xs: 1), 1 unreferenced. Nothing was changed." in output
    )
    assert "Run with --fix to re-make 1 small variant(s)" in output
    assert "copy them from the storage that has them (media_sync)" in output
    assert "media_gc --delete" in output


def test_media_check_fix_remakes_a_missing_small_variant_as_the_upload_did(media_root):
    image = stored_image("remade", size=(800, 600))
    small = media_root / image.image_xs.name
    uploaded = small.read_bytes()
    small.unlink()
    orphan = storages["default"].save("images/orphan.jpg", ContentFile(make_image_bytes()))

    fixed = call("media_check", "--fix")
    again = call("media_check")

    assert fixed.error is None, fixed.output
    assert (
        f"Re-made: catalog.Image pk={image.pk} field=image_xs name={image.image_xs.name}"
        in fixed.output
    )
    assert "Re-made 1 file(s); deleted nothing." in fixed.output
    assert small.read_bytes() == uploaded, "not made by the upload's own code"
    with PILImage.open(small) as decoded:
        assert decoded.size == (320, 240)
    assert Image.objects.get(pk=image.pk).image_xs.name == image.image_xs.name
    assert (media_root / orphan).exists(), "--fix deletes nothing"
    assert again.error is None, again.output
    assert "0 missing" in again.output


def test_media_check_fix_cannot_remake_a_missing_original(media_root):
    image = stored_image("lost")
    (media_root / image.image.name).unlink()
    (media_root / image.image_xs.name).unlink()

    fixed = call("media_check", "--fix")

    assert fixed.returncode == 1
    assert "2 referenced file(s) missing" in str(fixed.error)
    assert (
        f"field=image_xs name={image.image_xs.name} (cannot be re-made: its image is missing "
        "too)" in fixed.output
    )
    assert "Re-made 0 file(s); deleted nothing." in fixed.output
    assert Image.objects.filter(pk=image.pk).exists()


def test_media_check_fix_on_imagekit_remakes_and_records_the_small_variant(imagekit):
    image = stored_image("remote", size=(800, 600))
    gone = imagekit.store.get_by_path(f"/catalog/{image.image_xs.name}")
    imagekit.store.delete(gone.file_id)
    StoredFile.objects.filter(name=image.image_xs.name).delete()

    before = call("media_check")
    fixed = call("media_check", "--fix")

    assert before.returncode == 1
    assert "1 missing (catalog.Image.image_xs: 1)" in before.output
    assert fixed.error is None, fixed.output
    remade = imagekit.store.get_by_path(f"/catalog/{image.image_xs.name}")
    assert remade is not None
    recorded = StoredFile.objects.get(name=image.image_xs.name)
    assert (recorded.file_id, recorded.size) == (remade.file_id, remade.size)
    assert (recorded.width, recorded.height) == (320, 240)


def test_media_check_of_a_storage_that_is_not_a_media_one_is_refused(media_root):
    refused = call("media_check", "--storage", "staticfiles")

    assert "STORAGES['staticfiles'] is a StaticFilesStorage" in str(refused.error)


def test_media_gc_points_at_media_check_for_rows_whose_files_are_missing(media_root):
    image = stored_image("pointer")
    (media_root / image.image_xs.name).unlink()

    collected = call("media_gc", "--grace-hours=0", "--delete", "--dry-run")

    assert "1 row(s) point at missing files." in collected.output
    assert "run media_check to see them by field" in collected.output
    assert "Dry run: nothing was changed." in collected.output
    assert "Run with --delete" not in collected.output
