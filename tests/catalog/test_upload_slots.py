"""Uploads decode in the process's image-work slots (media_store.limiter), as CDN renders do."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.base import ContentFile

from catalog.image_files import decoded_upload, derive
from catalog.models import Image
from media_store.limiter import limiter
from tests.catalog.test_upload_image import auth, stored_files, upload
from tests.catalog.test_uploads_decoding import photo_bytes
from tests.conftest import make_image_bytes

MB = 2**20


@pytest.fixture
def one_slot(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_CONCURRENT_RENDERS": 1}
    settings.CATALOG = {**settings.CATALOG, "UPLOAD_QUEUE_TIMEOUT": 10}
    return limiter()


def run_in_thread(call):
    """Start ``call`` in a thread; returns (thread, outcome list filled when it ends)."""
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    thread.start()
    return thread, outcome


def test_decoding_holds_a_slot_with_its_estimated_memory_until_done(one_slot):
    with decoded_upload(ContentFile(photo_bytes(), name="photo.jpg")) as decoded:
        assert one_slot.running == 1
        held = one_slot.reserved
        decoded.derive()
        assert one_slot.running == 1
    assert (one_slot.running, one_slot.reserved) == (0, 0)
    # The JPEG decodes at 1/4 (400 x 300): a fraction of the 1600 x 1200 x 4 bytes a
    # full decode holds, but more than the drafted pixels themselves.
    assert 400 * 300 * 4 < held < 1600 * 1200 * 4


def test_a_png_is_costed_at_its_full_decode(one_slot):
    with decoded_upload(ContentFile(photo_bytes("PNG", size=(800, 600)), name="p.png")):
        assert one_slot.reserved >= 800 * 600 * 4


@pytest.mark.parametrize("work", ["decode", "derive"])
def test_image_work_waits_for_a_free_slot(one_slot, work):
    def decode():
        with decoded_upload(ContentFile(photo_bytes(), name="photo.jpg")) as decoded:
            return decoded.derive().small.size

    def remake():
        return derive(ContentFile(photo_bytes(), name="photo.jpg")).small.size

    with one_slot.slot(0, timeout=1):
        thread, outcome = run_in_thread(decode if work == "decode" else remake)
        time.sleep(0.3)
        # Waiting: the only slot is ours.
        assert thread.is_alive()
        assert outcome == []
    thread.join(timeout=10)
    assert len(outcome) == 1
    assert outcome[0] > 0
    assert one_slot.running == 0


@pytest.mark.django_db
def test_upload_without_a_slot_in_time_is_busy_with_nothing_stored(
    csrf_client, editor_token, media_root, settings, one_slot
):
    settings.CATALOG = {**settings.CATALOG, "UPLOAD_QUEUE_TIMEOUT": 0.1}

    with one_slot.slot(0, timeout=1):
        result = upload(csrf_client, make_image_bytes((1200, 800)), **auth(editor_token))

    assert result["__typename"] == "OperationInfo"
    (message,) = result["messages"]
    assert (message["field"], message["code"]) == ("file", "busy")
    assert "try the upload again" in message["message"]
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []
    # Once the slot is free, the same upload goes through.
    stored = upload(csrf_client, make_image_bytes((1200, 800)), **auth(editor_token))
    assert stored["__typename"] == "Image"
