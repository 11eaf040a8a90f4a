"""Relay connections: cursor pagination with totalCount, sized by settings.GRAPHQL."""

from __future__ import annotations

from typing import Any

import strawberry
from django.db.models import QuerySet
from graphql import GraphQLError
from strawberry import relay
from strawberry.relay.types import PREFIX
from strawberry.relay.utils import from_base64
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay import DjangoListConnection

from catalog.graphql.selections import selects
from graphql_limits import conf


def _invalid(argument: str, message: str, code: str) -> GraphQLError:
    return GraphQLError(
        f"Invalid {argument}: {message}", extensions={"code": code, "argument": argument}
    )


def _check_cursor(argument: str, cursor: str | None) -> None:
    """Refuse a cursor this API did not issue, with an error that says so."""
    if cursor is None:
        return
    try:
        prefix, offset = from_base64(cursor)
        valid = prefix == PREFIX and offset.isdigit()
    except Exception:
        valid = False
    if not valid:
        raise _invalid(argument, "not a cursor from this connection.", "INVALID_CURSOR")


def _page_alone_is_asked(
    nodes: Any,
    info: Any,
    *,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> bool:
    """Whether the first ``first`` nodes of a queryset are all a selection needs: no
    ``pageInfo`` (``hasNextPage`` needs one row more) and no ``totalCount`` (counted
    on the unsliced queryset); not for other windows, nor for connections nested in
    a prefetch, which strawberry-django paginates itself."""
    if first is None or last is not None or after is not None or before is not None:
        return False
    if not isinstance(nodes, QuerySet) or nodes.query.is_sliced:
        return False
    if get_queryset_config(nodes).optimized_by_prefetching:
        return False
    fields = info.selected_fields
    return not selects(fields, "pageInfo") and not selects(fields, "totalCount")


@strawberry.type(name="Connection", description="A page of results, with cursors and a total.")
class CatalogConnection(DjangoListConnection[relay.NodeType]):
    """A connection whose page size defaults to GRAPHQL['DEFAULT_PAGE_SIZE'] (20)
    and is refused above GRAPHQL['MAX_PAGE_SIZE'] (100)."""

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
        max_page = conf.get("MAX_PAGE_SIZE")
        for argument, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= max_page:
                raise _invalid(
                    argument, f"must be between 0 and {max_page}, got {value}.", "INVALID_PAGE_SIZE"
                )
        _check_cursor("after", after)
        _check_cursor("before", before)
        if first is None and last is None:
            first = conf.get("DEFAULT_PAGE_SIZE")
        if _page_alone_is_asked(nodes, info, first=first, last=last, after=after, before=before):
            # Nobody asks whether there is a next page: fetch the page, not one row
            # more (with that row's prefetched relations) to find out.
            nodes = nodes[:first]
        return super().resolve_connection(
            nodes,
            info=info,
            before=before,
            after=after,
            first=first,
            last=last,
            **{**kwargs, "max_results": max_page},
        )
