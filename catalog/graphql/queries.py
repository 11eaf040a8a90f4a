from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import QuerySet
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info
from strawberry_django.optimizer import optimize

from catalog import models
from catalog.graphql.connections import CatalogConnection
from catalog.graphql.filters import ImageFilter, ImageOrder, ProductFilter, ProductOrder
from catalog.graphql.types import (
    CategoryType,
    ImageType,
    ProductType,
    ProductVariantType,
    visible_images,
)


@strawberry.type
class Query:
    node: relay.Node | None = strawberry_django.node(description="Any object by its global ID.")
    nodes: list[relay.Node | None] = strawberry_django.node(
        description="Objects by their global IDs, in order; null where none is found."
    )

    @strawberry_django.field(description="A product by its ID or its slug (give one).")
    def product(
        self, info: Info, id: relay.GlobalID | None = None, slug: str | None = None
    ) -> ProductType | None:
        if (id is None) == (slug is None):
            raise GraphQLError(
                "Give exactly one of id and slug.",
                extensions={"code": "INVALID_ARGUMENTS", "argument": "id"},
            )
        if id is not None:
            if id.type_name != "Product":
                return None
            products = models.Product.objects.filter(pk=id.node_id)
        else:
            products = models.Product.objects.filter(slug=slug)
        # Optimized like a list: the selection's relations are fetched with it.
        return optimize(products, info).first()

    products: CatalogConnection[ProductType] = strawberry_django.connection(
        filters=ProductFilter, order=ProductOrder, description="Products, 20 a page by default."
    )

    image: ImageType | None = strawberry_django.node(description="An image by its ID.")

    @strawberry_django.connection(
        CatalogConnection[ImageType],
        filters=ImageFilter,
        order=ImageOrder,
        description="Images, 20 a page by default; private ones only for staff.",
    )
    def images(self, info: Info) -> QuerySet[models.Image]:
        return visible_images(models.Image.objects.all(), info)

    categories: list[CategoryType] = strawberry_django.field(description="All categories.")

    @strawberry_django.field(description="A variant by its SKU.")
    def variant(self, info: Info, sku: str) -> ProductVariantType | None:
        return optimize(models.ProductVariant.objects.filter(sku=sku), info).first()
