"""Field helpers of the catalog types, on strawberry's and strawberry-django's public API.

Listings are fast because queries run from plans (``query_plans``), which read
columns, IDs and plain resolvers directly; the fields here need no hooks into
the libraries for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.relay import to_base64
from strawberry_django.fields.field import StrawberryDjangoField


class PkNode:
    """Mixin for Node types whose global ID is the model's primary key.

    strawberry-django looks for a ``NodeID`` annotation whenever it resolves an ID
    and, finding none, falls back to ``pk`` without remembering it: that scan
    evaluates every annotation of the class each time, about 0.3 ms per object.
    ``resolve_id_attr`` is relay.Node's documented way to name the attribute.
    """

    @classmethod
    def resolve_id_attr(cls) -> str:
        return "pk"


class ColumnField(StrawberryDjangoField):
    """The catalog types' field class (``field_cls=``): strawberry-django's own.

    Kept as the one place to change how the catalog's model fields resolve.
    """


def plain_field(
    resolver: Callable[[Any], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """``@strawberry.field`` for a resolver of ``self`` alone: no Info, no arguments.

    A query plan calls such a resolver with the object and nothing else.
    """

    def wrap(function: Callable[[Any], Any]) -> Any:
        field = strawberry.field(name=name, description=description)(function)
        if field.base_resolver.arguments or field.base_resolver.info_parameter:
            raise TypeError(f"{function.__qualname__} takes more than the object.")
        return field

    return wrap if resolver is None else wrap(resolver)


def global_id(type_name: str) -> Any:
    """Node's ``id`` for a model type, without its per-call type lookup.

    ``relay.Node`` resolves ``id`` with Info to find the type name; here it is known.
    Same name, type and description, so the schema does not change.
    """

    def resolve(self: Any) -> relay.GlobalID:
        return to_base64(type_name, self.pk)

    return plain_field(resolve, name="id", description="The Globally Unique ID of this object")
