from __future__ import annotations

import strawberry
import strawberry_django
from django.db import transaction
from strawberry import relay
from strawberry.types import Info

from catalog import models
from catalog.graphql.inputs import (
    DeletedNode,
    VariantInput,
    VariantPartialInput,
    model_values,
    refetch,
    save_from_input,
)
from catalog.graphql.permissions import instance_for, requires, viewer
from catalog.graphql.types import ProductVariantType

RELATIONS = {"product": models.Product, "image": models.Image}


@strawberry.type
class VariantMutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_productvariant"),
        description="Create a variant of a product; its image must be one of the product's.",
    )
    def create_variant(self, info: Info, input: VariantInput) -> ProductVariantType:
        with transaction.atomic():
            values = model_values(input, RELATIONS, viewer=viewer(info))
            saved = save_from_input(models.ProductVariant(), values)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_productvariant"),
        description="Change the given fields of a variant; `imageId: null` clears its image.",
    )
    def update_variant(
        self, info: Info, id: relay.GlobalID, input: VariantPartialInput
    ) -> ProductVariantType:
        with transaction.atomic():
            variant = instance_for(id, models.ProductVariant, "id", viewer=viewer(info))
            values = model_values(input, RELATIONS, viewer=viewer(info))
            saved = save_from_input(variant, values, partial=True)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.delete_productvariant"),
        description="Delete a variant.",
    )
    def delete_variant(self, info: Info, id: relay.GlobalID) -> DeletedNode:
        with transaction.atomic():
            variant = instance_for(id, models.ProductVariant, "id", viewer=viewer(info))
            deleted = relay.GlobalID("ProductVariant", str(variant.pk))
            variant.delete()
        return DeletedNode(id=deleted)
