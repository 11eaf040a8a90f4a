from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

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
