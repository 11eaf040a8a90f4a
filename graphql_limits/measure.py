"""Depth, alias count and cost of a GraphQL operation, from its AST and the schema.

Cost estimates how many values a response can hold: each field counts once per
item it can be resolved for, so a field's weight is the product of the list
sizes on its path, and the operation's cost is the sum of the weights.

* A field with a `first` or `last` argument (a connection, or a paginated list)
  holds that many items; `DEFAULT_PAGE_SIZE` without either, at most
  `MAX_PAGE_SIZE`. Variables and their defaults are resolved.
* A list field of a connection type (`edges`, `nodes`) does not multiply again:
  the connection's `first` already did.
* Any other list field (`Product.images`) holds `DEFAULT_LIST_SIZE` items,
  unless it takes a list argument: `nodes(ids: [...])` holds one item per ID.
* A list argument multiplies its field's weight by its length, after variables
  are applied: `srcset(widths: $w)` builds one URL per width, `url(transforms:)`
  one step per item. Arguments of the opaque JSON scalar are data, not work.

The arguments' values are measured too, variables included: their deepest
nesting (`input_depth`), how many values they hold in all (`input_values`: a
filter of a hundred lists of a hundred items is ten thousand conditions) and
their longest list (`longest_list`, with where it is), so a list sent in
variables is held to the same limit as one written in the query.

Introspection fields (`__schema`, `__type`, `__typename`) cost nothing and add
no depth, as in strawberry's QueryDepthLimiter; graphql-core's
MaxIntrospectionDepthRule bounds them. Their aliases still count.

Each fragment is measured once and reused at every spread (cost is linear in
the multiplier), so fragments spread many times cannot make this walk slow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
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
    # The argument values' deepest nesting (a scalar is 1, `[1]` is 2), their
    # number of values in all, and the longest list, with where that list is
    # (`Image.srcset(widths)`).
    input_depth: int = 0
    input_values: int = 0
    longest_list: int = 0
    longest_list_at: str = field(default="", compare=False)
    # The longest string among the argument values, and where it is.
    longest_string: int = 0
    longest_string_at: str = field(default="", compare=False)

    def __add__(self, other: Measure) -> Measure:
        """Two parts of one selection set: side by side."""
        longest = self if self.longest_list >= other.longest_list else other
        widest = self if self.longest_string >= other.longest_string else other
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.cost + other.cost,
            max(self.input_depth, other.input_depth),
            self.input_values + other.input_values,
            longest.longest_list,
            longest.longest_list_at,
            widest.longest_string,
            widest.longest_string_at,
        )


@dataclass(frozen=True)
class Sizes:
    """List sizes the cost model assumes; see GRAPHQL in graphql_limits.conf."""

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
        measured = Measure()
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
            measured += part
        return measured

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
        arguments = self.arguments(f"{parent.name}.{name}", definition, node)
        items = self.items(parent, definition, node, arguments.lists)
        here = Measure(
            1 + inner.depth,
            alias + inner.aliases,
            items * (1 + inner.cost),
            arguments.depth,
            arguments.values,
            arguments.longest,
            arguments.longest_at,
            arguments.widest,
            arguments.widest_at,
        )
        # The inputs below count too; their cost is already in here's.
        return here + replace(inner, depth=0, aliases=0, cost=0)

    def items(
        self,
        parent: GraphQLNamedType,
        definition: GraphQLField,
        node: FieldNode,
        lists: list[int],
    ) -> int:
        """How many items the field can resolve to, per item of its parent.

        ``lists`` are the lengths of its list arguments: each item of the longest
        is work (one URL per srcset width, one node per ID).
        """
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            requested = [self.int_argument(node, name) for name in PAGE_ARGUMENTS]
            given = [value for value in requested if value is not None]
            size = min(given) if given else self.sizes.default_page_size
            return max(0, min(size, self.sizes.max_page_size))
        if lists:
            return max(lists)
        if not is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
            return 1
        return 1 if is_connection(parent) else self.sizes.default_list_size

    def arguments(self, where: str, definition: GraphQLField, node: FieldNode) -> _Arguments:
        """Measure the field's argument values, variables applied."""
        measured = _Arguments()
        for argument in node.arguments or ():
            name = argument.name.value
            spec = definition.args.get(name)
            if spec is not None and _is_json(spec.type):
                continue  # opaque data (a product description), bounded by the body size
            value = self.value(argument.value)
            if isinstance(value, list):
                measured.lists.append(len(value))
            shape = _shape(value, spec.type if spec is not None else None)
            measured.depth = max(measured.depth, shape.depth)
            measured.values += shape.values
            if shape.longest > measured.longest:
                measured.longest = shape.longest
                measured.longest_at = f"{where}({name}{shape.longest_at})"
            if shape.widest > measured.widest:
                measured.widest = shape.widest
                measured.widest_at = f"{where}({name}{shape.widest_at})"
        return measured

    def value(self, node: ValueNode) -> Any:
        """An argument's value as plain data, variables substituted (scalars as None)."""
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, ListValueNode):
            return [self.value(item) for item in node.values]
        if isinstance(node, ObjectValueNode):
            return {item.name.value: self.value(item.value) for item in node.fields}
        if isinstance(node, StringValueNode):
            return node.value
        return None

    def int_argument(self, node: FieldNode, name: str) -> int | None:
        """The argument's integer value, variables applied; None if absent or not an int."""
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


@dataclass
class _Arguments:
    depth: int = 0
    values: int = 0
    longest: int = 0
    longest_at: str = ""
    widest: int = 0
    widest_at: str = ""
    lists: list[int] = field(default_factory=list)


@dataclass
class _Shape:
    depth: int = 0
    values: int = 0
    longest: int = 0
    longest_at: str = ""
    widest: int = 0
    widest_at: str = ""


def _is_json(type_: Any) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name == "JSON"


def _shape(value: Any, type_: Any = None) -> _Shape:
    """Nesting depth, number of values, longest list and longest string (with where
    they are, as ``.key.0``) of an argument's value.

    ``type_`` is the argument's GraphQL input type: values of the JSON scalar
    inside it are opaque data and not measured. Iterative, so a variable nested
    thousands of levels deep is measured, not a RecursionError.
    """
    shape = _Shape()
    stack = [(value, type_, 1, "")]
    while stack:
        item, kind, level, at = stack.pop()
        if kind is not None and _is_json(kind):
            continue
        shape.depth = max(shape.depth, level)
        shape.values += 1
        inner = get_nullable_type(kind) if kind is not None else None
        if isinstance(item, str):
            if len(item) > shape.widest:
                shape.widest, shape.widest_at = len(item), at
        elif isinstance(item, list):
            if len(item) > shape.longest:
                shape.longest, shape.longest_at = len(item), at
            of = inner.of_type if isinstance(inner, GraphQLList) else None
            stack.extend((child, of, level + 1, f"{at}.{i}") for i, child in enumerate(item))
        elif isinstance(item, dict):
            fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
            stack.extend(
                (child, getattr(fields.get(key), "type", None), level + 1, f"{at}.{key}")
                for key, child in item.items()
            )
    return shape
