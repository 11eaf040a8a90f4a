"""Relay connections: cursor pagination with totalCount, 20 a page, at most 100."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@strawberry.type(name="Connection", description="A page of results, with cursors and a total.")
class CatalogConnection(DjangoListConnection[relay.NodeType]):
    """A connection whose page size defaults to 20 and is refused above 100."""

    @classmethod
    def resolve_connection(
        cls,
        nodes: Any,
        *,
        info: Any,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ):
        for argument, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise GraphQLError(
                    f"Invalid {argument}: must be between 0 and {MAX_PAGE_SIZE}, got {value}.",
                    extensions={"code": "INVALID_PAGE_SIZE", "argument": argument},
                )
        if first is None and last is None:
            first = DEFAULT_PAGE_SIZE
        return super().resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
