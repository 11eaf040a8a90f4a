"""Everything the planner needs from inside graphql-core, strawberry and strawberry-django.

The plans do per field what these libraries' executors and field classes do, so
they lean on parts of them that are not documented API. Those parts are named
here and nowhere else, and checked when this module is imported, which
``config.schema`` does at start-up: if a library changes under them, the
process refuses to start with the versions at fault, instead of serving
answers that differ from graphql-core's.

What is used, and why:

- graphql-core: ``collect_fields``/``collect_subfields`` ("for internal use"),
  which group a selection set exactly as the executor does (fragments,
  ``@skip``/``@include``, aliases); ``CollectedErrors``, which records field
  errors with the executor's null-propagation bookkeeping; and the executor's
  ``build_resolve_info`` and ``ensure_valid_runtime_type`` (":meta private:").
- strawberry: the link from a GraphQL field to its ``StrawberryField``
  (``GraphQLCoreConverter.DEFINITION_BACKREF``), the ``Info`` constructor
  (``_raw_info``, ``_field``), ``convert_arguments``, and the mark it puts on
  the resolvers it builds (``_is_default``), which tells its own resolvers from
  others.
- strawberry-django: ``StrawberryDjangoField.get_result``, whose reading of a
  loaded column or cached foreign key a plan repeats without an Info, and whose
  call of a single object's resolver a plan makes directly (its ``_need_remove_*``
  flags say no argument is taken out first); and the optimizer's walk of a
  selection (``_get_model_hints`` and what ``optimize`` does around it), whose
  result ``query_plans.optimizer`` keeps per plan instead of walking again.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from importlib.metadata import version
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from graphql import get_nullable_type, is_list_type
from graphql.execution.collect_fields import collect_fields, collect_subfields
from graphql.execution.executor import CollectedErrors, Executor
from graphql.language.ast import OperationType
from graphql.type.definition import get_named_type
from strawberry.relay.fields import ConnectionExtension, NodeExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import (
    DjangoOptimizerExtension,
    OptimizerConfig,
    OptimizerStore,
    _get_gql_definition,
    _get_model_hints,
    is_optimized,
)
from strawberry_django.queryset import get_queryset_config
from strawberry_django.utils.inspect import get_possible_concrete_types, is_inheritance_qs
from strawberry_django.utils.typing import get_django_definition

__all__ = [
    "ALLOWED_FIELD_EXTENSIONS",
    "BaseExecutionContext",
    "CollectedErrors",
    "DeferredAttribute",
    "DjangoOptimizerExtension",
    "ForwardManyToOneDescriptor",
    "apply_optimizer_hints",
    "calls_resolver_plainly",
    "collect_fields",
    "collect_subfields",
    "convert_arguments",
    "django_model",
    "is_stock_optimizer",
    "is_type_of_ignores_info",
    "make_info",
    "may_optimize",
    "optimizer_config",
    "optimizer_hints",
    "raw_info",
    "strawberry_field",
    "strawberry_schema",
    "uses_library_get_result",
]

# The execution context strawberry uses by default, which the plans extend.
BaseExecutionContext = StrawberryGraphQLCoreExecutionContext

# Field extensions whose fields a plan runs through strawberry's own resolver
# (relay connections and node lookups); any other extension, such as a
# permission check, makes the operation fall back to graphql-core.
ALLOWED_FIELD_EXTENSIONS = (ConnectionExtension, NodeExtension)

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def strawberry_schema(schema: Any) -> Any:
    """The strawberry Schema a GraphQLSchema was built from, or None."""
    return getattr(schema, "_strawberry_schema", None)


def strawberry_field(field_def: Any) -> StrawberryField | None:
    """The StrawberryField behind a GraphQL field, when strawberry's resolver runs it."""
    field = (field_def.extensions or {}).get(_BACKREF)
    if not isinstance(field, StrawberryField):
        return None
    if not isinstance(getattr(field_def.resolve, "_is_default", None), bool):
        return None
    return field


def make_info(info_class: type, raw_info: Any, field: StrawberryField) -> Info:
    """The Info strawberry gives resolvers, as its own resolver builds it."""
    return info_class(_raw_info=raw_info, _field=field)


def uses_library_get_result(field: StrawberryField) -> str | None:
    """Which library ``get_result`` a field runs: "strawberry", "django" or None (its own)."""
    get_result = type(field).get_result
    if get_result is StrawberryField.get_result:
        return "strawberry"
    if get_result is StrawberryDjangoField.get_result:
        return "django"
    return None


def calls_resolver_plainly(field: StrawberryField, graphql_type: Any) -> bool:
    """Whether strawberry-django's ``get_result`` of ``field`` amounts to calling its
    resolver: a sync resolver of a single object (not a list or connection), so no
    argument is removed (filters, order, pagination) and no queryset hook applies.

    What ``get_result`` then adds, ``django_resolver``'s switch to a thread in an
    async context, never applies to a plan (sync execution only; async fields are
    not planned). Nor does its handling of a resolver that returns a callable, a
    manager or a queryset: none is a single object, so none completes as one.
    """
    if type(field).get_result is not StrawberryDjangoField.get_result:
        return False
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or not callable(resolver.wrapped_func):
        return False
    if is_list_type(get_nullable_type(graphql_type)):
        return False
    return not any(getattr(field, flag) for flag in _REMOVED_ARGUMENT_FLAGS)


# The arguments strawberry-django's get_result takes out before calling a resolver.
_REMOVED_ARGUMENT_FLAGS = (
    "_need_remove_order_argument",
    "_need_remove_ordering_argument",
    "_need_remove_filters_argument",
    "_need_remove_pagination_argument",
)


def django_model(object_type: Any) -> type | None:
    """The Django model of a strawberry-django object type, or None."""
    definition = (object_type.extensions or {}).get(_BACKREF)
    origin = getattr(definition, "origin", None)
    django_definition = get_django_definition(origin) if origin is not None else None
    return getattr(django_definition, "model", None)


def is_stock_optimizer(middleware: Any) -> bool:
    """strawberry-django's optimizer, with its own per-field ``resolve`` hook."""
    return (
        isinstance(middleware, DjangoOptimizerExtension)
        and type(middleware).resolve is DjangoOptimizerExtension.resolve
    )


# --- the optimizer's hints ---------------------------------------------------------


def raw_info(info: Any) -> Any:
    """graphql-core's GraphQLResolveInfo, from it or from strawberry's Info."""
    return info._raw_info if isinstance(info, Info) else info


def may_optimize(qs: Any) -> bool:
    """Whether ``optimize`` would work on ``qs``: not done already, not evaluated."""
    return not is_optimized(qs) and qs._result_cache is None


def optimizer_config(optimizer: DjangoOptimizerExtension, info: Any) -> OptimizerConfig:
    """The config ``DjangoOptimizerExtension.optimize`` builds for ``info``."""
    return OptimizerConfig(
        enable_only=optimizer.enable_only and info.operation.operation == OperationType.QUERY,
        enable_select_related=optimizer.enable_select_related,
        enable_prefetch_related=optimizer.enable_prefetch_related,
        enable_annotate=optimizer.enable_annotate_optimization,
        prefetch_custom_queryset=optimizer.prefetch_custom_queryset,
    )


def optimizer_hints(qs: Any, info: Any, config: OptimizerConfig) -> OptimizerStore | None:
    """What strawberry-django's ``optimize`` works out for ``qs`` at ``info`` (its walk
    of the selection), before it applies it; None for an inheritance queryset, whose
    subclasses ``optimize`` also collects."""
    if is_inheritance_qs(qs):
        return None
    schema = info.schema._strawberry_schema
    strawberry_type = schema.get_type_by_name(get_named_type(info.return_type).name)
    store = OptimizerStore()
    if strawberry_type is None:
        return store
    for definition in get_possible_concrete_types(qs.model, schema, strawberry_type):
        found = _get_model_hints(
            qs.model,
            schema,
            definition,
            parent_type=_get_gql_definition(schema, definition),
            info=info,
            config=config,
            subclass_collection=None,
        )
        if found is not None:
            store |= found
    return store


def apply_optimizer_hints(store: OptimizerStore, qs: Any, info: Any, config: OptimizerConfig):
    """``qs`` optimized with ``store``, as ``optimize`` ends. Applying a store merges
    and narrows its ``Prefetch`` querysets in place, so it applies copies: the store
    stays as it was found, for the next request and the other threads."""
    if not store:
        return qs
    fresh = store.copy()
    fresh.prefetch_related = [_copied(prefetch) for prefetch in store.prefetch_related]
    qs = fresh.apply(qs, info=info, config=config)
    get_queryset_config(qs).optimized = True
    return qs


def _copied(prefetch: Any) -> Any:
    if isinstance(prefetch, Prefetch):
        prefetch = copy.copy(prefetch)
        if prefetch.queryset is not None:
            prefetch.queryset = prefetch.queryset.all()  # a clone, not evaluated
    return prefetch


# strawberry's and strawberry-django's is_type_of read the object, not the Info.
_INFO_FREE_IS_TYPE_OF = {
    ("strawberry_django.type", "_process_type.<locals>.is_type_of"),
    (
        "strawberry.schema.schema_converter",
        "GraphQLCoreConverter._get_is_type_of.<locals>.is_type_of",
    ),
    (
        "strawberry.schema.schema_converter",
        "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of",
    ),
}


def is_type_of_ignores_info(is_type_of: Any) -> bool:
    """Whether an object type's is_type_of can be called without a GraphQLResolveInfo.

    graphql-core calls it with the field's Info for every object it completes;
    building one per object costs more than the check. strawberry-django's
    calls its class's parent ``is_type_of`` with the Info when there is one.
    """
    function = getattr(is_type_of, "__func__", is_type_of)
    if (function.__module__, function.__qualname__) not in _INFO_FREE_IS_TYPE_OF:
        return False
    if function.__module__ != "strawberry_django.type":
        return True
    cells = dict(zip(function.__code__.co_freevars, function.__closure__ or (), strict=True))
    cls = cells["cls"].cell_contents
    return getattr(super(cls, is_type_of.__self__), "is_type_of", None) is None


# --- start-up checks ---------------------------------------------------------------


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _django_is_type_of_known() -> bool:
    # A type made by strawberry_django.type gets the is_type_of named above, with
    # the class in its closure.
    import strawberry_django
    from django.contrib.auth.models import Group

    @strawberry_django.type(Group)
    class _Probe:
        name: str

    is_type_of = _Probe.__strawberry_definition__.is_type_of
    return is_type_of_ignores_info(is_type_of) and is_type_of(Group(), None)


def _check() -> None:
    expectations = {
        "graphql-core collect_subfields": _parameters(collect_subfields)[:6]
        == [
            "schema",
            "fragments",
            "variable_values",
            "operation",
            "return_type",
            "field_details_list",
        ],
        "graphql-core collect_fields": _parameters(collect_fields)[:5]
        == ["schema", "fragments", "variable_values", "runtime_type", "operation"],
        "graphql-core Executor.build_resolve_info": _parameters(Executor.build_resolve_info)
        == ["self", "field_def", "field_nodes", "parent_type", "path"],
        "graphql-core Executor.ensure_valid_runtime_type": _parameters(
            Executor.ensure_valid_runtime_type
        )
        == ["self", "runtime_type_name", "return_type", "field_details_list", "info", "result"],
        "graphql-core CollectedErrors": hasattr(CollectedErrors, "add")
        and hasattr(CollectedErrors, "errors"),
        "graphql-core Executor.execute_operation": _parameters(Executor.execute_operation)
        == ["self", "serially"],
        "strawberry DEFINITION_BACKREF": _BACKREF == "strawberry-definition",
        "strawberry Info fields": [field for field in Info.__dataclass_fields__]
        == ["_raw_info", "_field"],
        "strawberry convert_arguments": _parameters(convert_arguments)
        == ["value", "arguments", "scalar_registry", "config", "info"],
        "strawberry StrawberryField.get_result": _parameters(StrawberryField.get_result)
        == ["self", "source", "info", "args", "kwargs"],
        "strawberry-django StrawberryDjangoField.get_result": _parameters(
            StrawberryDjangoField.get_result
        )
        == ["self", "source", "info", "args", "kwargs"],
        "strawberry-django is_type_of": _django_is_type_of_known(),
        "strawberry-django StrawberryDjangoField._need_remove_*": all(
            hasattr(StrawberryDjangoField, flag) for flag in _REMOVED_ARGUMENT_FLAGS
        ),
        "strawberry-django DjangoOptimizerExtension.resolve": _parameters(
            DjangoOptimizerExtension.resolve
        )[:4]
        == ["self", "next_", "root", "info"],
        "strawberry-django DjangoOptimizerExtension.optimize": _parameters(
            DjangoOptimizerExtension.optimize
        )
        == ["self", "qs", "info", "store"],
        "strawberry-django _get_model_hints": _parameters(_get_model_hints)
        == [
            "model",
            "schema",
            "object_definition",
            "parent_type",
            "info",
            "config",
            "prefix",
            "cache",
            "level",
            "subclass_collection",
        ],
        "strawberry-django OptimizerConfig": {
            field.name for field in dataclasses.fields(OptimizerConfig)
        }
        == {
            "enable_only",
            "enable_select_related",
            "enable_prefetch_related",
            "enable_annotate",
            "enable_nested_relations_prefetch",
            "prefetch_custom_queryset",
        },
        "strawberry-django OptimizerStore": [
            field.name for field in dataclasses.fields(OptimizerStore)
        ]
        == ["only", "select_related", "prefetch_related", "annotate"]
        and _parameters(OptimizerStore.apply) == ["self", "qs", "info", "config"],
    }
    broken = [name for name, holds in expectations.items() if not holds]
    if broken:
        versions = ", ".join(
            f"{name} {version(name)}"
            for name in ("graphql-core", "strawberry-graphql", "strawberry-graphql-django")
        )
        raise ImproperlyConfigured(
            f"query_plans was written against other versions of its libraries ({versions}): "
            f"{', '.join(broken)} changed. Pin the versions in pyproject.toml back, or "
            "update query_plans/compat.py and run the differential tests."
        )


_check()
