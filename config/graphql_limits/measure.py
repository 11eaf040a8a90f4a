"""Depth, alias count and cost of a GraphQL operation, from its AST and the schema.

Cost estimates how many values a response can hold: each field counts once per
item it can be resolved for, so a field's weight is the product of the list
sizes on its path, and the operation's cost is the sum of the weights.

* A field with a `first` or `last` argument (a connection, or a paginated list)
  holds that many items; `DEFAULT_PAGE_SIZE` without either, at most
  `MAX_PAGE_SIZE`. Variables and their defaults are resolved.
* A list field of a connection type (`edges`, `nodes`) does not multiply again:
  the connection's `first` already did.
* Any other list field (`Product.images`) holds `DEFAULT_LIST_SIZE` items.

Introspection fields (`__schema`, `__type`, `__typename`) cost nothing and add
no depth, as in strawberry's QueryDepthLimiter; graphql-core's
MaxIntrospectionDepthRule bounds them. Their aliases still count.

Each fragment is measured once and reused at every spread (cost is linear in
the multiplier), so fragments spread many times cannot make this walk slow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class Measure:
    """What a selection set adds up to, per item of its parent."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


@dataclass(frozen=True)
class Sizes:
    """List sizes the cost model assumes; see GRAPHQL in config.graphql_limits.conf."""

    default_page_size: int
    max_page_size: int
    default_list_size: int


def is_connection(type_: GraphQLNamedType | None) -> bool:
    """A Relay connection type: its `edges` hold the items its field's `first` asked for."""
    return isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) and {
        "edges",
        "pageInfo",
    } <= set(type_.fields)


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
    sizes: Sizes,
) -> Measure:
    """Measure one operation of a parsed (not necessarily valid) document.

    Unknown fields, types and fragments, and fragment cycles, measure as nothing:
    validation reports them.
    """
    defaults = {
        definition.variable.name.value: int(definition.default_value.value)
        for definition in operation.variable_definitions or ()
        if isinstance(definition.default_value, IntValueNode)
    }
    walker = _Walker(schema, fragments, {**defaults, **(variables or {})}, sizes)
    return walker.selection_set(schema.get_root_type(operation.operation), operation.selection_set)


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        sizes: Sizes,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.sizes = sizes
        self.measured: dict[str, Measure] = {}
        self.entered: set[str] = set()

    def selection_set(
        self, parent: GraphQLNamedType | None, node: SelectionSetNode | None
    ) -> Measure:
        depth = aliases = cost = 0
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                part = self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                part = self.selection_set(
                    self.type_of(selection.type_condition) or parent, selection.selection_set
                )
            elif isinstance(selection, FragmentSpreadNode):
                part = self.fragment(selection.name.value)
            else:  # pragma: no cover - the parser makes no other selections
                continue
            depth = max(depth, part.depth)
            aliases += part.aliases
            cost += part.cost
        return Measure(depth, aliases, cost)

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> Measure:
        alias = 1 if node.alias else 0
        name = node.name.value
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        if definition is None or name.startswith("__"):
            # Introspection or unknown: only the aliases below count.
            inner = self.selection_set(None, node.selection_set)
            return Measure(0, alias + inner.aliases, 0)
        inner = self.selection_set(get_named_type(definition.type), node.selection_set)
        items = self.items(parent, definition, node)
        return Measure(1 + inner.depth, alias + inner.aliases, items * (1 + inner.cost))

    def items(self, parent: GraphQLNamedType, definition: GraphQLField, node: FieldNode) -> int:
        """How many items the field can resolve to, per item of its parent."""
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            requested = [self.int_argument(node, name) for name in PAGE_ARGUMENTS]
            given = [value for value in requested if value is not None]
            size = min(given) if given else self.sizes.default_page_size
            return max(0, min(size, self.sizes.max_page_size))
        if not is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
            return 1
        return 1 if is_connection(parent) else self.sizes.default_list_size

    def int_argument(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            elif isinstance(value, IntValueNode):
                value = int(value.value)
            # Anything else is invalid, or null: validation or the default decides.
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    def fragment(self, name: str) -> Measure:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.entered:
            return Measure()  # unknown, or a cycle: validation reports both
        self.entered.add(name)
        measured = self.selection_set(
            self.type_of(definition.type_condition), definition.selection_set
        )
        self.entered.discard(name)
        self.measured[name] = measured
        return measured

    def type_of(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        return self.schema.get_type(node.name.value) if node else None
