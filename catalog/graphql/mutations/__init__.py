"""The catalog's mutations, one module per model, merged into one type."""

from strawberry.tools import merge_types

from catalog.graphql.mutations.images import ImageMutation

Mutation = merge_types("Mutation", (ImageMutation,))
