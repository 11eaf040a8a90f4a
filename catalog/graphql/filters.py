"""Filters and orderings for the catalog's connections.

Reads are public, so every lookup here costs a bounded amount of database
work: text lookups are LIKE-style (no regular expressions, whose backtracking
an anonymous client could make exponential), lists are bounded by
GRAPHQL['MAX_LIST_LENGTH'], and a bad value is an error naming the filter.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from django.db.models import Q
from graphql import GraphQLError
from strawberry import relay
from strawberry_django import filter_field

from catalog import models


@strawberry.input(
    name="TextFilterLookup",
    description="Lookups on a text field; give one or more (they all apply).",
)
class TextLookup:
    exact: str | None = filter_field(description="Exact match.")
    i_exact: str | None = filter_field(description="Case-insensitive exact match.")
    contains: str | None = filter_field(description="Contains, case-sensitive.")
    i_contains: str | None = filter_field(description="Contains, case-insensitive.")
    starts_with: str | None = filter_field(description="Starts with, case-sensitive.")
    i_starts_with: str | None = filter_field(description="Starts with, case-insensitive.")
    ends_with: str | None = filter_field(description="Ends with, case-sensitive.")
    i_ends_with: str | None = filter_field(description="Ends with, case-insensitive.")
    in_list: list[str] | None = filter_field(description="Equal to one of these.")
    is_null: bool | None = filter_field(description="Has no value (true) or has one.")


def node_id(value: relay.GlobalID, type_name: str, filter_name: str) -> str:
    """The key part of a global ID of ``type_name``, or an error naming the filter."""
    if value.type_name != type_name or not value.node_id.isdigit():
        raise GraphQLError(
            f"Invalid filter {filter_name}: give the ID of a {type_name}.",
            extensions={"code": "INVALID_FILTER", "argument": f"filters.{filter_name}"},
        )
    return value.node_id


@strawberry_django.filter_type(models.Product, lookups=True)
class ProductFilter:
    name: TextLookup | None = strawberry_django.filter_field(
        description='Lookups on the name, e.g. `{iContains: "shoe"}`.'
    )

    @strawberry_django.filter_field(description="Products in this category.")
    def category(self, value: relay.GlobalID, prefix: str) -> Q:
        return Q(**{f"{prefix}category_id": node_id(value, "Category", "category")})

    @strawberry_django.filter_field(description="Products with (true) or without images.")
    def has_images(self, value: bool, prefix: str) -> Q:
        # A subquery, not a join: a product with three images must match once.
        linked = Q(**{f"{prefix}pk__in": models.ProductImage.objects.values("product_id")})
        return linked if value else ~linked

    @strawberry_django.filter_field(description="Products with a variant of this SKU.")
    def sku(self, value: str, prefix: str) -> Q:
        variants = models.ProductVariant.objects.filter(sku=value)
        return Q(**{f"{prefix}pk__in": variants.values("product_id")})


@strawberry_django.order_type(models.Product)
class ProductOrder:
    name: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto


@strawberry_django.filter_type(models.Image, lookups=True)
class ImageFilter:
    name: TextLookup | None = strawberry_django.filter_field(description="Lookups on the name.")

    @strawberry_django.filter_field(description="Images created at or after this time.")
    def created_after(self, value: datetime, prefix: str) -> Q:
        return Q(**{f"{prefix}created_at__gte": value})

    @strawberry_django.filter_field(description="Images created before this time.")
    def created_before(self, value: datetime, prefix: str) -> Q:
        return Q(**{f"{prefix}created_at__lt": value})


@strawberry_django.order_type(models.Image)
class ImageOrder:
    name: strawberry.auto
    created_at: strawberry.auto
