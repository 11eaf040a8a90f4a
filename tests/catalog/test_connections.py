"""Connections: pagination, filters and ordering of products and images."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Category, Image, Product, ProductVariant
from tests.catalog.factories import stored_image
from tests.utils import gid, graphql, graphql_data, nodes

pytestmark = pytest.mark.django_db

PRODUCTS = """
query Products($first: Int, $after: String, $filters: ProductFilter, $order: ProductOrder) {
  products(first: $first, after: $after, filters: $filters, order: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name } }
  }
}
"""

IMAGES = """
query Images($filters: ImageFilter, $order: ImageOrder) {
  images(filters: $filters, order: $order) { totalCount edges { node { name } } }
}
"""


def names(connection: dict) -> list[str]:
    return [node["name"] for node in nodes(connection)]


def make_products(count: int) -> list[Product]:
    return [Product.objects.create(name=f"P{i:03d}", slug=f"p{i}") for i in range(count)]


def test_products_default_page_is_20_with_total_count(client):
    make_products(25)

    data = graphql_data(client, PRODUCTS)["products"]

    assert data["totalCount"] == 25
    assert len(data["edges"]) == 20
    assert data["pageInfo"]["hasNextPage"] is True


def test_products_after_cursor_gives_the_next_page(client):
    make_products(25)
    first = graphql_data(client, PRODUCTS, {"first": 10})["products"]

    second = graphql_data(client, PRODUCTS, {"first": 10, "after": first["pageInfo"]["endCursor"]})[
        "products"
    ]

    assert names(first) == [f"P{i:03d}" for i in range(10)]
    assert names(second) == [f"P{i:03d}" for i in range(10, 20)]


@pytest.mark.parametrize(
    ("variables", "argument", "code"),
    [
        ({"first": 101}, "first", "INVALID_PAGE_SIZE"),
        ({"first": -1}, "first", "INVALID_PAGE_SIZE"),
        ({"after": "not-a-cursor"}, "after", "INVALID_CURSOR"),
    ],
)
def test_products_bad_pagination_is_an_error_naming_the_argument(client, variables, argument, code):
    body = graphql(client, PRODUCTS, variables)

    (error,) = body["errors"]
    assert error["extensions"] == {"code": code, "argument": argument}


def test_products_page_size_follows_settings(client, settings):
    make_products(6)
    settings.GRAPHQL = {"DEFAULT_PAGE_SIZE": 4, "MAX_PAGE_SIZE": 5}

    assert len(graphql_data(client, PRODUCTS)["products"]["edges"]) == 4
    assert graphql(client, PRODUCTS, {"first": 6})["errors"][0]["extensions"]["code"] == (
        "INVALID_PAGE_SIZE"
    )


def test_products_filter_name_contains(client):
    for name in ("Trail Runner", "City Sneaker", "Trail Bag"):
        Product.objects.create(name=name, slug=name.lower().replace(" ", "-"))

    data = graphql_data(client, PRODUCTS, {"filters": {"name": {"iContains": "trail"}}})

    assert names(data["products"]) == ["Trail Bag", "Trail Runner"]


def test_products_filter_category_has_images_and_sku(client):
    shoes = Category.objects.create(name="Shoes", slug="shoes")
    runner = Product.objects.create(name="Runner", slug="runner", category=shoes)
    Product.objects.create(name="Sneaker", slug="sneaker", category=shoes)
    Product.objects.create(name="Bag", slug="bag")
    for index in range(3):  # several images must not repeat the product
        stored_image(f"r{index}", product=runner)
    ProductVariant.objects.create(product=runner, name="42", sku="RUN-42", price=Decimal(1))

    def filtered(filters: dict) -> list[str]:
        return names(graphql_data(client, PRODUCTS, {"filters": filters})["products"])

    assert filtered({"category": gid(shoes)}) == ["Runner", "Sneaker"]
    assert filtered({"hasImages": True}) == ["Runner"]
    assert filtered({"hasImages": False}) == ["Bag", "Sneaker"]
    assert filtered({"sku": "RUN-42"}) == ["Runner"]
    assert filtered({"sku": "NOPE"}) == []


def test_products_order_by_name_created_and_updated(client):
    a, b, c = (Product.objects.create(name=n, slug=n) for n in ("b", "c", "a"))
    now = timezone.now()
    for product, days in ((a, 3), (b, 1), (c, 2)):
        Product.objects.filter(pk=product.pk).update(
            created_at=now - timedelta(days=days), updated_at=now - timedelta(days=4 - days)
        )

    def ordered(order: dict) -> list[str]:
        return names(graphql_data(client, PRODUCTS, {"order": order})["products"])

    assert ordered({"name": "DESC"}) == ["c", "b", "a"]
    assert ordered({"createdAt": "ASC"}) == ["b", "a", "c"]
    assert ordered({"updatedAt": "ASC"}) == ["c", "a", "b"]


def test_images_filter_by_name_and_creation_time(client):
    old, new = stored_image("old-photo"), stored_image("new-photo")
    Image.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()

    def filtered(filters: dict) -> list[str]:
        return names(graphql_data(client, IMAGES, {"filters": filters})["images"])

    assert filtered({"name": {"startsWith": "old"}}) == ["old-photo"]
    assert filtered({"createdAfter": cutoff}) == [new.name]
    assert filtered({"createdBefore": cutoff}) == [old.name]


def test_images_order_by_name(client):
    for name in ("b", "c", "a"):
        stored_image(name)

    data = graphql_data(client, IMAGES, {"order": {"name": "ASC"}})

    assert names(data["images"]) == ["a", "b", "c"]


# --- rows fetched for a page ---------------------------------------------------------


def product_rows_fetched(client, query: str, variables: dict | None = None):
    """The response's data, and the LIMIT of the products query it sent."""
    with CaptureQueriesContext(connection) as captured:
        data = graphql_data(client, query, variables)
    (products_sql,) = [q["sql"] for q in captured if 'FROM "catalog_product"' in q["sql"]]
    return data, products_sql.rsplit("LIMIT", 1)[1].split()[0]


@pytest.mark.parametrize(
    ("selection", "limit"),
    [
        ("edges { node { name } }", "3"),  # nobody asks about a next page: the page alone
        ("edges { cursor node { name } }", "3"),
        ("pageInfo { hasNextPage } edges { node { name } }", "4"),  # one row more tells
        ("...Paged edges { node { name } }", "4"),  # pageInfo asked through a fragment
        ("totalCount edges { node { name } }", "4"),
    ],
)
def test_a_page_fetches_one_row_more_only_when_a_next_page_is_asked_about(client, selection, limit):
    make_products(5)
    query = f"query {{ products(first: 3) {{ {selection} }} }}"
    if "...Paged" in selection:
        query += " fragment Paged on ProductConnection { pageInfo { hasNextPage } }"

    data, fetched = product_rows_fetched(client, query)

    assert fetched == limit
    assert names(data["products"]) == ["P000", "P001", "P002"]
    if "hasNextPage" in selection:
        assert data["products"]["pageInfo"]["hasNextPage"] is True
    if "totalCount" in selection:
        assert data["products"]["totalCount"] == 5


def test_a_page_after_a_cursor_is_still_the_next_page(client):
    make_products(5)
    first = graphql_data(client, PRODUCTS, {"first": 2})["products"]

    data, fetched = product_rows_fetched(
        client,
        "query ($after: String) { products(first: 2, after: $after) { edges { node { name } } } }",
        {"after": first["pageInfo"]["endCursor"]},
    )

    assert names(data["products"]) == ["P002", "P003"]
    assert fetched == "3"  # after a cursor, the window is strawberry's own
