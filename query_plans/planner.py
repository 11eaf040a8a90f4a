"""Query plans: what graphql-core decides per field and per item, decided once.

A plan is built from one operation of one document with one set of variable
values. For each object in the response it lists the fields graphql-core would
collect (same grouping, order, fragments and directives, computed by its own
``collect_fields``), and for each field its response key, its arguments coerced
and converted to what the resolver takes, how its value is read and how the
value is completed. Anything the planner was not built for raises
:class:`Unsupported`, and the operation runs through graphql-core instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLString,
    OperationType,
    get_argument_values,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.type import GraphQLBoolean
from strawberry.types.unset import UnsetType

from query_plans import compat
from query_plans.compiler import compile_object
from query_plans.modes import (
    ABSTRACT,
    ATTRIBUTE,
    BASIC,
    BOOLEAN,
    CALL,
    COLUMN,
    CONSTANT,
    FOREIGN_KEY,
    GENERIC,
    GET_RESULT,
    INLINE,
    INT,
    LEAF,
    LIST,
    OBJECT,
    OTHER,
    SELF,
    SELF_ARGS,
    SELF_COPY,
    SLOW,
    STRING,
)

_IMMUTABLE = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    decimal.Decimal,
    enum.Enum,
    UnsetType,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
)


class Unsupported(Exception):
    """The operation has something plans do not cover; graphql-core runs it."""


class TypePlan:
    """How a value of one GraphQL output type is completed."""

    __slots__ = ("by_type", "kind", "leaf", "needs_info", "non_null", "object", "of", "type")

    def __init__(self, kind: int, type_: Any, non_null: bool) -> None:
        self.kind = kind
        self.type = type_
        self.non_null = non_null
        self.leaf = OTHER
        self.of: TypePlan | None = None
        self.object: ObjectPlan | None = None
        # Abstract types: the object plan of each runtime type, made when first met.
        self.by_type: dict[str, ObjectPlan] = {}
        # is_type_of and resolve_type take the field's GraphQLResolveInfo.
        self.needs_info = False


class ObjectPlan:
    """The fields of one object type under one selection, in response order."""

    __slots__ = (
        "fields",
        "is_type_of",
        "is_type_of_needs_info",
        "model",
        "run",
        "type",
        "type_name",
    )

    def __init__(self, type_: GraphQLObjectType, fields: list[FieldPlan], root: bool) -> None:
        self.type = type_
        self.type_name = type_.name
        self.fields = fields
        # graphql-core checks is_type_of on every completed object, not on the root.
        self.is_type_of = None if root else type_.is_type_of
        self.is_type_of_needs_info = self.is_type_of is not None and not (
            compat.is_type_of_ignores_info(self.is_type_of)
        )
        # Column reads are inline only for instances of exactly this model.
        self.model = compat.django_model(type_)
        self.run = compile_object(self)


class FieldPlan:
    """One response key of an object: how it is read and completed."""

    __slots__ = (
        "args",
        "args_mutable",
        "attname",
        "check_queryset",
        "const",
        "details",
        "field",
        "field_def",
        "func",
        "info_kw",
        "key",
        "kwargs",
        "leaf",
        "list_keys",
        "mode",
        "model",
        "name",
        "nodes",
        "non_null",
        "parent_name",
        "parent_type",
        "read",
        "self_positional",
        "source_kws",
        "type_plan",
    )

    def __init__(self, key: str, parent_type: GraphQLObjectType, details: list, field_def: Any):
        self.key = key
        self.parent_type = parent_type
        self.parent_name = parent_type.name
        self.details = details
        self.nodes = [detail.node for detail in details]
        self.name = self.nodes[0].name.value
        self.field_def = field_def
        self.non_null = is_non_null_type(field_def.type)
        self.field = None
        self.read = GENERIC
        self.mode = SLOW
        self.args: dict[str, Any] = {}
        # graphql-core coerces literals per call; containers are copied per call.
        self.args_mutable = False
        self.kwargs: dict[str, Any] = {}
        self.list_keys: tuple[str, ...] = ()
        self.attname = ""
        self.func: Any = None
        self.const: Any = None
        self.model: type | None = None
        self.self_positional = False
        self.source_kws: tuple[str, ...] = ()
        self.info_kw: str | None = None
        self.check_queryset = False
        self.leaf = OTHER
        self.type_plan: TypePlan | None = None


@dataclasses.dataclass
class OperationPlan:
    """A query's plan, and what is needed to plan abstract types' runtime types later."""

    root: ObjectPlan
    planner: Planner
    # query_plans.optimizer.PlannedOptimizer's hints, found on the first executions.
    optimizer_hints: dict = dataclasses.field(default_factory=dict)


class Planner:
    """Builds the plan of the operation an executor was built for."""

    def __init__(self, executor: Any) -> None:
        self.schema = executor.schema
        self.fragments = executor.fragments
        self.variable_values = executor.variable_values
        self.operation = executor.operation
        self.hide_suggestions = executor.hide_suggestions
        strawberry_schema = compat.strawberry_schema(self.schema)
        if strawberry_schema is None:
            raise Unsupported("not a strawberry schema")
        self.config = strawberry_schema.config
        self.scalar_registry = strawberry_schema.schema_converter.scalar_registry
        self.exception_handlers = bool(strawberry_schema.exception_handlers)
        self.info_class = self.config.info_class

    def build(self) -> OperationPlan:
        operation = self.operation
        if operation.operation is not OperationType.QUERY:
            raise Unsupported(f"{operation.operation.value} operation")
        root_type = self.schema.get_root_type(operation.operation)
        if root_type is None:
            raise Unsupported("no root type")
        grouped, new_defer_usages, _forbidden = compat.collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            operation,
            self.hide_suggestions,
        )
        if new_defer_usages:
            raise Unsupported("@defer")
        return OperationPlan(self.object_plan(root_type, grouped, root=True), self)

    def object_plan(self, type_: GraphQLObjectType, grouped: dict, root: bool = False):
        fields = []
        for key, details in grouped.items():
            field_def = self.schema.get_field(type_, details[0].node.name.value)
            if field_def is not None:  # graphql-core leaves unknown fields out too
                fields.append(self.field_plan(key, type_, details, field_def))
        return ObjectPlan(type_, fields, root)

    def subfields_plan(self, type_: GraphQLObjectType, details: list) -> ObjectPlan:
        grouped, new_defer_usages, _forbidden = compat.collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            type_,
            details,
            self.hide_suggestions,
        )
        if new_defer_usages:
            raise Unsupported("@defer")
        return self.object_plan(type_, grouped)

    # --- fields --------------------------------------------------------------------

    def field_plan(self, key: str, parent_type: Any, details: list, field_def: Any) -> FieldPlan:
        plan = FieldPlan(key, parent_type, details, field_def)
        for detail in details:
            if detail.fragment_variable_values is not None:
                raise Unsupported("fragment variables")
            if any(d.name.value in ("stream", "defer") for d in detail.node.directives or ()):
                raise Unsupported("@stream")
        node = plan.nodes[0]
        if field_def.args or node.arguments:
            try:
                plan.args = get_argument_values(
                    field_def, node, self.variable_values, None, self.hide_suggestions
                )
            except GraphQLError as e:
                # graphql-core reports it at every execution of the field.
                raise Unsupported(f"argument error: {e.message}") from e
            plan.args_mutable = _holds_containers(plan.args)
        plan.type_plan = self.type_plan(field_def.type, details)
        plan.leaf = plan.type_plan.leaf if plan.type_plan.kind == LEAF else OTHER
        self.choose_reader(plan, parent_type)
        # The optimizer's per-field hook only acts on managers and querysets,
        # which a leaf never holds (see Executor._optimize).
        plan.check_queryset = plan.type_plan.kind != LEAF
        # Read inline by the object loop, unless completing the value takes an Info
        # (is_type_of, resolve_type): then Executor._field builds one first.
        plan.mode = plan.read if plan.read in INLINE and not plan.type_plan.needs_info else SLOW
        return plan

    def choose_reader(self, plan: FieldPlan, parent_type: Any) -> None:
        if plan.name == "__typename":
            plan.read, plan.const = CONSTANT, parent_type.name
            return
        field = compat.strawberry_field(plan.field_def)
        if field is None or self.exception_handlers:
            return  # GENERIC: introspection, non-strawberry fields
        plan.field = field
        if field.is_async:
            raise Unsupported(f"async field {parent_type.name}.{plan.name}")
        if field.extensions:
            if all(isinstance(e, compat.ALLOWED_FIELD_EXTENSIONS) for e in field.extensions):
                return  # GENERIC: strawberry runs the extensions
            raise Unsupported(f"field extensions on {parent_type.name}.{plan.name}")
        library = compat.uses_library_get_result(field)
        if field.is_basic_field:
            plain = library == "strawberry" and field.base_resolver is None
            if plain and field.default_resolver is getattr:
                plan.read, plan.attname = ATTRIBUTE, field.python_name
            else:
                plan.read = BASIC
            return
        kwargs = self.converted_arguments(plan, field)
        if kwargs is None:
            return  # GENERIC: strawberry converts the arguments per call
        plan.kwargs = kwargs
        resolver = field.base_resolver
        if resolver is None:
            plan.read = GET_RESULT
            if library == "django" and not kwargs:
                self.choose_column(plan, field, parent_type)
            return
        plan.self_positional = resolver.self_parameter is not None
        plan.source_kws = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        plan.info_kw = resolver.info_parameter.name if resolver.info_parameter else None
        plain = library == "strawberry" or compat.calls_resolver_plainly(field, plan.field_def.type)
        if not plain or not callable(resolver.wrapped_func):
            plan.read = GET_RESULT
            return
        plan.func = resolver.wrapped_func
        plan.read = CALL
        if plan.self_positional and not plan.source_kws and plan.info_kw is None:
            plan.read = SELF_COPY if plan.list_keys else SELF_ARGS if kwargs else SELF

    def choose_column(self, plan: FieldPlan, field: Any, parent_type: Any) -> None:
        model = compat.django_model(parent_type)
        if model is None:
            return
        attname = field.django_name or field.python_name
        descriptor = getattr(model, attname, None)
        if type(descriptor) is compat.DeferredAttribute:
            plan.read, plan.attname, plan.model = COLUMN, descriptor.field.attname, model
        elif type(descriptor) is compat.ForwardManyToOneDescriptor:
            plan.read, plan.func, plan.model = FOREIGN_KEY, descriptor.field.get_cached_value, model

    def converted_arguments(self, plan: FieldPlan, field: Any) -> dict[str, Any] | None:
        """The resolver's keyword arguments, converted once; None when they must be
        converted per call (a fresh mutable object each time, as strawberry makes them)."""
        if not field.arguments:
            return {}
        try:
            first, second = (
                compat.convert_arguments(
                    plan.args, field.arguments, self.scalar_registry, self.config, None
                )
                for _ in range(2)
            )
        except Exception as e:
            raise Unsupported(f"argument conversion: {e}") from e
        list_keys = []
        for name, value in first.items():
            sharing = _sharing(value, second[name])
            if sharing is None:
                return None
            if sharing == "copy":
                list_keys.append(name)
        plan.list_keys = tuple(list_keys)
        return first

    # --- types ---------------------------------------------------------------------

    def type_plan(self, type_: Any, details: list) -> TypePlan:
        non_null = is_non_null_type(type_)
        if non_null:
            type_ = type_.of_type
        if is_list_type(type_):
            plan = TypePlan(LIST, type_, non_null)
            plan.of = self.type_plan(type_.of_type, details)
            plan.needs_info = plan.of.needs_info
        elif is_leaf_type(type_):
            plan = TypePlan(LEAF, type_, non_null)
            if type_ is GraphQLString or type_ is GraphQLID:
                plan.leaf = STRING
            elif type_ is GraphQLInt:
                plan.leaf = INT
            elif type_ is GraphQLBoolean:
                plan.leaf = BOOLEAN
        elif is_abstract_type(type_):
            plan = TypePlan(ABSTRACT, type_, non_null)
            plan.needs_info = True
        elif is_object_type(type_):
            plan = TypePlan(OBJECT, type_, non_null)
            plan.object = self.subfields_plan(type_, details)
            plan.needs_info = plan.object.is_type_of_needs_info
        else:  # pragma: no cover - graphql-core has no other output types
            raise Unsupported(f"output type {type_}")
        return plan


def _sharing(first: Any, second: Any) -> str | None:
    """Whether one converted value can serve every call, given two conversions of it:
    "share", "copy" (a list of shareable items, copied per call as strawberry
    copies lists) or None (strawberry builds a new mutable object per call)."""
    if isinstance(first, list):
        same_length = type(second) is list and len(first) == len(second)
        if same_length and all(
            _sharing(a, b) == "share" for a, b in zip(first, second, strict=True)
        ):
            return "copy"
        return None
    if isinstance(first, dict | set):
        return None
    if first is second:
        # An immutable value, or an object the type's from_input hook hands out
        # for every call alike (its own cache).
        return "share"
    immutable = isinstance(first, _IMMUTABLE) or _is_frozen(first)
    if immutable and type(first) is type(second) and first == second:
        return "share"
    return None


def _holds_containers(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and any(
            isinstance(item, list | dict | set) or _holds_containers(item)
            for item in value.values()
        )
    return False


def _is_frozen(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return bool(params and params.frozen)
