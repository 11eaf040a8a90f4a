from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, QuerySet
from strawberry import auto, relay
from strawberry.relay import to_base64
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry_django.fields.field import StrawberryDjangoField

from catalog import models
from catalog.graphql.transforms import (
    ImageTransformInput,
    srcset_transformations,
    to_transformation,
)


def can_see_private(info: Info) -> bool:
    user = info.context.request.user
    return bool(user.is_authenticated and user.is_staff)


def visible_images(queryset: QuerySet[models.Image], info: Info) -> QuerySet[models.Image]:
    """Private images exist only for staff."""
    return queryset if can_see_private(info) else queryset.filter(is_private=False)


# --- Cheaper fields -------------------------------------------------------------
# A listing resolves thousands of fields. strawberry gives each field that has a
# resolver an Info object, argument conversion and extension wrapping, and
# strawberry-django treats every field as one; a "basic" field is read like an
# attribute instead. The classes below make the fields that need nothing more basic.


class PkNode:
    """Mixin for Node types whose global ID is the model's primary key.

    strawberry-django looks for a ``NodeID`` annotation whenever it resolves an ID
    and, finding none, falls back to ``pk`` without remembering it: that scan
    evaluates every annotation of the class each time, about 0.3 ms per object.
    """

    @classmethod
    def resolve_id_attr(cls) -> str:
        return "pk"


class ColumnField(StrawberryDjangoField):
    """strawberry-django's field, read straight off the row when that is all it does.

    Basic when it has no resolver and no extension, and is a column or a forward
    foreign key: the loaded value is returned as is. A deferred column or an
    uncached relation still goes through strawberry-django, which loads it.
    """

    @property
    def is_basic_field(self) -> bool:
        if self.base_resolver is not None or self.extensions:
            return False
        if not self.is_relation:
            return True
        try:
            model_field = self.origin_django_type.model._meta.get_field(self.django_name)
        except FieldDoesNotExist:
            return False
        return model_field.concrete and (model_field.many_to_one or model_field.one_to_one)

    def get_result(self, source: Any, info: Info | None, args: list, kwargs: dict) -> Any:
        if info is None and source is not None:
            name = self.django_name
            if name in source.__dict__ or name in source._state.fields_cache:
                return getattr(source, name)
        return super().get_result(source, info, args, kwargs)


class PlainField(StrawberryField):
    """A field whose resolver takes only the object, called like a basic field."""

    @property
    def is_basic_field(self) -> bool:
        return not self.extensions

    def get_result(self, source: Any, info: Info | None, args: list, kwargs: dict) -> Any:
        if info is None:
            return self.base_resolver.wrapped_func(source)
        return super().get_result(source, info, args, kwargs)


def plain_field(
    resolver: Callable[[Any], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """``@strawberry.field`` for a resolver of ``self`` alone: no Info, no arguments."""

    def wrap(function: Callable[[Any], Any]) -> PlainField:
        field = PlainField(graphql_name=name, description=description)(function)
        if field.base_resolver.arguments or field.base_resolver.info_parameter:
            raise TypeError(f"{function.__qualname__} takes more than the object.")
        return field

    return wrap if resolver is None else wrap(resolver)


def global_id(type_name: str) -> Any:
    """Node's ``id`` for a model type, without its per-call type lookup.

    ``relay.Node`` resolves ``id`` with Info to find the type name; here it is known.
    Same name, type and description, so the schema does not change.
    """

    def resolve(root: Any) -> relay.GlobalID:
        return to_base64(type_name, root.pk)

    return plain_field(resolve, name="id", description="The Globally Unique ID of this object")


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
    only=["image", "image_xs", "width", "blurhash", "dominant_color"],
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
        return field.storage.transformed_url(
            field.name, to_transformation(transform, transforms, preset)
        )

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
            f"{build(field.name, chain)} {width}w"
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
    queryset = models.Image.objects.select_related("created_by").order_by(
        "product_links__sort_order", "product_links__pk"
    )
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
