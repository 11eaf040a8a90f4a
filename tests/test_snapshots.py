"""Syrupy snapshots of the SDL and of representative response shapes.

IDs, URLs (they carry UUIDs and signatures) and timestamps are matched by
type, not frozen; everything else in a response is compared as written.
Update with ``pytest --snapshot-update`` only on purpose, and review the diff.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from strawberry.printer import print_schema
from syrupy.matchers import path_type

from catalog.models import Category, Product, ProductVariant
from config.schema import schema
from tests.catalog.factories import stored_image
from tests.utils import graphql, graphql_data

VOLATILE = path_type(
    {
        r".*\.id": (str,),
        r".*\.(url|small|large|thumb|srcset)": (str,),
        r".*\.(createdAt|updatedAt)": (str,),
        r".*\.(endCursor|startCursor|cursor)": (str,),
        # Encoder output: exact bytes and hash depend on the libjpeg build.
        r".*\.blurhash": (str,),
        r".*\.size": (int,),
    },
    regex=True,
)

LISTING = """
{
  products(first: 5) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id name slug summary description createdAt
      category { id name slug }
      thumbnail { id name }
      images {
        id name altText width height size mimeType isPrivate
        url thumb: url(transform: {width: 100, format: WEBP}) small
        placeholder { blurhash dominantColor }
      }
      variants { id name sku price image { id } }
    } }
  }
}
"""


def test_schema_sdl(snapshot):
    assert print_schema(schema) == snapshot


@pytest.mark.django_db
def test_product_listing_response(client, snapshot):
    category = Category.objects.create(name="Lights", slug="lights")
    product = Product.objects.create(
        name="Desk Lamp",
        slug="desk-lamp",
        summary="Warm light.",
        category=category,
        description={"blocks": [{"type": "paragraph", "data": {"text": "Brass."}}]},
    )
    image = stored_image("lamp-front", size=(640, 480), product=product, alt_text="Front")
    ProductVariant.objects.create(
        product=product, name="Brass", sku="LAMP-BR", price=Decimal("89.00"), image=image
    )

    assert graphql_data(client, LISTING) == snapshot(matcher=VOLATILE)


@pytest.mark.django_db
def test_validation_error_response(client, snapshot):
    stored_image("lamp", product=Product.objects.create(name="Lamp", slug="lamp"))

    body = graphql(
        client, "{ products { edges { node { images { url(transform: {width: 0}) } } } } }"
    )

    assert body == snapshot


@pytest.mark.django_db
def test_permission_error_response(client, snapshot):
    body = graphql(
        client,
        'mutation { deleteImage(id: "SW1hZ2U6MQ==") { __typename '
        "... on OperationInfo { messages { kind field code message } } } }",
    )

    assert body == snapshot
