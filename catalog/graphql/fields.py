"""Field classes that resolve a listing's thousands of fields cheaply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from strawberry import relay
from strawberry.relay import to_base64
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry_django.fields.field import StrawberryDjangoField

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
