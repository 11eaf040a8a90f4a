"""The seed's upload tests, and the upload path's failure modes, on ImageKitStorage.

Everything goes through the real imagekitio SDK over HTTP to the local ImageKit
server; nothing replaces the client or its transport.
"""

from __future__ import annotations

import io
import time
from io import StringIO

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage
from strawberry.relay import to_base64

from catalog.models import Image, Product, ProductImage
from catalog.uploads import NewFile, add_image
from media_store.grammar import parse
from media_store.models import StoredFile
from tests.conftest import make_image_bytes
from tests.utils import graphql_data, multipart_upload, product_images_query

pytestmark = pytest.mark.django_db

UPLOAD = """
mutation Upload($file: Upload!, $productId: ID) {
  uploadImage(file: $file, productId: $productId) {
    __typename
    ... on Image { id width height url }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""


def remote_paths(server) -> list[str]:
    return sorted(record.file_path for record in server.store.files())


def upload_image(size=(800, 600), fmt="JPEG", **kwargs) -> Image:
    return add_image(
        NewFile(ContentFile(make_image_bytes(size, fmt=fmt), name=f"photo.{fmt.lower()}")),
        created_by=None,
        **kwargs,
    )


def fetch(url: str) -> PILImage.Image:
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    return PILImage.open(io.BytesIO(response.content))


class ImageKitUploadTestCase:
    def test_basic_image_upload_to_imagekit(self, imagekit):
        image = upload_image()

        assert remote_paths(imagekit) == sorted(
            [f"/catalog/{image.image.name}", f"/catalog/{image.image_xs.name}"]
        )
        record = imagekit.store.get_by_path(f"/catalog/{image.image.name}")
        assert imagekit.store.blob_path(record).read_bytes()[:2] == b"\xff\xd8"

    def test_product_image_creation_with_imagekit(self, imagekit):
        product = Product.objects.create(name="Shoe", slug="shoe")

        image = upload_image(product=product)

        assert list(product.images.all()) == [image]
        assert StoredFile.objects.filter(name=image.image.name).exists()

    def test_multiple_images_upload(self, imagekit):
        images = [upload_image((100 + i, 100)) for i in range(3)]

        assert len({image.image.name for image in images}) == 3
        assert len(remote_paths(imagekit)) == 6
        assert [image.width for image in images] == [100, 101, 102]

    def test_product_with_multiple_images(self, imagekit):
        product = Product.objects.create(name="Bag", slug="bag")

        images = [upload_image(product=product) for _ in range(3)]

        links = ProductImage.objects.filter(product=product).order_by("sort_order")
        assert [link.image for link in links] == images
        assert [link.sort_order for link in links] == [0, 1, 2]

    def test_image_with_small_variant(self, imagekit):
        image = upload_image((1200, 900))

        small = fetch(image.image_xs.url)
        assert small.size == (320, 240)
        assert image.image_xs.name == f"images/xs/{image.id.hex}.jpg"

    def test_imagekit_url_format(self, imagekit):
        image = upload_image()
        storage = storages["default"]

        assert image.image.url == f"{imagekit.url_endpoint}/catalog/{image.image.name}"
        transformed = storage.transformed_url(image.image.name, parse("w-120,f-webp"))
        assert transformed == (
            f"{imagekit.url_endpoint}/tr:w-120,f-webp/catalog/{image.image.name}"
        )
        rendered = fetch(transformed)
        assert (rendered.format, rendered.width) == ("WEBP", 120)

    def test_upload_with_imagekit_options(self, imagekit, settings):
        settings.IMAGEKIT_FOLDER = "shop/products"
        settings.IMAGEKIT_TAGS = ["catalog", "product"]
        settings.STORAGES = {**settings.STORAGES}  # rebuild the storage with new options

        image = upload_image()

        record = imagekit.store.get_by_path(f"/shop/products/{image.image.name}")
        assert record is not None
        assert record.tags == ["catalog", "product"]
        assert image.image.url.endswith(f"/shop/products/{image.image.name}")


class ImageKitUploadValidationTestCase:
    def test_upload_response_metadata(self, imagekit):
        image = upload_image((640, 480), fmt="PNG")

        row = StoredFile.objects.get(name=image.image.name)
        record = imagekit.store.get_by_path(f"/catalog/{image.image.name}")
        assert row.file_id == record.file_id
        assert (row.width, row.height, row.size, row.mime) == (640, 480, record.size, "image/png")
        assert image.size == record.size

    def test_image_dimensions_preserved(self, imagekit):
        image = upload_image((1920, 1080))

        assert (image.width, image.height) == (1920, 1080)
        assert storages["default"].dimensions(image.image.name) == (1920, 1080)
        assert fetch(image.image.url).size == (1920, 1080)


# --- Through GraphQL, with faults -------------------------------------------------


def gql_upload(client, token, content=None, **variables):
    response = multipart_upload(
        client,
        UPLOAD,
        content=content or make_image_bytes((400, 300)),
        variables=variables,
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["uploadImage"]


FAST_RETRY = {"retry-after-ms": "5"}


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda s: s.faults.fail("upload", 500, headers=FAST_RETRY), id="500-once"),
        pytest.param(
            lambda s: s.faults.fail("upload", 429, headers={"Retry-After": "1"}), id="429-retry"
        ),
        pytest.param(lambda s: s.faults.drop("upload"), id="dropped-connection"),
    ],
)
def test_upload_recovers_from_transient_fault_with_one_remote_file_each(
    client, editor_token, imagekit, fault
):
    fault(imagekit)

    result = gql_upload(client, editor_token)

    assert result["__typename"] == "Image"
    image = Image.objects.get()
    assert remote_paths(imagekit) == sorted(
        [f"/catalog/{image.image.name}", f"/catalog/{image.image_xs.name}"]
    )


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(
            lambda s: s.faults.fail("upload", 503, times=None, headers=FAST_RETRY),
            id="persistent-503",
        ),
        pytest.param(lambda s: s.faults.drop("upload", times=None), id="always-dropped"),
    ],
)
def test_upload_failing_upstream_is_a_clear_error_with_nothing_stored(
    client, editor_token, imagekit, settings, fault
):
    settings.IMAGEKIT_UPLOAD_TIMEOUT = 0.5
    settings.IMAGEKIT_MAX_RETRIES = 1
    settings.STORAGES = {**settings.STORAGES}
    fault(imagekit)

    result = gql_upload(client, editor_token)

    assert result["__typename"] == "OperationInfo"
    (message,) = result["messages"]
    assert (message["field"], message["code"]) == ("file", "storage_unavailable")
    assert "try again" in message["message"]
    assert Image.objects.count() == 0
    assert StoredFile.objects.count() == 0
    assert remote_paths(imagekit) == []


def test_upload_timeout_is_a_clear_error_and_late_files_are_collected(
    client, editor_token, imagekit, settings
):
    settings.IMAGEKIT_UPLOAD_TIMEOUT = 0.3
    settings.IMAGEKIT_MAX_RETRIES = 1
    settings.STORAGES = {**settings.STORAGES}
    imagekit.faults.delay("upload", 0.8)

    result = gql_upload(client, editor_token)

    assert [m["code"] for m in result["messages"]] == ["storage_unavailable"]
    assert Image.objects.count() == StoredFile.objects.count() == 0
    # The server finishes the attempts the client gave up on: two files, two tries each.
    deadline = time.monotonic() + 10
    while len(imagekit.requests.entries("upload")) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(remote_paths(imagekit)) == 2, "late uploads overwrite the same two paths"
    call_command("media_gc", "--grace-hours=0", "--delete", stdout=StringIO())
    assert remote_paths(imagekit) == []


def test_upload_row_failure_after_upload_removes_remote_files(
    client, editor_token, imagekit, monkeypatch
):
    def fail(self, image):
        raise RuntimeError("database refused the link")

    monkeypatch.setattr(Product, "append_image", fail)
    product = Product.objects.create(name="Lamp", slug="lamp")

    response = multipart_upload(
        client,
        UPLOAD,
        content=make_image_bytes(),
        variables={"productId": to_base64("Product", product.pk)},
        Authorization=f"Bearer {editor_token}",
    )

    assert response.json()["errors"]
    assert Image.objects.count() == 0
    assert remote_paths(imagekit) == []
    assert StoredFile.objects.count() == 0


def test_graphql_urls_point_at_imagekit(client, imagekit):
    product = Product.objects.create(name="Lamp", slug="lamp")
    image = upload_image((600, 400), product=product)

    data = graphql_data(
        client, product_images_query("url small: url(transform: {width: 90, format: PNG})")
    )

    (item,) = data["products"]["edges"][0]["node"]["images"]
    assert item["url"] == f"{imagekit.url_endpoint}/catalog/{image.image.name}"
    assert (fetch(item["small"]).format, fetch(item["small"]).size) == ("PNG", (90, 60))


def test_upload_stores_its_records_and_row_in_two_statements(imagekit):
    # given: the original and the small variant go upstream together
    with CaptureQueriesContext(connection) as queries:
        image = upload_image()

    # then: one upsert records both files, one insert makes the row; nothing else
    # (transaction control aside) reaches the database
    statements = [
        query["sql"].split(" (", 1)[0]
        for query in queries.captured_queries
        if not query["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert statements == [
        'INSERT INTO "media_store_storedfile"',
        'INSERT INTO "catalog_image"',
    ]
    assert set(StoredFile.objects.values_list("name", flat=True)) == {
        image.image.name,
        image.image_xs.name,
    }


def test_an_upload_request_makes_four_statements(client, editor_token, imagekit):
    # Warm: the content types Django caches once per process.
    gql_upload(client, editor_token)

    with CaptureQueriesContext(connection) as queries:
        assert gql_upload(client, editor_token)["__typename"] == "Image"

    statements = [
        query["sql"].split(" ", 3)[:3]
        for query in queries.captured_queries
        if not query["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    # The token with its user, the user's permissions (own and groups' in one UNION),
    # the two files' records, the row.
    assert len(statements) == 4, [query["sql"][:120] for query in queries.captured_queries]
    assert 'FROM "accounts_apitoken"' in queries.captured_queries[0]["sql"]
    assert " UNION " in queries.captured_queries[1]["sql"]
    assert statements[2:] == [
        ["INSERT", "INTO", '"media_store_storedfile"'],
        ["INSERT", "INTO", '"catalog_image"'],
    ]


@pytest.mark.django_db(transaction=True)
def test_deleting_an_image_removes_remote_files_after_commit(imagekit):
    image = upload_image()
    assert len(remote_paths(imagekit)) == 2

    with transaction.atomic():
        image.delete()
        assert len(remote_paths(imagekit)) == 2, "deleted before commit"

    assert remote_paths(imagekit) == []
    assert StoredFile.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_upload_in_rolled_back_transaction_is_collected_by_media_gc(imagekit):
    kept = upload_image()

    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
        upload_image()
        raise RuntimeError("the caller's transaction rolls back")

    assert len(remote_paths(imagekit)) == 4
    out = StringIO()
    call_command("media_gc", "--grace-hours=0", stdout=out)
    listed = out.getvalue()
    assert listed.count("Unreferenced: images/") == 2
    assert kept.image.name not in listed

    call_command("media_gc", "--grace-hours=0", "--delete", stdout=StringIO())

    assert remote_paths(imagekit) == sorted(
        [f"/catalog/{kept.image.name}", f"/catalog/{kept.image_xs.name}"]
    )


def test_media_gc_grace_period_keeps_young_files(imagekit):
    storages["default"].save("images/young.jpg", ContentFile(make_image_bytes()))

    out = StringIO()
    call_command("media_gc", "--delete", stdout=out)

    assert "0 file(s)" in out.getvalue()
    assert remote_paths(imagekit) == ["/catalog/images/young.jpg"]


def test_media_gc_retries_failed_deletions(imagekit):
    image = upload_image()
    imagekit.faults.fail("delete", 503, times=None, headers=FAST_RETRY)
    with pytest.raises(Exception, match="503"):
        storages["default"].delete(image.image_xs.name)
    imagekit.faults.reset()
    Image.objects.filter(pk=image.pk).update(image_xs="")

    out = StringIO()
    call_command("media_gc", "--delete", stdout=out)

    assert "earlier deletion failed" in out.getvalue()
    assert remote_paths(imagekit) == [f"/catalog/{image.image.name}"]


def test_failed_upload_leaks_no_secret_in_response_or_logs(
    client, editor_token, imagekit, settings, caplog
):
    settings.IMAGEKIT_MAX_RETRIES = 0
    settings.STORAGES = {**settings.STORAGES}
    imagekit.faults.fail("upload", 500, times=None)
    caplog.set_level("DEBUG")

    response = multipart_upload(
        client,
        UPLOAD,
        content=make_image_bytes(),
        Authorization=f"Bearer {editor_token}",
    )

    text = response.content.decode() + caplog.text
    assert "storage_unavailable" in response.content.decode()
    for secret in (settings.IMAGEKIT_PRIVATE_KEY, settings.SECRET_KEY, editor_token):
        assert secret not in text
