from __future__ import annotations

from decimal import Decimal

import strawberry_django
from django.db.models import Prefetch
from strawberry import auto, relay
from strawberry.scalars import JSON

from catalog import models
from catalog.graphql.transforms import (
    ImageTransformInput,
    srcset_transformations,
    to_transformation,
)


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
        description=(
            "CDN URL of the original, or of a transformed copy: the `preset`, then "
            "`transforms` as a chain, or one `transform`."
        ),
    )
    def url(
        self,
        transform: ImageTransformInput | None = None,
        transforms: list[ImageTransformInput] | None = None,
        preset: str | None = None,
    ) -> str:
        field = self.image
        return field.storage.transformed_url(
            field.name, to_transformation(transform, transforms, preset)
        )

    @strawberry_django.field(
        only=["image", "width"],
        description=(
            "A `srcset` value, `<url> 320w, <url> 640w, ...`, for the given widths "
            "(default 320, 640, 960, 1280, 1920), leaving out widths beyond the image."
        ),
    )
    def srcset(
        self, widths: list[int] | None = None, transform: ImageTransformInput | None = None
    ) -> str:
        field = self.image
        build = field.storage.transformed_url
        return ", ".join(
            f"{build(field.name, chain)} {width}w"
            for width, chain in srcset_transformations(transform, widths, self.width)
        )

    @strawberry_django.field(
        only=["image_xs"], description="URL of the small variant made at upload."
    )
    def small(self) -> str:
        field = self.image_xs
        return field.storage.url(field.name)


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
