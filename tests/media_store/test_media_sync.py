"""``manage.py media_sync``: a catalog's files moved between local storage and ImageKit.

ImageKit is the local ImageKit server, through the real SDK over HTTP.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from PIL import Image as PILImage

from catalog.management.commands.load_demo_data import PRODUCTS
from catalog.models import Image
from media_store.imagekit_server import ImageKitServer
from media_store.models import StoredFile
from media_store.selection import IMAGEKIT_STORAGE_BACKEND, LOCAL_STORAGE_BACKEND
from media_store.storage.imagekit import ImageKitStorage
from tests.catalog.factories import stored_image
from tests.conftest import use_storage
from tests.utils import call, graphql_data, nodes, png_claiming

pytestmark = pytest.mark.django_db

TO_IMAGEKIT = ("media_sync", "--from", "local", "--to", "imagekit")
TO_LOCAL = ("media_sync", "--from", "imagekit", "--to", "local")

# The README's storefront listing, every URL field of it (presets are issue 9's other part).
LISTING = """
{ products(first: 20, order: { name: ASC }) { edges { node {
  slug
  thumbnail { url }
  images {
    width height url small
    w200: url(transform: { width: 200, format: AUTO })
    large: url(transform: { width: 1200, height: 800, crop: AT_MAX })
    srcset(widths: [320, 640])
  }
  variants { sku image { w60: url(transform: { width: 60 }) } }
} } } }
"""


def remote_files(server: ImageKitServer) -> dict[str, bytes]:
    """Name (under /catalog/) → bytes of every file on the ImageKit server."""
    return {
        record.file_path.removeprefix("/catalog/"): server.store.blob_path(record).read_bytes()
        for record in server.store.files()
    }


def local_files(media_root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(media_root).as_posix(): path.read_bytes()
        for path in media_root.rglob("*")
        if path.is_file()
    }


def referenced_names() -> set[str]:
    return {name for image in Image.objects.all() for name in image.stored_names()}


def fetch_image(url: str) -> PILImage.Image:
    response = httpx.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return PILImage.open(io.BytesIO(response.content))


def expected_sizes(image: dict) -> list[tuple[str, object]]:
    """(url, check) for every URL of one listed image; a check is a size or a predicate."""
    checks: list[tuple[str, object]] = [
        (image["url"], (image["width"], image["height"])),
        (image["small"], lambda size: max(size) == 320),
        (image["w200"], lambda size: size[0] == 200),
        (image["large"], lambda size: size[0] <= 1200 and size[1] <= 800),
    ]
    for url, width in re.findall(r"(\S+) (\d+)w", image["srcset"]):
        checks.append((url, lambda size, width=int(width): size[0] == width))
    return checks


@pytest.fixture
def local_catalog(media_root) -> int:
    """The demo catalog made on local storage; the number of stored files it references."""
    call_command("load_demo_data", stdout=io.StringIO())
    return 2 * sum(len(product[3]) for product in PRODUCTS.values())


# --- local → ImageKit, then served on ImageKit ------------------------------------------


def test_media_sync_moves_a_local_catalog_that_imagekit_then_serves(
    local_catalog, media_root, imagekit_account, settings, client
):
    images = local_catalog // 2
    # given: the demo catalog on local storage, the app switched to ImageKit, nothing there
    use_storage(settings, IMAGEKIT_STORAGE_BACKEND)
    before = call("media_check")

    # when
    synced = call(*TO_IMAGEKIT)
    after = call("media_check")

    # then: media_check counted every file missing, by field, and none after
    assert before.returncode == 1
    assert (
        f"{local_catalog} missing (catalog.Image.image: {images}, "
        f"catalog.Image.image_xs: {images})" in before.output
    )
    assert after.error is None, after.output
    assert f"{local_catalog} file(s) referenced, {local_catalog} stored: 0 missing" in (
        after.output
    )
    # every file copied byte for byte under its own name, with ImageKit's answer recorded
    assert synced.error is None, synced.output
    assert f"Copied {local_catalog} file(s)" in synced.output
    assert remote_files(imagekit_account) == local_files(media_root)
    recorded = {row.name: row for row in StoredFile.objects.all()}
    assert set(recorded) == referenced_names()
    for name, row in recorded.items():
        remote = imagekit_account.store.get_by_path(f"/catalog/{name}")
        assert (row.file_id, row.size, row.width) == (remote.file_id, remote.size, remote.width)
    # and every URL the listing returns answers 200 with the size it asks for
    products = nodes(graphql_data(client, LISTING)["products"])
    checks = []
    for product in products:
        checks.append((product["thumbnail"]["url"], None))
        for image in product["images"]:
            checks += expected_sizes(image)
        for variant in product["variants"]:
            checks.append((variant["image"]["w60"], lambda size: size[0] == 60))
    assert len(products) == len(PRODUCTS)
    for url, check in checks:
        assert url.startswith(imagekit_account.url_endpoint), url
        size = fetch_image(url).size
        assert check is None or (check(size) if callable(check) else size == check), (url, size)


def test_media_sync_run_again_copies_nothing(local_catalog, imagekit_account):
    call(*TO_IMAGEKIT)
    imagekit_account.requests.clear()

    again = call(*TO_IMAGEKIT)

    assert again.error is None, again.output
    assert "Copied 0 file(s) (0 bytes)" in again.output
    assert f"; {local_catalog} already there;" in again.output
    # One listing, no upload, no read.
    assert {entry.endpoint for entry in imagekit_account.requests.entries()} == {"list"}


def test_media_sync_resumes_after_an_interrupted_run(media_root, imagekit_account, monkeypatch):
    for index in range(4):
        stored_image(f"resume{index}")
    total = 8
    real_put = ImageKitStorage.put
    calls = []

    def put_then_ctrl_c(storage, name, content):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of the run
        return real_put(storage, name, content)

    monkeypatch.setattr(ImageKitStorage, "put", put_then_ctrl_c)
    interrupted = call(*TO_IMAGEKIT, "--workers", "1")
    monkeypatch.setattr(ImageKitStorage, "put", real_put)
    copied_before = remote_files(imagekit_account)

    resumed = call(*TO_IMAGEKIT)

    assert interrupted.returncode == 130
    assert "Interrupted." in interrupted.output
    assert "run media_sync again" in str(interrupted.error)
    assert 2 <= len(copied_before) < total
    assert all(local_files(media_root)[name] == data for name, data in copied_before.items())
    assert resumed.error is None, resumed.output
    assert f"Copied {total - len(copied_before)} file(s)" in resumed.output
    assert f"; {len(copied_before)} already there;" in resumed.output
    assert remote_files(imagekit_account) == local_files(media_root)
    assert set(StoredFile.objects.values_list("name", flat=True)) == referenced_names()


def test_media_sync_replaces_a_file_of_another_size(media_root, imagekit_account):
    image = stored_image("replaced")
    ImageKitStorage().save(image.image.name, ContentFile(b"an older, different file"))

    synced = call(*TO_IMAGEKIT)

    assert synced.error is None, synced.output
    assert "Copied 2 file(s)" in synced.output
    assert remote_files(imagekit_account) == local_files(media_root)
    assert StoredFile.objects.get(name=image.image.name).size == image.size


def test_media_sync_reports_a_corrupt_and_a_missing_source_and_copies_the_rest(
    media_root, imagekit_account
):
    kept, corrupt, incomplete = (stored_image(n) for n in ("kept", "corrupt", "incomplete"))
    original = media_root / corrupt.image.name
    original.write_bytes(original.read_bytes()[:200])  # a truncated JPEG
    (media_root / incomplete.image_xs.name).unlink()

    synced = call(*TO_IMAGEKIT)

    assert synced.returncode == 1
    assert "2 file(s) were not copied" in str(synced.error)
    assert f"not a readable image: {corrupt.image.name}: it does not decode" in synced.output
    assert f"catalog.Image pk={corrupt.pk} field=image" in synced.output
    assert (
        f"missing at the source: {incomplete.image_xs.name} — "
        f"catalog.Image pk={incomplete.pk} field=image_xs" in synced.output
    )
    assert "Copied 4 file(s)" in synced.output
    assert "1 missing at the source; 1 not readable images; 0 failed." in synced.output
    assert set(remote_files(imagekit_account)) == {
        kept.image.name,
        kept.image_xs.name,
        corrupt.image_xs.name,
        incomplete.image.name,
    }
    assert StoredFile.objects.count() == 4


def test_media_sync_refuses_images_claiming_too_many_pixels_in_every_worker(
    media_root, imagekit_account
):
    # 100 megapixels each: past Pillow's MAX_IMAGE_PIXELS, short of its own refusal, so
    # only our check keeps them from being decoded; four workers check them at once.
    bombs = [stored_image(f"bomb{i}") for i in range(8)]
    for bomb in bombs:
        (media_root / bomb.image.name).write_bytes(png_claiming(10_000, 10_000))

    with pytest.warns(PILImage.DecompressionBombWarning):  # Pillow's own, from open()
        synced = call(*TO_IMAGEKIT, "--workers", "4")

    assert synced.returncode == 1
    for bomb in bombs:
        assert (
            f"not a readable image: {bomb.image.name}: it claims 10000×10000 pixels, more than"
            f" Pillow decodes safely ({PILImage.MAX_IMAGE_PIXELS})" in synced.output
        )
    assert "0 missing at the source; 8 not readable images; 0 failed." in synced.output
    assert set(remote_files(imagekit_account)) == {bomb.image_xs.name for bomb in bombs}


def test_media_sync_dry_run_stores_nothing(media_root, imagekit_account):
    image = stored_image("dry")

    dry = call(*TO_IMAGEKIT, "--dry-run")

    assert dry.error is None, dry.output
    assert f"would copy: {image.image.name} ({image.size} bytes)" in dry.output
    assert f"would copy: {image.image_xs.name}" in dry.output
    assert "Dry run: nothing was copied or recorded. Would copy 2 file(s)" in dry.output
    assert remote_files(imagekit_account) == {}
    assert StoredFile.objects.count() == 0
    assert {entry.endpoint for entry in imagekit_account.requests.entries()} == {"list"}


def test_media_sync_dry_run_reports_a_missing_source_and_exits_non_zero(
    media_root, imagekit_account
):
    image = stored_image("gone")
    (media_root / image.image.name).unlink()

    dry = call(*TO_IMAGEKIT, "--dry-run")

    assert dry.returncode == 1
    assert f"missing at the source: {image.image.name}" in dry.output
    assert "1 file(s) would not be copied" in str(dry.error)
    assert remote_files(imagekit_account) == {}


def test_media_sync_copies_concurrently(media_root, imagekit_account):
    stored_image("a"), stored_image("b")
    imagekit_account.faults.delay("upload", 0.3)

    synced = call(*TO_IMAGEKIT, "--workers", "4")

    assert synced.error is None, synced.output
    uploads = sorted(imagekit_account.requests.entries("upload"), key=lambda e: e.started_at)
    assert len(uploads) == 4
    assert uploads[1].started_at < uploads[0].started_at + uploads[0].duration, "one by one"


def test_media_sync_a_copy_that_does_not_read_back_is_removed(media_root, imagekit_account):
    stored_image("unverified")
    imagekit_account.faults.fail("cdn", 500, times=None)

    synced = call(*TO_IMAGEKIT)

    assert synced.returncode == 1
    assert synced.output.count("failed: ") == 2
    assert "could not serve" in synced.output
    assert "0 already there; 0 missing at the source; 0 not readable images; 2 failed." in (
        synced.output
    )
    assert remote_files(imagekit_account) == {}
    assert StoredFile.objects.count() == 0


def test_media_sync_prints_numbered_lines_when_not_on_a_terminal(media_root, imagekit_account):
    image = stored_image("lines")

    synced = call(*TO_IMAGEKIT)

    names = sorted(image.stored_names())
    assert f"[1/2] copied: {names[0]}" in synced.output or f"[1/2] copied: {names[1]}" in (
        synced.output
    )
    assert "[2/2] copied: " in synced.output


# --- ImageKit → local ---------------------------------------------------------------------


def test_media_sync_imagekit_to_local_restores_every_file(imagekit, media_root, settings, client):
    images = [stored_image("back1"), stored_image("back2", size=(300, 200))]
    on_imagekit = remote_files(imagekit)

    synced = call(*TO_LOCAL)
    use_storage(settings, LOCAL_STORAGE_BACKEND)
    check = call("media_check")

    assert synced.error is None, synced.output
    assert "Copied 4 file(s)" in synced.output
    assert local_files(media_root) == on_imagekit
    assert check.error is None, check.output
    assert "0 missing" in check.output
    for image in images:
        image.refresh_from_db()
        served = client.get(image.image.url.removeprefix(settings.SITE_URL))
        assert served.status_code == 200
        with PILImage.open(io.BytesIO(b"".join(served.streaming_content))) as decoded:
            assert decoded.size == (image.width, image.height)


def test_media_sync_reads_imagekit_originals_untouched(imagekit, media_root):
    stored_image("original")
    imagekit.requests.clear()

    call(*TO_LOCAL)

    reads = [entry.path for entry in imagekit.requests.entries("cdn")]
    assert len(reads) == 2  # each file once; the read-back is of the local copy
    assert all("/tr:orig-true/" in path for path in reads), reads


# --- refusals -----------------------------------------------------------------------------


def test_media_sync_between_a_storage_and_itself_is_refused(media_root):
    refused = call("media_sync", "--from", "local", "--to", "local")

    assert "--from and --to are both 'local'" in str(refused.error)


def test_media_sync_to_imagekit_without_its_settings_is_refused(media_root, settings):
    settings.IMAGEKIT_PRIVATE_KEY = ""

    refused = call(*TO_IMAGEKIT)

    assert refused.returncode == 1
    assert "The imagekit storage is not configured" in str(refused.error)
    assert "IMAGEKIT_PRIVATE_KEY" in str(refused.error)
