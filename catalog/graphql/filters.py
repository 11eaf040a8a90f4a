"""Filters and orderings for the catalog's connections."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from django.db.models import Q
from strawberry import relay

from catalog import models


@strawberry_django.filter_type(models.Product, lookups=True)
class ProductFilter:
    name: strawberry_django.StrFilterLookup | None = strawberry_django.filter_field(
        description='Lookups on the name, e.g. `{iContains: "shoe"}`.'
    )

    @strawberry_django.filter_field(description="Products in this category.")
    def category(self, value: relay.GlobalID, prefix: str) -> Q:
        return Q(**{f"{prefix}category_id": value.node_id})

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
    name: strawberry_django.StrFilterLookup | None = strawberry_django.filter_field(
        description="Lookups on the name."
    )

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
