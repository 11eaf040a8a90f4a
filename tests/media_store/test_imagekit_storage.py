"""ImageKitStorage through the real SDK and real HTTP to the local ImageKit server."""

from __future__ import annotations

import io
import os
import pickle
import tracemalloc

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from imagekitio import InternalServerError

from media_store.exceptions import RemoteStorageError
from media_store.grammar import parse
from media_store.imagekit_server import ImageKitServer
from media_store.models import StoredFile
from media_store.storage.imagekit import ImageKitStorage
from tests.conftest import IMAGEKIT_PRIVATE_KEY, make_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(imagekit) -> ImageKitStorage:
    return ImageKitStorage()


def remote_paths(server) -> list[str]:
    return sorted(record.file_path for record in server.store.files())


class NonSeekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, target) -> int:
        chunk = self._buffer.read(len(target))
        target[: len(chunk)] = chunk
        return len(chunk)


def test_default_storage_is_imagekit_when_configured(imagekit):
    assert isinstance(storages["default"], ImageKitStorage)
    assert storages["default"].api_base_url == imagekit.url


def test_save_uploads_under_folder_and_records_metadata(storage, imagekit):
    data = make_image_bytes((300, 200), fmt="PNG")

    name = storage.save("images/a.png", ContentFile(data))

    assert name == "images/a.png"
    assert remote_paths(imagekit) == ["/catalog/images/a.png"]
    record = imagekit.store.get_by_path("/catalog/images/a.png")
    assert imagekit.store.blob_path(record).read_bytes() == data
    row = StoredFile.objects.get(name=name)
    assert (row.file_id, row.size, row.width, row.height, row.mime) == (
        record.file_id,
        len(data),
        300,
        200,
        "image/png",
    )


def test_reads_answer_from_the_table_without_network(storage, imagekit):
    name = storage.save("images/a.png", ContentFile(make_image_bytes(fmt="PNG")))
    imagekit.requests.clear()

    assert storage.exists(name)
    assert storage.size(name) > 0
    assert storage.dimensions(name) == (640, 480)
    assert storage.url(name) == f"{imagekit.url_endpoint}/catalog/images/a.png"

    assert imagekit.requests.entries() == []


def test_url_makes_no_database_query(storage, imagekit):
    with CaptureQueriesContext(connection) as queries:
        url = storage.transformed_url("images/a.png", parse("w-100,f-webp"))

    assert url == f"{imagekit.url_endpoint}/tr:w-100,f-webp/catalog/images/a.png"
    assert len(queries) == 0


def test_private_url_is_signed_with_expiry_and_served(storage, imagekit):
    private = ImageKitStorage(private_files=True)
    name = private.save("images/p.jpg", ContentFile(make_image_bytes()))

    url = private.url(name)

    assert "ik-t=" in url
    assert "ik-s=" in url
    with private.open(name) as handle:
        assert handle.read()[:2] == b"\xff\xd8"
    unsigned = url.split("?")[0]
    assert httpx.get(unsigned).status_code == 401


def test_name_missing_from_table_falls_back_to_the_api(storage, imagekit):
    name = storage.save("images/a.png", ContentFile(make_image_bytes(fmt="PNG")))
    StoredFile.objects.all().delete()

    assert storage.exists(name)
    assert StoredFile.objects.filter(name=name).exists()
    assert not storage.exists("images/missing.png")
    assert [e.endpoint for e in imagekit.requests.entries()][-2:] == ["list", "list"]


def test_open_streams_bytes_from_the_url_endpoint(storage, imagekit):
    data = make_image_bytes((50, 50))
    name = storage.save("images/o.jpg", ContentFile(data))

    with storage.open(name) as handle:
        assert handle.read() == data


def test_open_missing_raises_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("images/none.jpg")


def test_delete_by_recorded_file_id(storage, imagekit):
    name = storage.save("images/d.jpg", ContentFile(make_image_bytes()))
    file_id = StoredFile.objects.get(name=name).file_id

    storage.delete(name)

    assert imagekit.store.get(file_id) is None
    assert not StoredFile.objects.filter(name=name).exists()
    deletes = [e for e in imagekit.requests.entries("delete")]
    assert [e.path for e in deletes] == [f"/v1/files/{file_id}"]


def test_delete_of_file_already_gone_counts_as_deleted(storage, imagekit):
    name = storage.save("images/d.jpg", ContentFile(make_image_bytes()))
    imagekit.store.clear()

    storage.delete(name)

    assert not StoredFile.objects.filter(name=name).exists()


def test_delete_of_unknown_name_is_a_no_op(storage, imagekit):
    storage.delete("images/never.jpg")

    assert imagekit.requests.entries("delete") == []


def test_delete_failure_raises_and_is_kept_for_retry(storage, imagekit):
    name = storage.save("images/d.jpg", ContentFile(make_image_bytes()))
    imagekit.faults.fail("delete", 503, times=None, headers={"retry-after-ms": "1"})

    with pytest.raises(RemoteStorageError, match="try again later") as caught:
        storage.delete(name)

    assert caught.value.retryable
    assert isinstance(caught.value.__cause__, InternalServerError)
    row = StoredFile.objects.get(name=name)
    assert row.delete_failed_at is not None
    assert "503" in row.last_error
    assert IMAGEKIT_PRIVATE_KEY not in row.last_error
    assert not storage.exists(name)


def test_save_non_seekable_stream_is_spooled_and_sent_whole_on_retry(storage, imagekit):
    data = make_image_bytes((120, 80))
    imagekit.faults.fail("upload", 500, headers={"retry-after-ms": "1"})

    name = storage.save("images/s.jpg", File(NonSeekable(data), name="s.jpg"))

    record = imagekit.store.get_by_path("/catalog/images/s.jpg")
    assert imagekit.store.blob_path(record).read_bytes() == data
    assert [e.retry_count for e in imagekit.requests.entries("upload")] == [0, 1]
    assert StoredFile.objects.get(name=name).size == len(data)


def test_retried_upload_after_lost_answer_leaves_one_remote_file(storage, imagekit):
    # The first attempt is stored but its answer never arrives: the SDK retries.
    data = make_image_bytes()
    storage.save("images/r.jpg", ContentFile(data))
    imagekit.faults.drop("upload")

    storage.save("images/r.jpg", ContentFile(data))

    assert remote_paths(imagekit) == ["/catalog/images/r.jpg"]


def test_save_many_uploads_concurrently_and_cleans_up_on_failure(storage, imagekit):
    imagekit.faults.fail("upload", 400, body={"message": "Your request failed 'checks'."})

    with pytest.raises(Exception, match="400"):
        storage.save_many(
            [
                ("images/m1.jpg", ContentFile(make_image_bytes())),
                ("images/m2.jpg", ContentFile(make_image_bytes())),
            ]
        )

    assert remote_paths(imagekit) == []
    assert StoredFile.objects.count() == 0


def test_listdir_uses_the_list_api(storage, imagekit):
    storage.save("images/a.jpg", ContentFile(make_image_bytes()))
    storage.save("images/xs/b.jpg", ContentFile(make_image_bytes()))

    directories, files = storage.listdir("images")

    assert (directories, files) == (["xs"], ["a.jpg"])


def test_storage_rejects_paths_escaping_the_folder(storage):
    with pytest.raises(SuspiciousFileOperation):
        storage.save("../etc/passwd", ContentFile(b"x"))


def test_options_kwarg_beats_subclass_attribute_beats_setting(imagekit, settings):
    class Sub(ImageKitStorage):
        folder = "from-class"

    settings.IMAGEKIT_FOLDER = "from-settings"

    assert ImageKitStorage().folder == "from-settings"
    assert Sub().folder == "from-class"
    assert Sub(folder="from-kwarg").folder == "from-kwarg"


def test_unknown_option_is_improperly_configured(imagekit):
    with pytest.raises(ImproperlyConfigured, match="bucket"):
        ImageKitStorage(bucket="x")


def test_storage_pickles_without_client_or_key_in_repr(storage):
    storage.client  # noqa: B018 - build the lazy client
    copy = pickle.loads(pickle.dumps(storage))

    assert "client" not in copy.__dict__
    assert IMAGEKIT_PRIVATE_KEY not in repr(storage)
    assert copy.folder == storage.folder


def test_save_many_uploads_the_files_concurrently(storage, imagekit):
    imagekit.faults.delay("upload", 0.3)

    storage.save_many(
        [
            ("images/c1.jpg", ContentFile(make_image_bytes())),
            ("images/c2.jpg", ContentFile(make_image_bytes())),
        ]
    )

    first, second = sorted(imagekit.requests.entries("upload"), key=lambda e: e.started_at)
    assert second.started_at < first.started_at + first.duration, "uploads ran one by one"


def _upload_peak(tmp_path, server, megabytes: int) -> int:
    """Peak Python allocation (tracemalloc, all threads) while saving a file of that size."""
    source = tmp_path / f"{megabytes}.bin"
    with source.open("wb") as handle:
        for _ in range(megabytes):
            handle.write(os.urandom(1024 * 1024))
    storage = ImageKitStorage(
        private_key=IMAGEKIT_PRIVATE_KEY, url_endpoint=server.url_endpoint, api_base_url=server.url
    )
    storage.client  # noqa: B018 - build the client outside the measurement
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            name = storage.save(f"big/{megabytes}.bin", File(handle, name="blob.bin"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert server.store.get_by_path(f"/catalog/big/{megabytes}.bin").size == megabytes * 2**20
    assert StoredFile.objects.get(name=name).size == megabytes * 2**20
    return peak


def test_large_upload_is_streamed_not_held_in_memory(tmp_path):
    # A dedicated server: the shared one caps files at ImageKit's free-plan 25 MB.
    with ImageKitServer(
        root=tmp_path / "ik", private_key=IMAGEKIT_PRIVATE_KEY, max_file_size=64 * 2**20
    ) as server:
        small = _upload_peak(tmp_path, server, 4)
        large = _upload_peak(tmp_path, server, 40)

    # Ten times the body, far less memory than the file: buffers, not the file. The
    # peak counts every thread, the emulator's too, whose buffering depends on how
    # the threads were scheduled (seen from 2 to 10 MiB on a busy machine), so the
    # bound is against the file's size, not the small upload's peak.
    assert small < 16 * 2**20, f"peak {small / 2**20:.1f} MiB for a 4 MiB upload"
    assert large < 16 * 2**20, f"peak {large / 2**20:.1f} MiB for a 40 MiB upload"


def test_save_many_record_failure_deletes_the_uploaded_files(storage, imagekit, monkeypatch):
    def locked(self, *uploaded):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(ImageKitStorage, "_record", locked)

    with pytest.raises(RuntimeError, match="locked"):
        storage.save_many(
            [
                ("images/r1.jpg", ContentFile(make_image_bytes())),
                ("images/r2.jpg", ContentFile(make_image_bytes())),
            ]
        )

    assert remote_paths(imagekit) == []
