"""Exact SQL query counts of the hot read paths; URL fields never touch the storage.

Counts are exact on purpose: a new query on a listing is a regression to look at,
even when it is constant. Timings are never asserted here (bench/bench_listing.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry.relay import to_base64

from catalog.models import Category, Image, Product, ProductVariant
from tests.catalog.factories import product_with_images
from tests.utils import graphql_data, nodes

pytestmark = pytest.mark.django_db

IMAGE_FIELDS = """
  id altText width height
  small: url(transform: {width: 100, format: WEBP})
  medium: url(transform: {width: 400})
  large: url(transform: {width: 1200, height: 800, crop: AT_MAX})
  srcset(widths: [320, 640])
  placeholder { blurhash dominantColor }
  createdBy { username }
"""

PRODUCT_FIELDS = f"""
  id name slug
  category {{ name }}
  thumbnail {{ url(transform: {{width: 200}}) }}
  images {{ {IMAGE_FIELDS} }}
  variants {{ sku price image {{ id url(transform: {{width: 60}}) }} }}
"""

PRODUCT_LISTING = f"""
{{ products(first: 50) {{ totalCount edges {{ node {{ {PRODUCT_FIELDS} }} }} }} }}
"""

# Only aliased `url`s, nothing else that reads the `image` column: strawberry-django's
# optimizer drops the hints of a field selected twice with different arguments.
ALIASED_URLS = """
  small: url(transform: {width: 100})
  large: url(transform: {width: 1200})
"""
ALIASED_URLS_ONLY = f"""
{{
  products(first: 50) {{ edges {{ node {{
    images {{ {ALIASED_URLS} }}
    variants {{ image {{ {ALIASED_URLS} }} }}
  }} }} }}
  images(first: 20) {{ edges {{ node {{ {ALIASED_URLS} }} }} }}
}}
"""

IMAGE_LISTING = f"""
{{ images(first: 20) {{ totalCount edges {{ node {{ {IMAGE_FIELDS} }} }} }} }}
"""

PRODUCT_BY_SLUG = f"""
query Product($slug: String!) {{ product(slug: $slug) {{ {PRODUCT_FIELDS} }} }}
"""

NODE = f"""
query Node($id: ID!) {{ node(id: $id) {{ ... on Product {{ {PRODUCT_FIELDS} }} }} }}
"""

VARIANT_BY_SKU = """
query Variant($sku: String!) {
  variant(sku: $sku) {
    sku price
    product { name images { id medium: url(transform: {width: 400}) } }
    image { id url(transform: {width: 60}) srcset(widths: [320, 640]) }
  }
}
"""

# Everything a storage does with the files themselves; URLs must need none of it.
STORAGE_IO = ("exists", "open", "_open", "size", "path", "listdir", "get_modified_time")


def make_catalog(products: int, *, images: int = 4) -> list[Product]:
    """Products in one category with ``images`` stored images and 2 variants each.

    Every image is made by a user, so ``createdBy`` needs its join.
    """
    category = Category.objects.create(name="Lamps", slug="lamps")
    made = [product_with_images(i, images=images, category=category) for i in range(products)]
    for product in made:
        ProductVariant.objects.create(
            product=product,
            name="Large",
            sku=f"SKU-{product.pk}-L",
            price=Decimal("19.99"),
            image=product.product_images.order_by("sort_order").last().image,
        )
    Image.objects.update(created_by=get_user_model().objects.create_user("photographer"))
    return made


@contextmanager
def storage_refused() -> Iterator[None]:
    """Fail whatever reads a stored file or asks the storage about one."""
    storage_class = type(storages["default"])

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"the storage was asked {args!r}")

    with ExitStack() as stack:
        for method in STORAGE_IO:
            stack.enter_context(patch.object(storage_class, method, refuse))
        yield


def run(client, query: str, variables: dict | None = None) -> tuple[int, dict, list[str]]:
    """``data`` of ``query``, with the SQL it ran; the storage may not be touched."""
    with storage_refused(), CaptureQueriesContext(connection) as queries:
        data = graphql_data(client, query, variables)
    return len(queries), data, [query["sql"] for query in queries]


def all_urls(value) -> list[str]:
    if isinstance(value, dict):
        return [url for item in value.values() for url in all_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in all_urls(item)]
    return [value] if isinstance(value, str) and value.startswith("http") else []


def test_storage_refused_catches_a_file_read():
    (product,) = make_catalog(1, images=1)

    with storage_refused(), pytest.raises(AssertionError, match="the storage was asked"):
        product.images.get().image.size  # noqa: B018


@pytest.mark.parametrize("products", [5, 50])
def test_product_listing_query_count_is_constant(client, products):
    make_catalog(products)

    count, data, sql = run(client, PRODUCT_LISTING)

    listed = nodes(data["products"])
    assert len(listed) == products
    assert [len(p["images"]) for p in listed] == [4] * products
    assert all(v["image"]["url"] for p in listed for v in p["variants"])
    # products + category + total (window), images + uploaders, variants + their images
    assert count == 3, sql


THUMBNAILS = """
{ products(first: 50) { edges { node { name thumbnail { url(transform: {width: 200}) } } } } }
"""
UPLOADER_IN_THUMBNAIL_ONLY = """
fragment Uploader on Image { createdBy { username } }
{ products(first: 50) { edges { node {
  thumbnail { ...Uploader }
  images { id }
} } } }
"""


def test_listing_without_uploader_joins_no_users(client):
    make_catalog(5)

    count, data, sql = run(client, THUMBNAILS)

    assert len(nodes(data["products"])) == 5
    assert count == 2, sql
    assert not any("auth_user" in query for query in sql), sql


@pytest.mark.parametrize("products", [5, 50])
def test_uploader_asked_by_one_of_two_image_fields_is_joined_once(client, products):
    make_catalog(products)

    count, data, sql = run(client, UPLOADER_IN_THUMBNAIL_ONLY)

    listed = nodes(data["products"])
    assert [p["thumbnail"]["createdBy"]["username"] for p in listed] == ["photographer"] * products
    assert [len(p["images"]) for p in listed] == [4] * products
    # products, then images with their uploaders (one prefetch shared by both fields)
    assert count == 2, sql
    assert "auth_user" in sql[1]


@pytest.mark.parametrize("products", [5, 50])
def test_aliased_urls_query_count_is_constant(client, products):
    make_catalog(products, images=2)

    count, data, sql = run(client, ALIASED_URLS_ONLY)

    assert len(all_urls(data)) == 2 * (products * 2 + products * 2 + min(products * 2, 20))
    # products, their images, their variants + images, the images page
    assert count == 4, sql


@pytest.mark.parametrize("images", [3, 25])
def test_image_listing_query_count_is_constant(client, images):
    make_catalog(images, images=1)

    count, data, sql = run(client, IMAGE_LISTING)

    assert len(nodes(data["images"])) == min(images, 20)
    # images + uploaders + total (window)
    assert count == 1, sql


@pytest.mark.parametrize("images", [2, 5])
def test_product_by_slug_query_count(client, images):
    make_catalog(2, images=images)

    count, data, sql = run(client, PRODUCT_BY_SLUG, {"slug": "product-1"})

    assert len(data["product"]["images"]) == images
    # the product + category, its images + uploaders, its variants + images
    assert count == 3, sql


@pytest.mark.parametrize("images", [2, 5])
def test_node_query_count(client, images):
    product, _ = make_catalog(2, images=images)

    count, data, sql = run(client, NODE, {"id": to_base64("Product", product.pk)})

    assert len(data["node"]["images"]) == images
    # the product + category, its images + uploaders, its variants + images
    assert count == 3, sql


def test_variant_by_sku_query_count(client):
    make_catalog(2)

    count, data, sql = run(client, VARIANT_BY_SKU, {"sku": "SKU-1"})

    assert len(data["variant"]["product"]["images"]) == 4
    # the variant + its product + its image, the product's images
    assert count == 2, sql
