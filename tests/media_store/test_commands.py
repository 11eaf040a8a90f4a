from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from catalog.models import Image
from media_store.models import StoredFile
from media_store.references import Reference, references
from tests.catalog.factories import stored_image
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_test_imagekit_uploads_passes_on_local_storage(media_root):
    output = run("test_imagekit_uploads")

    assert output.count("✅") == 7
    assert "Tests Passed: 7/7" in output
    assert "Success Rate: 100.0%" in output
    assert not any(p.is_file() for p in media_root.rglob("*")), "left files behind"


def test_test_imagekit_uploads_passes_on_imagekit(imagekit):
    output = run("test_imagekit_uploads")

    assert "Storage: ImageKitStorage" in output
    assert "Tests Passed: 7/7" in output
    assert list(imagekit.store.files()) == []


def test_test_imagekit_uploads_reports_failures_and_exits_non_zero(imagekit):
    imagekit.faults.fail("upload", 400, times=None)
    out = StringIO()

    with pytest.raises(CommandError, match="7 check"):
        call_command("test_imagekit_uploads", stdout=out, stderr=StringIO())

    output = out.getvalue()
    assert output.count("❌") == 7
    assert "Tests Passed: 0/7" in output
    assert "Success Rate: 0.0%" in output


def test_media_gc_on_local_storage_lists_then_deletes_orphans(media_root):
    image = stored_image()
    orphan = storages["default"].save("images/orphan.jpg", ContentFile(make_image_bytes()))

    listed = run("media_gc", "--grace-hours=0")
    dry = run("media_gc", "--grace-hours=0", "--delete", "--dry-run")

    assert f"Unreferenced: {orphan}" in listed
    assert image.image.name not in listed
    assert f"Would delete: {orphan}" in dry
    assert (media_root / orphan).exists()

    run("media_gc", "--grace-hours=0", "--delete")

    assert not (media_root / orphan).exists()
    assert (media_root / image.image.name).exists()
    assert (media_root / image.image_xs.name).exists()


def test_media_gc_delete_shows_progress_on_stderr(media_root):
    for index in range(3):
        storages["default"].save(f"images/orphan-{index}.jpg", ContentFile(make_image_bytes()))
    out, err = StringIO(), StringIO()

    call_command("media_gc", "--grace-hours=0", "--delete", stdout=out, stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("deleting: 0/3 (0%)")
    assert lines[-1].startswith("deleting: 3/3 (100%)")
    assert "Deleted 3, failed 0." in out.getvalue()


def test_media_gc_dry_run_says_nothing_was_changed(media_root):
    orphan = storages["default"].save("images/orphan.jpg", ContentFile(make_image_bytes()))

    dry = run("media_gc", "--grace-hours=0", "--delete", "--dry-run")

    assert "Dry run: nothing was changed." in dry
    assert "Run with --delete" not in dry
    assert (media_root / orphan).exists()


def test_media_gc_reports_rows_whose_local_files_are_missing(media_root):
    kept, broken = stored_image("kept"), stored_image("broken")
    (media_root / broken.image.name).unlink()

    listed = run("media_gc", "--grace-hours=0")
    run("media_gc", "--grace-hours=0", "--delete")

    assert f"Missing file: catalog.Image pk={broken.pk} field=image name={broken.image.name}" in (
        listed
    )
    assert kept.image.name not in listed
    assert "1 row(s) point at missing files." in listed
    assert Image.objects.filter(pk=broken.pk).exists(), "--delete never deletes rows"
    assert (media_root / broken.image_xs.name).exists()


def test_media_gc_reports_rows_whose_imagekit_files_are_missing(imagekit):
    kept, broken = stored_image("kept"), stored_image("broken")
    # Gone on ImageKit and from the records, as after a deletion in the media library.
    gone = imagekit.store.get_by_path(f"/catalog/{broken.image_xs.name}")
    imagekit.store.delete(gone.file_id)
    StoredFile.objects.filter(name=broken.image_xs.name).delete()
    imagekit.requests.clear()

    listed = run("media_gc", "--grace-hours=0", "--delete")

    assert (
        f"Missing file: catalog.Image pk={broken.pk} field=image_xs name={broken.image_xs.name}"
        in listed
    )
    assert "1 row(s) point at missing files." in listed
    assert kept.image.name not in listed
    assert Image.objects.count() == 2
    # One listing of the folder tree, not one API call per row.
    assert {entry.endpoint for entry in imagekit.requests.entries()} == {"list"}
    assert len(imagekit.requests.entries()) <= 3


def test_media_gc_counts_a_recorded_imagekit_file_as_present(imagekit):
    image = stored_image("recorded")
    # Not listed yet (say, ImageKit's listing lags), but recorded at upload.
    record = imagekit.store.get_by_path(f"/catalog/{image.image.name}")
    imagekit.store.delete(record.file_id)

    listed = run("media_gc", "--grace-hours=0")

    assert "0 row(s) point at missing files." in listed


def test_references_name_each_row_and_field(media_root):
    image = stored_image("ref")

    found = set(references(storages["default"]))

    assert found == {
        Reference("catalog.Image", image.pk, "image", image.image.name),
        Reference("catalog.Image", image.pk, "image_xs", image.image_xs.name),
    }
