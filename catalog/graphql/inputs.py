"""Input types of the catalog mutations, and the boundary between them and the models.

Mutations take relay global IDs as ``<relation>Id`` arguments (``categoryId``), while
models report errors on the relation's field (``category``). ``as_argument_errors``
renames those errors so every mutation reports the argument the client sent.
The helpers here resolve IDs, apply an input, validate and save, and read the
result back for the response.
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from strawberry import UNSET, auto, relay
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry_django.optimizer import optimize

from catalog import models as catalog
from catalog.error_codes import CatalogErrorCode
from catalog.graphql.permissions import instance_for
from catalog.visibility import Viewer

M = TypeVar("M", bound=models.Model)

# Model relation -> the mutation argument that carries its global ID.
ARGUMENT_FOR_FIELD = {
    "category": "category_id",
    "image": "image_id",
    "parent": "parent_id",
    "product": "product_id",
}


@strawberry_django.input(catalog.Product)
class ProductInput:
    name: auto
    slug: str | None = strawberry.field(
        default=None, description="Defaults to the name, slugified."
    )
    summary: str = ""
    # None, not {}: GraphQL cannot print an object default, and introspection needs to.
    description: JSON | None = strawberry.field(
        default=None,
        description="Editor.js document (an object with a `blocks` list); none when null.",
    )
    category_id: relay.GlobalID | None = None


@strawberry_django.partial(catalog.Product)
class ProductPartialInput:
    name: auto
    slug: auto
    summary: auto
    description: JSON | None = strawberry.field(
        default=UNSET, description="Editor.js document: an object with a `blocks` list."
    )
    category_id: relay.GlobalID | None = strawberry.field(
        default=UNSET, description="null removes the product from its category."
    )


@strawberry_django.input(catalog.ProductVariant)
class VariantInput:
    product_id: relay.GlobalID
    name: auto
    sku: auto
    price: auto
    image_id: relay.GlobalID | None = strawberry.field(
        default=None, description="One of the product's images."
    )


@strawberry_django.partial(catalog.ProductVariant)
class VariantPartialInput:
    name: auto
    sku: auto
    price: auto
    image_id: relay.GlobalID | None = strawberry.field(
        default=UNSET, description="One of the product's images; null clears it."
    )


@strawberry_django.input(catalog.Category)
class CategoryInput:
    name: auto
    slug: str | None = strawberry.field(
        default=None, description="Defaults to the name, slugified."
    )
    parent_id: relay.GlobalID | None = None


@strawberry_django.partial(catalog.Category)
class CategoryPartialInput:
    name: auto
    slug: auto
    parent_id: relay.GlobalID | None = strawberry.field(
        default=UNSET, description="null makes it a top-level category."
    )


@strawberry.type
class DeletedNode:
    """What a delete mutation returns: the ID the object had."""

    id: relay.GlobalID


def model_values(
    data: Any, relations: dict[str, type[models.Model]], *, viewer: Viewer
) -> dict[str, Any]:
    """The fields the client sent (null included), keyed by model field name.

    ``relations`` maps a relation (``category``) to its model; the global ID sent
    as its argument (``category_id``) is resolved to a row ``viewer`` may see, or
    to None for null.
    """
    values = {name: value for name, value in vars(data).items() if value is not UNSET}
    for field, model in relations.items():
        argument = ARGUMENT_FOR_FIELD[field]
        if argument in values:
            global_id = values.pop(argument)
            values[field] = (
                None
                if global_id is None
                else instance_for(global_id, model, argument, viewer=viewer)
            )
    return values


def as_argument_errors(error: ValidationError) -> ValidationError:
    """``error`` with model field names replaced by the argument names clients send."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {ARGUMENT_FOR_FIELD.get(field, field): errors for field, errors in error.error_dict.items()}
    )


def save_from_input(instance: M, values: dict[str, Any], *, partial: bool = False) -> M:
    """Set ``values`` on ``instance``, ``full_clean()`` it and save it.

    Call it inside ``transaction.atomic()``. Errors are ValidationErrors under
    argument names: null sent for a non-null column (code null), the model's own
    validation, and unique clashes (code unique). With ``partial``, only the given
    columns (and ``auto_now`` ones) are written, so concurrent edits of other
    fields survive.
    """
    try:
        for name, value in values.items():
            field = instance._meta.get_field(name)
            if value is None and not field.null:
                raise ValidationError(
                    {
                        name: ValidationError(
                            field.error_messages["null"], code=CatalogErrorCode.NULL
                        )
                    }
                )
            setattr(instance, name, value)
        instance.full_clean()
        update_fields = None
        if partial:
            update_fields = [*values] + [
                f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)
            ]
        try:
            with transaction.atomic():
                instance.save(update_fields=update_fields)
        except IntegrityError:
            # A concurrent request took the unique value after full_clean(); the
            # savepoint lets the unique check run again and report it as usual.
            instance.validate_unique()
            raise
    except ValidationError as e:
        raise as_argument_errors(e) from e
    return instance


def refetch(instance: M, info: Info) -> M:
    """The saved row read back as stored (a price of ``0`` comes back as ``0.00``),
    with the optimizer's joins and prefetches for what the response selects.
    """
    queryset = type(instance)._default_manager.filter(pk=instance.pk)
    return optimize(queryset, info).get()
