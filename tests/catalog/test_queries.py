from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry.relay import to_base64

from catalog.models import Category, Product
from tests.catalog.factories import product_with_images, stored_image
from tests.utils import graphql, graphql_data, nodes, product_images_query

pytestmark = pytest.mark.django_db

PRODUCTS = """
{
  products(first: 50) {
    totalCount
    edges { node {
      id name slug summary description
      category { name slug }
      images { id name altText width height url small: url(transform: {width: 100}) }
      variants { sku price image { id url(transform: {width: 60, format: WEBP}) } }
    } }
  }
}
"""

PRODUCT = """
query Product($id: ID!) { product(id: $id) { name images { name } } }
"""


def test_products_returns_images_in_display_order(client):
    product = Product.objects.create(name="Lamp", slug="lamp")
    for name in ("front", "side", "back"):
        stored_image(name, product=product)
    for name, position in (("back", 0), ("front", 1), ("side", 2)):
        product.product_images.filter(image__name=name).update(sort_order=position)

    data = graphql_data(client, PRODUCTS)

    assert [i["name"] for i in nodes(data["products"])[0]["images"]] == ["back", "front", "side"]


def test_products_shared_image_is_listed_once_per_product(client):
    shared = stored_image("shared")
    for slug in ("a", "b"):
        Product.objects.create(name=slug, slug=slug).append_image(shared)

    data = graphql_data(client, PRODUCTS)

    assert [[i["name"] for i in p["images"]] for p in nodes(data["products"])] == [["shared"]] * 2


def test_products_fields_and_urls(client):
    category = Category.objects.create(name="Lights", slug="lights")
    product = product_with_images(1, images=1, category=category)
    image = product.images.get()

    data = graphql_data(client, PRODUCTS)

    (item,) = nodes(data["products"])
    assert item["id"] == to_base64("Product", product.pk)
    assert item["category"] == {"name": "Lights", "slug": "lights"}
    (img,) = item["images"]
    assert img["id"] == to_base64("Image", image.pk)
    assert (img["width"], img["height"]) == (64, 48)
    assert img["url"] == f"http://127.0.0.1:8000/media/{image.image.name}"
    assert img["small"].startswith(f"http://127.0.0.1:8000/media/tr:w-100/{image.image.name}?ik-s=")
    (variant,) = item["variants"]
    assert variant["sku"] == "SKU-1"
    assert variant["price"] == "9.99"
    assert f"/tr:w-60,f-webp/{image.image.name}?ik-s=" in variant["image"]["url"]


def test_product_by_id(client):
    product = product_with_images(7, images=2)

    data = graphql_data(client, PRODUCT, {"id": to_base64("Product", product.pk)})

    assert data["product"] == {
        "name": "Product 007",
        "images": [{"name": "p7-img0"}, {"name": "p7-img1"}],
    }


def test_product_by_unknown_id_is_null(client):
    body = graphql(client, PRODUCT, {"id": to_base64("Product", 12345)})

    assert body["data"] == {"product": None}


@pytest.mark.parametrize("count", [1, 5])
def test_products_query_count_is_constant(client, count):
    category = Category.objects.create(name="All", slug="all")
    for i in range(count):
        product_with_images(i, images=2, category=category)

    with CaptureQueriesContext(connection) as queries:
        data = graphql_data(client, PRODUCTS)

    assert len(nodes(data["products"])) == count
    # products + category (joined), images, variants (+ their image joined)
    assert len(queries) == 3, [q["sql"] for q in queries]


@pytest.mark.parametrize(
    ("transform", "argument"),
    [
        ("{width: 0}", "transform.width"),
        ("{width: 5000}", "transform.width"),
        ("{height: -3}", "transform.height"),
    ],
)
def test_url_out_of_range_argument_is_an_error_naming_it(client, transform, argument):
    product_with_images(1, images=1)

    body = graphql(client, product_images_query(f"url(transform: {transform})"))

    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_TRANSFORMATION", "argument": argument}
    assert argument in error["message"]


NODE_LOOKUPS = """
query Lookups($id: ID!) {
  image(id: $id) { name }
  node(id: $id) { id }
  nodes(ids: [$id]) { id }
}
"""


def test_private_image_is_found_by_id_only_for_staff(client, django_user_model):
    secret = stored_image("secret", is_private=True)
    variables = {"id": to_base64("Image", secret.pk)}

    public = graphql_data(client, NODE_LOOKUPS, variables)
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    staff = graphql_data(client, NODE_LOOKUPS, variables)

    assert public == {"image": None, "node": None, "nodes": [None]}
    assert staff["image"] == {"name": "secret"}
    assert staff["node"] == staff["nodes"][0] == {"id": variables["id"]}
