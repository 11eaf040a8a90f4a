"""Generated queries through both executors: hypothesis-graphql builds valid queries
from the exported schema.graphql; each runs as the plan and as graphql-core's
executor (query_plans.differential), which must agree on data, errors and SQL
count. Some resolvers are made to fail: a URL that raises (unexpected, masked), a
product whose images raise a coded GraphQLError, and a non-null `small` that
returns null, so errors, masking and null propagation are compared too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import storages
from django.http import HttpResponse
from django.test import RequestFactory
from graphql import GraphQLError, GraphQLSchema, build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from catalog.graphql import types
from catalog.models import Category
from config.schema import schema
from config.views import CatalogContext
from query_plans import clear_plans
from query_plans.differential import COUNTS, DifferentialExecutionContext, take_mismatches
from tests.catalog.factories import product_with_images, stored_image

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
ROOT_FIELDS = ("products", "product", "images", "image", "node", "nodes", "categories", "variant")
LISTINGS = ("products", "images", "categories")


def listing_schema() -> GraphQLSchema:
    """schema.graphql with the listings' root arguments left out: random filters and
    cursors are refused before any row is read, and the selections are what matter."""
    listing = build_schema(SCHEMA)
    for name in ("products", "images"):
        listing.query_type.fields[name].args = {}
    return listing


CUSTOM_SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda d: nodes.String(str(d))
    ),
    "JSON": st.just(nodes.String("{}")),
    "Upload": st.just(nodes.Null),
}
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def catalog(db, monkeypatch):
    """Three products with images, a private image, and three resolvers that fail."""
    owner = get_user_model().objects.create_user("owner", first_name="Ada")
    category = Category.objects.create(name="Lamps", slug="lamps")
    products = [product_with_images(i, images=2, category=category) for i in range(3)]
    products[0].images.update(created_by=owner, created_at=datetime(2024, 1, 1, tzinfo=UTC))
    stored_image("secret", is_private=True)
    broken_names = {image.image.name for image in products[1].images.all()[:1]}

    storage_class = type(storages["default"])
    real_url = storage_class.transformed_url

    def transformed_url(storage, name, *args, **kwargs):
        if name in broken_names:
            raise RuntimeError("storage is down")  # unexpected: masked
        return real_url(storage, name, *args, **kwargs)

    real_images = types.product_images

    def product_images(product, info):
        if product.pk == products[2].pk:
            raise GraphQLError("images unavailable", extensions={"code": "UNAVAILABLE"})
        return real_images(product, info)

    monkeypatch.setattr(storage_class, "transformed_url", transformed_url)
    monkeypatch.setattr(types, "product_images", product_images)
    # `small` is String!: a null from it propagates to the image.
    monkeypatch.setattr(
        types.ImageType.__strawberry_definition__.get_field("small").base_resolver,
        "wrapped_func",
        lambda image: None if image.name.endswith("img1") else "/small.jpg",
    )
    monkeypatch.setattr(schema, "execution_context_class", DifferentialExecutionContext)
    # Plans hold the resolvers they call: none made before or with the patches survives.
    clear_plans()
    yield products
    clear_plans()


def execute(query: str, user) -> None:
    request = RequestFactory().post("/graphql/")
    request.user = user
    context = CatalogContext(request=request, response=HttpResponse())
    take_mismatches()
    schema.execute_sync(query, context_value=context)
    assert take_mismatches() == []


@given(query=queries(SCHEMA, fields=ROOT_FIELDS, custom_scalars=CUSTOM_SCALARS))
@EXAMPLES
def test_generated_query_same_through_both_executors(catalog, query):
    execute(query, AnonymousUser())


@given(query=queries(listing_schema(), fields=LISTINGS, custom_scalars=CUSTOM_SCALARS))
@EXAMPLES
def test_generated_listing_same_through_both_executors_anonymous(catalog, query):
    execute(query, AnonymousUser())


@given(query=queries(listing_schema(), fields=LISTINGS, custom_scalars=CUSTOM_SCALARS))
@EXAMPLES
def test_generated_listing_same_through_both_executors_staff(catalog, query):
    staff, _ = get_user_model().objects.get_or_create(username="staff", is_staff=True)
    execute(query, staff)


def test_generated_queries_are_mostly_planned(catalog):
    # The comparisons above only mean something if plans ran: the listing's
    # shapes are planned, not left to graphql-core.
    compared = COUNTS["compared"]
    execute("{ products { edges { node { name images { url small } } } } }", AnonymousUser())
    assert COUNTS["compared"] == compared + 1
