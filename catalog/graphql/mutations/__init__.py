"""The catalog's mutations, one module per model, merged into one type."""

from strawberry.tools import merge_types

from catalog.graphql.mutations.categories import CategoryMutation
from catalog.graphql.mutations.images import ImageMutation
from catalog.graphql.mutations.products import ProductMutation
from catalog.graphql.mutations.variants import VariantMutation

Mutation = merge_types(
    "Mutation", (ImageMutation, ProductMutation, VariantMutation, CategoryMutation)
)
