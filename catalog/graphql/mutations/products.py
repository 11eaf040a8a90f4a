from __future__ import annotations

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from strawberry import relay
from strawberry.types import Info

from catalog import models
from catalog.error_codes import CatalogErrorCode
from catalog.graphql.inputs import (
    DeletedNode,
    ProductInput,
    ProductPartialInput,
    model_values,
    refetch,
    save_from_input,
)
from catalog.graphql.permissions import instance_for, requires, viewer
from catalog.graphql.types import ProductType

RELATIONS = {"category": models.Category}


def locked_product(product_id: relay.GlobalID, info: Info) -> models.Product:
    """The product, its row locked so concurrent image edits apply one after another."""
    product = instance_for(product_id, models.Product, "product_id", viewer=viewer(info))
    return models.Product.objects.select_for_update().get(pk=product.pk)


def images_for(image_ids: list[relay.GlobalID], info: Info) -> list[models.Image]:
    """The images, each one the viewer may see (a hidden one is "not found")."""
    return [
        instance_for(image_id, models.Image, "image_ids", viewer=viewer(info))
        for image_id in image_ids
    ]


@strawberry.type
class ProductMutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_product"),
        description="Create a product; `slug` defaults to the name, slugified.",
    )
    def create_product(self, info: Info, input: ProductInput) -> ProductType:
        with transaction.atomic():
            values = model_values(input, RELATIONS, viewer=viewer(info))
            values["slug"] = values["slug"] or slugify(values["name"])
            if values.get("description") is None:
                values["description"] = {}
            product = models.Product(created_by=info.context.request.user)
            saved = save_from_input(product, values)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_product"),
        description="Change the given fields of a product; `categoryId: null` clears it.",
    )
    def update_product(
        self, info: Info, id: relay.GlobalID, input: ProductPartialInput
    ) -> ProductType:
        with transaction.atomic():
            product = instance_for(id, models.Product, "id", viewer=viewer(info))
            values = model_values(input, RELATIONS, viewer=viewer(info))
            saved = save_from_input(product, values, partial=True)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.delete_product"),
        description=(
            "Delete a product with its variants. Its images stay in the library, "
            "since other products may use them."
        ),
    )
    def delete_product(self, info: Info, id: relay.GlobalID) -> DeletedNode:
        with transaction.atomic():
            product = instance_for(id, models.Product, "id", viewer=viewer(info))
            deleted = relay.GlobalID("Product", str(product.pk))
            # Cascades to the ProductImage links and variants, never to Image rows.
            product.delete()
        return DeletedNode(id=deleted)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_product"),
        description=(
            "Append images after the product's current ones, in the given order. "
            "Images it already has keep their place."
        ),
    )
    def add_product_images(
        self, info: Info, product_id: relay.GlobalID, image_ids: list[relay.GlobalID]
    ) -> ProductType:
        with transaction.atomic():
            product = locked_product(product_id, info)
            images = images_for(image_ids, info)
            linked = set(product.product_images.values_list("image_id", flat=True))
            for image in images:
                if image.pk not in linked:
                    product.append_image(image)
                    linked.add(image.pk)
        return refetch(product, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_product"),
        description="Put the product's images in this order; list each of them exactly once.",
    )
    def reorder_product_images(
        self, info: Info, product_id: relay.GlobalID, image_ids: list[relay.GlobalID]
    ) -> ProductType:
        with transaction.atomic():
            product = locked_product(product_id, info)
            order = [image.pk for image in images_for(image_ids, info)]
            links = {link.image_id: link for link in product.product_images.all()}
            if len(order) != len(links) or set(order) != set(links):
                raise ValidationError(
                    {
                        "image_ids": ValidationError(
                            "List each of the product's images exactly once.",
                            code=CatalogErrorCode.INVALID_ORDER,
                        )
                    }
                )
            for sort_order, image_pk in enumerate(order):
                links[image_pk].sort_order = sort_order
            models.ProductImage.objects.bulk_update(links.values(), ["sort_order"])
        return refetch(product, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_product"),
        description=(
            "Unlink an image from the product; its variants showing that image lose it. "
            "The image stays in the library."
        ),
    )
    def remove_product_image(
        self, info: Info, product_id: relay.GlobalID, image_id: relay.GlobalID
    ) -> ProductType:
        with transaction.atomic():
            product = locked_product(product_id, info)
            image = instance_for(image_id, models.Image, "image_id", viewer=viewer(info))
            removed, _ = product.product_images.filter(image=image).delete()
            if not removed:
                raise ValidationError(
                    {
                        "image_id": ValidationError(
                            "This image is not one of the product's images.",
                            code=CatalogErrorCode.NOT_PRODUCT_IMAGE,
                        )
                    }
                )
            # A variant's image must be one of its product's images.
            product.variants.filter(image=image).update(image=None)
        return refetch(product, info)
