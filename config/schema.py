"""The root GraphQL schema: every app's Query and Mutation, merged."""

import strawberry
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from catalog.graphql.mutations import Mutation as CatalogMutation
from catalog.graphql.queries import Query as CatalogQuery
from config.graphql_limits import MaskUnexpectedErrors, QueryLimits

Query = merge_types("Query", (CatalogQuery,))
Mutation = merge_types("Mutation", (CatalogMutation,))

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    # Classes, not instances: strawberry makes them per request, and the limits
    # are read from settings.GRAPHQL then.
    extensions=[DjangoOptimizerExtension, QueryLimits, MaskUnexpectedErrors],
)
