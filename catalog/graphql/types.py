from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from strawberry import auto, relay
from strawberry.scalars import JSON
from strawberry.types import Info

from catalog import models, visibility
from catalog.graphql.fields import ColumnField, PkNode, global_id, plain_field
from catalog.graphql.permissions import viewer
from catalog.graphql.selections import selects
from catalog.graphql.transforms import (
    ImageTransformInput,
    check_budget,
    srcset_transformations,
    to_transformation,
)


def can_see_private(info: Info) -> bool:
    return visibility.can_see_private(viewer(info))


def visible_images(queryset: QuerySet[models.Image], info: Info) -> QuerySet[models.Image]:
    """Private images exist only for staff (catalog.visibility)."""
    return visibility.visible_images(queryset, viewer(info))


@strawberry_django.type(get_user_model(), name="User", field_cls=ColumnField)
class UserType(PkNode, relay.Node):
    """A user, public fields only."""

    _id = global_id("User")
    username: auto

    @strawberry_django.field(only=["first_name", "last_name"], description="Full name.")
    def name(self) -> str:
        return self.get_full_name()


@strawberry_django.type(models.Category, name="Category", field_cls=ColumnField)
class CategoryType(PkNode, relay.Node):
    _id = global_id("Category")
    name: auto
    slug: auto
    parent: CategoryType | None


@strawberry.type
class ImagePlaceholder:
    """What to show while the image loads, computed once at upload."""

    blurhash: str = strawberry.field(description="A BlurHash string (4×3 components).")
    dominant_color: str = strawberry.field(description="The most common colour, `#rrggbb`.")


@strawberry_django.type(
    models.Image,
    name="Image",
    field_cls=ColumnField,
    # The columns the computed fields below read. They are hinted on the type, not
    # on the fields: the optimizer drops the hints of a field selected twice with
    # different arguments (`small: url(...) large: url(...)`), and Django would then
    # load `image` one row at a time. It also lets those fields be plain strawberry
    # fields, which skip strawberry-django's resolver wrapping on every call.
    only=["image", "image_xs", "width", "height", "mime_type", "blurhash", "dominant_color"],
)
class ImageType(PkNode, relay.Node):
    _id = global_id("Image")
    name: auto
    alt_text: auto
    width: auto
    height: auto
    size: int = strawberry_django.field(description="Size of the original, in bytes.")
    mime_type: auto
    is_private: bool = strawberry_django.field(
        description="Only staff see it; its URLs are signed and expire."
    )
    created_at: datetime
    created_by: UserType | None

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return visible_images(queryset, info)

    @strawberry.field(
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
        chain = to_transformation(transform, transforms, preset)
        argument = (
            "transforms" if transforms is not None else "transform" if transform else "preset"
        )
        return field.storage.transformed_url(field.name, check_budget(chain, self, argument))

    @strawberry.field(
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
            f"{build(field.name, check_budget(chain, self, 'widths'))} {width}w"
            for width, chain in srcset_transformations(transform, widths, self.width)
        )

    @plain_field(description="URL of the small variant made at upload.")
    def small(self) -> str:
        field = self.image_xs
        return field.storage.url(field.name)

    @plain_field
    def placeholder(self) -> ImagePlaceholder | None:
        if not self.blurhash:
            return None
        return ImagePlaceholder(blurhash=self.blurhash, dominant_color=self.dominant_color)


@strawberry_django.type(models.ProductVariant, name="ProductVariant", field_cls=ColumnField)
class ProductVariantType(PkNode, relay.Node):
    _id = global_id("ProductVariant")
    name: auto
    sku: auto
    price: Decimal
    product: ProductType

    @strawberry_django.field(select_related=["image"], description="The variant's image.")
    def image(self, info: Info) -> ImageType | None:
        image = self.image
        if image is not None and image.is_private and not can_see_private(info):
            return None
        return image


def _ordered_images(info: Info) -> Prefetch:
    # Ordering through the link table reuses the prefetch's own join, so an
    # image shared by two products is not returned twice.
    queryset = models.Image.objects.order_by("product_links__sort_order", "product_links__pk")
    if selects(info.selected_fields, "createdBy"):
        # Joined only when asked for: a listing without it would build a User per
        # image. `images` and `thumbnail` share this prefetch; the optimizer merges
        # their select_related when both are selected.
        queryset = queryset.select_related("created_by")
    return Prefetch("images", queryset=visible_images(queryset, info), to_attr="ordered_images")


@strawberry_django.type(models.Product, name="Product", field_cls=ColumnField)
class ProductType(PkNode, relay.Node):
    _id = global_id("Product")
    name: auto
    slug: auto
    summary: auto
    description: JSON = strawberry_django.field(description="Editor.js document.")
    category: CategoryType | None
    variants: list[ProductVariantType]
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(
        prefetch_related=[_ordered_images], description="The product's images, in display order."
    )
    def images(self, info: Info) -> list[ImageType]:
        return product_images(self, info)

    @strawberry_django.field(
        prefetch_related=[_ordered_images], description="The first image, if any."
    )
    def thumbnail(self, info: Info) -> ImageType | None:
        images = product_images(self, info)
        return images[0] if images else None


def product_images(product: models.Product, info: Info) -> list[models.Image]:
    """The product's visible images in order: prefetched, or queried once and kept."""
    if not hasattr(product, "ordered_images"):
        # A product the optimizer never saw, e.g. from `product(slug:)`: one query,
        # with the uploader joined as the prefetch does, or `createdBy` costs one per image.
        queryset = product.images.select_related("created_by").order_by(
            "product_links__sort_order", "product_links__pk"
        )
        product.ordered_images = list(visible_images(queryset, info))
    return product.ordered_images
