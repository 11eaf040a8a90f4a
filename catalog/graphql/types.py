from __future__ import annotations

from decimal import Decimal

import strawberry_django
from django.db.models import Prefetch
from strawberry import auto, relay
from strawberry.scalars import JSON

from catalog import models
from catalog.graphql.transforms import ImageTransformInput, to_transformation


@strawberry_django.type(models.Category, name="Category")
class CategoryType(relay.Node):
    name: auto
    slug: auto
    parent: CategoryType | None


@strawberry_django.type(models.Image, name="Image")
class ImageType(relay.Node):
    name: auto
    alt_text: auto
    width: auto
    height: auto

    @strawberry_django.field(
        only=["image"],
        description="CDN URL of the image, transformed when `transform` is given.",
    )
    def url(self, transform: ImageTransformInput | None = None) -> str:
        field = self.image
        return field.storage.transformed_url(field.name, to_transformation(transform))


@strawberry_django.type(models.ProductVariant, name="ProductVariant")
class ProductVariantType(relay.Node):
    name: auto
    sku: auto
    price: Decimal
    image: ImageType | None


@strawberry_django.type(models.Product, name="Product")
class ProductType(relay.Node):
    name: auto
    slug: auto
    summary: auto
    description: JSON = strawberry_django.field(description="Editor.js document.")
    category: CategoryType | None
    variants: list[ProductVariantType]

    @strawberry_django.field(
        prefetch_related=[
            # Ordering through the link table reuses the prefetch's own join,
            # so an image shared by two products is not returned twice.
            Prefetch(
                "images",
                queryset=models.Image.objects.order_by(
                    "product_links__sort_order", "product_links__pk"
                ),
                to_attr="ordered_images",
            )
        ],
        description="The product's images, in display order.",
    )
    def images(self) -> list[ImageType]:
        if hasattr(self, "ordered_images"):
            return self.ordered_images
        return list(self.images.order_by("product_links__sort_order", "product_links__pk"))
