"""Every write to the catalog invalidates the cached responses when it commits.

These tests commit for real (transactional_db): a write, then a read through the
cache, gives the fresh data, whatever made the write. CI runs them on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models.signals import post_save

from catalog.models import Category, Image, Product, ProductImage
from config.graphql_cache import invalidation
from tests.catalog.factories import product_with_images
from tests.catalog.test_mutations_products import REORDER_PRODUCT_IMAGES, UPDATE_PRODUCT
from tests.graphql_cache.conftest import get, post
from tests.utils import auth, gid, user_with

pytestmark = pytest.mark.django_db(transaction=True)

LISTING = """
query Listing {
  products { edges { node { name images { name } createdBy: images { createdBy { username } } } } }
  categories { name }
}
"""


def listing(client) -> dict:
    response = get(client, query=LISTING)
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def warm(client, response_cache, django_assert_num_queries):
    """A product and a category, the listing cached (proved by a read without SQL)."""
    product = product_with_images(1, category=Category.objects.create(name="Old", slug="old"))
    listing(client)
    with django_assert_num_queries(0):
        listing(client)
    return product


def names(data: dict) -> list[str]:
    return [edge["node"]["name"] for edge in data["products"]["edges"]]


def test_write_through_the_api(client, warm, django_user_model):
    headers = auth(user_with(django_user_model, "change_product"))

    response = post(
        client,
        {"query": UPDATE_PRODUCT, "variables": {"id": gid(warm), "input": {"name": "Renamed"}}},
        **headers,
    )

    assert response.json()["data"]["updateProduct"]["__typename"] == "Product"
    assert names(listing(client)) == ["Renamed"]


def test_reorder_through_the_api_bulk_update(client, warm, django_user_model):
    # reorderProductImages writes with one bulk_update, which sends no model signal.
    headers = auth(user_with(django_user_model, "change_product"))
    before = [image["name"] for image in listing(client)["products"]["edges"][0]["node"]["images"]]

    post(
        client,
        {
            "query": REORDER_PRODUCT_IMAGES,
            "variables": {
                "productId": gid(warm),
                "imageIds": [
                    gid(image)
                    for image in reversed(warm.images.order_by("product_links__sort_order"))
                ],
            },
        },
        **headers,
    )

    after = [image["name"] for image in listing(client)["products"]["edges"][0]["node"]["images"]]
    assert after == list(reversed(before))


def test_write_through_the_admin(client, warm, django_user_model):
    category = Category.objects.get()
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)

    response = client.post(
        f"/admin/catalog/category/{category.pk}/change/",
        {"name": "Lamps", "slug": "lamps", "parent": ""},
    )

    assert response.status_code == 302, response.content[:500]
    client.logout()
    assert listing(client)["categories"] == [{"name": "Lamps"}]


def test_write_by_a_management_command(client, warm):
    call_command("load_demo_data", verbosity=0)

    assert len(names(listing(client))) == Product.objects.count() > 1


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: Product.objects.update(name="Updated"), id="queryset-update"),
        pytest.param(
            lambda: Product.objects.bulk_update(
                [Product(pk=p.pk, name="Updated") for p in Product.objects.all()], ["name"]
            ),
            id="bulk-update",
        ),
        pytest.param(
            lambda: connection.cursor().execute("UPDATE catalog_product SET name = 'Updated'"),
            id="raw-sql",
        ),
        pytest.param(lambda: _rename_each("Updated"), id="model-save"),
    ],
)
def test_writes_that_send_no_signal_too(client, warm, write):
    write()

    assert names(listing(client)) == ["Updated"]


def _rename_each(name: str) -> None:
    for product in Product.objects.all():
        product.name = name
        product.save()


def test_write_made_by_a_signal_receiver(client, warm):
    def rename_products(sender, instance, created, **kwargs):
        Product.objects.update(name=f"In {instance.name}")

    post_save.connect(rename_products, sender=Category, dispatch_uid="test_rename")
    try:
        with transaction.atomic():
            Category.objects.create(name="New", slug="new")
    finally:
        post_save.disconnect(dispatch_uid="test_rename", sender=Category)

    assert names(listing(client)) == ["In New"]


def test_uploader_renamed(client, warm, django_user_model):
    image = Image.objects.first()
    image.created_by = django_user_model.objects.create_user("before")
    image.save()
    assert "before" in str(listing(client))

    django_user_model.objects.filter(username="before").update(username="after")

    assert "after" in str(listing(client))


def test_delete(client, warm):
    ProductImage.objects.all().delete()
    Image.objects.all().delete()

    assert listing(client)["products"]["edges"][0]["node"]["images"] == []


def test_version_changes_on_commit_not_before(response_cache):
    product = product_with_images(1)
    before = invalidation.current()

    with transaction.atomic():
        Product.objects.filter(pk=product.pk).update(name="Inside")
        inside = invalidation.current()

    assert inside == before
    assert invalidation.current() != before


def test_rolled_back_write_changes_nothing(response_cache):
    product = product_with_images(1)
    before = invalidation.current()

    with transaction.atomic():
        Product.objects.filter(pk=product.pk).update(name="Never")
        transaction.set_rollback(True)

    assert invalidation.current() == before


def test_reads_and_other_tables_keep_the_version(client, response_cache, django_user_model):
    product_with_images(1)
    headers = auth(django_user_model.objects.create_user("shopper"))
    before = invalidation.current()

    listing(client)
    # The token's last_used_at is written on every token request.
    get(client, query=LISTING, **headers)
    Permission.objects.filter(codename="add_product").update(name="Can add product")

    assert invalidation.current() == before


def test_migrate_starts_afresh(response_cache):
    before = invalidation.current()

    call_command("migrate", verbosity=0)

    assert invalidation.current() != before


def test_lost_version_is_made_again(response_cache):
    from django.core.cache import cache

    first = invalidation.current()
    cache.delete(invalidation.VERSION_KEY)

    assert invalidation.current() != first


def test_watcher_survives_a_connection_opened_inside_an_execute_wrapper():
    # The request log counts queries in an execute_wrapper() block, and the
    # connection often opens inside it.
    alias = connection.alias
    connection.close()

    def counter(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(counter):
        Category.objects.exists()

    assert connections[alias].execute_wrappers == [invalidation.watch_writes]


@pytest.mark.django_db
def test_one_bump_per_transaction(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        Category.objects.create(name="A", slug="a")
        Category.objects.create(name="B", slug="b")
        Product.objects.update(name="C")

    assert callbacks.count(invalidation.bump) == 1


@pytest.mark.parametrize(
    ("sql", "touches"),
    [
        ('INSERT INTO "catalog_product" ("name") VALUES (%s)', True),
        ('UPDATE "catalog_productimage" SET "sort_order" = 1', True),
        ('DELETE FROM "catalog_image" WHERE "id" = %s', True),
        ('TRUNCATE "catalog_category", "catalog_product";', True),
        ("  update catalog_productvariant set price = 1", True),
        ('UPDATE "auth_user" SET "username" = %s', True),
        ('SELECT "catalog_product"."id" FROM "catalog_product"', False),
        ('UPDATE "accounts_apitoken" SET "last_used_at" = %s', False),
        ('INSERT INTO "django_session" ("session_key") VALUES (%s)', False),
    ],
)
def test_touches_catalog(sql, touches):
    assert invalidation.touches_catalog(sql) is touches
