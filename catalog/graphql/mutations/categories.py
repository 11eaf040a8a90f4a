from __future__ import annotations

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from strawberry import relay
from strawberry.types import Info

from catalog import models
from catalog.error_codes import CatalogErrorCode
from catalog.graphql.inputs import (
    CategoryInput,
    CategoryPartialInput,
    DeletedNode,
    model_values,
    refetch,
    save_from_input,
)
from catalog.graphql.permissions import instance_for, requires, viewer
from catalog.graphql.types import CategoryType

RELATIONS = {"parent": models.Category}


@strawberry.type
class CategoryMutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_category"),
        description="Create a category; `slug` defaults to the name, slugified.",
    )
    def create_category(self, info: Info, input: CategoryInput) -> CategoryType:
        with transaction.atomic():
            values = model_values(input, RELATIONS, viewer=viewer(info))
            values["slug"] = values["slug"] or slugify(values["name"])
            saved = save_from_input(models.Category(), values)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_category"),
        description=(
            "Change the given fields of a category; `parentId: null` makes it top-level. "
            "A category cannot move under itself or one of its descendants."
        ),
    )
    def update_category(
        self, info: Info, id: relay.GlobalID, input: CategoryPartialInput
    ) -> CategoryType:
        with transaction.atomic():
            category = instance_for(id, models.Category, "id", viewer=viewer(info))
            values = model_values(input, RELATIONS, viewer=viewer(info))
            saved = save_from_input(category, values, partial=True)
        return refetch(saved, info)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.delete_category"),
        description=(
            "Delete a category that has no subcategories; its products are left without a category."
        ),
    )
    def delete_category(self, info: Info, id: relay.GlobalID) -> DeletedNode:
        with transaction.atomic():
            category = instance_for(id, models.Category, "id", viewer=viewer(info))
            deleted = relay.GlobalID("Category", str(category.pk))
            try:
                category.delete()
            except ProtectedError as e:
                count = len(e.protected_objects)
                raise ValidationError(
                    {
                        "id": ValidationError(
                            f"This category has {count} subcategor"
                            f"{'y' if count == 1 else 'ies'}; move or delete them first.",
                            code=CatalogErrorCode.PROTECTED,
                        )
                    }
                ) from e
        return DeletedNode(id=deleted)
