"""The root GraphQL schema: every app's Query and Mutation, merged."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from catalog.graphql.mutations import Mutation as CatalogMutation
from catalog.graphql.optimizer import CatalogOptimizer
from catalog.graphql.policy import AnonymousPresetsOnly
from catalog.graphql.queries import Query as CatalogQuery
from catalog.graphql.scalars import SCALAR_OVERRIDES
from config.graphql_cache.extension import RecordOperationType
from graphql_limits import (
    MaskUnexpectedErrors,
    QueryLimits,
    graphql_settings,
    log_error,
    strip_suggestions,
)
from query_plans import PlanExecutionContext

Query = merge_types("Query", (CatalogQuery,))
Mutation = merge_types("Mutation", (CatalogMutation,))


class CatalogSchema(strawberry.Schema):
    """strawberry's Schema, with errors logged without the document and, when
    introspection is off, without "Did you mean ...?" hints that would reveal the schema."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        hide_schema = not graphql_settings()["INTROSPECTION"]
        for error in errors:
            if hide_schema:
                strip_suggestions(error)
            log_error(error, execution_context)


schema = CatalogSchema(
    query=Query,
    mutation=Mutation,
    # Classes, not instances: strawberry makes them per request, and the limits
    # are read from settings.GRAPHQL then.
    extensions=[
        CatalogOptimizer,
        AnonymousPresetsOnly,
        QueryLimits,
        MaskUnexpectedErrors,
        RecordOperationType,
    ],
    scalar_overrides=SCALAR_OVERRIDES,
    execution_context_class=PlanExecutionContext,
)
