"""The execution context that runs query plans, and graphql-core where they don't apply.

:class:`PlanExecutionContext` is strawberry's execution context (graphql-core's
``Executor``) with ``execute_operation`` taking a plan when there is one. A plan
does what graphql-core's executor does per field (see ``Executor.execute_field``
and ``complete_value``), in the same order, with the same errors, paths and
null propagation; it only skips the work whose outcome the plan already holds.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from django.db.models import QuerySet
from django.db.models.manager import BaseManager
from graphql import ExecutionResult, GraphQLError, located_error
from graphql.pyutils import Path, Undefined, inspect, is_iterable

from query_plans import compat
from query_plans.cache import PLANS, plan_key
from query_plans.modes import (
    ABSTRACT,
    ATTRIBUTE,
    BASIC,
    BOOLEAN,
    CALL,
    COLUMN,
    CONSTANT,
    FOREIGN_KEY,
    GET_RESULT,
    LEAF,
    LIST,
    OBJECT,
    SELF,
    SELF_ARGS,
    SELF_COPY,
    STRING,
)
from query_plans.optimizer import remembering_hints
from query_plans.planner import (
    FieldPlan,
    ObjectPlan,
    OperationPlan,
    Planner,
    TypePlan,
    Unsupported,
)

logger = logging.getLogger(__name__)

MIN_INT, MAX_INT = -(2**31), 2**31 - 1
NOT_SYNCHRONOUS = "GraphQL execution failed to complete synchronously."
_MANAGED = (BaseManager, QuerySet)
_MISSING = object()


class _NotSynchronous(BaseException):
    """A resolver returned an awaitable: no field handler may catch this."""


class PlanExecutionContext(compat.BaseExecutionContext):
    """strawberry's execution context, running cached query plans.

    Pass it as ``strawberry.Schema(execution_context_class=...)``. Queries run
    from their plan; mutations, subscriptions, operations inside an event loop
    and anything else the planner does not cover run through graphql-core.
    """

    #: When True, a planning failure that is not :class:`Unsupported` is raised
    #: instead of logged (the differential tests set it).
    strict = False

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self.query_plan() if serially is None else None
        if plan is None:
            return super().execute_operation(serially)
        return self.execute_plan(plan)

    # --- planning ------------------------------------------------------------------

    def query_plan(self) -> OperationPlan | None:
        """The cached plan of this operation, or None when graphql-core must run it."""
        if (
            self.abort_signal is not None
            or self.hooks is not None
            or not self.error_propagation
            or not self._middleware_is_planned()
            or _in_event_loop()
        ):
            return None
        key = plan_key(self)
        if key is not None:
            found = PLANS.get(key)
            if found is not None:
                return found or None  # False: known to be unsupported
        try:
            plan = Planner(self).build()
        except (Unsupported, RecursionError) as e:
            logger.debug("No query plan (%s); graphql-core executes the operation.", e)
            plan = None
        except Exception:
            if self.strict:
                raise
            logger.exception("Query planning failed; graphql-core executes the operation.")
            plan = None
        if key is not None:
            PLANS.put(key, plan or False)
        return plan

    def _middleware_is_planned(self) -> bool:
        manager = self.middleware_manager
        middlewares = getattr(manager, "middlewares", None) or ()
        return all(compat.is_stock_optimizer(middleware) for middleware in middlewares)

    # --- execution -----------------------------------------------------------------

    def execute_plan(self, plan: OperationPlan) -> ExecutionResult:
        """Executor.execute_operation, from a plan."""
        self._plan = plan
        manager = self.middleware_manager
        self._optimizers = tuple(getattr(manager, "middlewares", None) or ())
        try:
            with remembering_hints(plan.optimizer_hints):
                data = plan.root.run(self, self.root_value, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            data = None
        except _NotSynchronous:
            raise RuntimeError(NOT_SYNCHRONOUS) from None
        return ExecutionResult(data, self.collected_errors.errors or None)

    def _finish(self, field: FieldPlan, value: Any, source: Any, path: Path | None) -> Any:
        """Complete a value read inline by an object's compiled function."""
        field_path = Path(path, field.key, field.parent_name)
        if field.check_queryset and isinstance(value, _MANAGED):
            value = self._optimize(value, field, source, field_path, None)
        return self._complete(field.type_plan, value, field, field_path, None)

    def _field(self, field: FieldPlan, source: Any, path: Path | None) -> Any:
        """Executor.execute_field for the fields an object's compiled function does
        not read inline: those that take an Info, and inline reads that missed."""
        field_path = Path(path, field.key, field.parent_name)
        info = (
            self.build_resolve_info(field.field_def, field.nodes, field.parent_type, field_path)
            if field.type_plan.needs_info
            else None
        )
        value, info = self._read(field, source, field_path, info)
        if field.check_queryset and isinstance(value, _MANAGED):
            value = self._optimize(value, field, source, field_path, info)
        return self._complete(field.type_plan, value, field, field_path, info)

    def _info(self, field: FieldPlan, field_path: Path) -> Any:
        return self.build_resolve_info(field.field_def, field.nodes, field.parent_type, field_path)

    def _read(self, field: FieldPlan, source: Any, field_path: Path, info: Any) -> tuple:
        """The field's value and the GraphQLResolveInfo, if one was made."""
        read = field.read
        if read == COLUMN:
            if type(source) is field.model:
                value = source.__dict__.get(field.attname, _MISSING)
                if value is not _MISSING:
                    return value, info
            read = GET_RESULT  # deferred or another class: strawberry-django loads it
        elif read == FOREIGN_KEY:
            if type(source) is field.model:
                try:
                    return field.func(source), info
                except KeyError:
                    pass
            read = GET_RESULT
        elif read == ATTRIBUTE:
            return getattr(source, field.attname), info
        elif read == SELF:
            return field.func(source), info
        elif read == SELF_ARGS:
            return field.func(source, **field.kwargs), info
        elif read == CONSTANT:
            return field.const, info
        elif read == BASIC:
            return self._sync(field.field.get_result(source, None, [], {})), info
        elif read == SELF_COPY:
            read = CALL
        if read in (GET_RESULT, CALL):
            kwargs = dict(field.kwargs)
            for name in field.list_keys:
                kwargs[name] = list(kwargs[name])
            for name in field.source_kws:
                kwargs[name] = source
            strawberry_info = None
            if field.info_kw is not None or read == GET_RESULT:
                if info is None:
                    info = self._info(field, field_path)
                strawberry_info = compat.make_info(self._plan.planner.info_class, info, field.field)
                if field.info_kw is not None:
                    kwargs[field.info_kw] = strawberry_info
            args = [source] if field.self_positional else []
            if read == CALL:
                return self._sync(field.func(*args, **kwargs)), info
            return self._sync(field.field.get_result(source, strawberry_info, args, kwargs)), info
        if info is None:
            info = self._info(field, field_path)
        # GENERIC: exactly what graphql-core calls.
        resolve = field.field_def.resolve or self.field_resolver
        args = copy.deepcopy(field.args) if field.args_mutable else field.args
        return self._sync(resolve(source, info, **args)), info

    def _sync(self, value: Any) -> Any:
        if self.is_awaitable(value):
            close = getattr(value, "close", None)
            if close is not None:
                close()
            raise _NotSynchronous
        return value

    def _optimize(self, value: Any, field: FieldPlan, source: Any, path: Path, info: Any) -> Any:
        """What the optimizer's per-field hook does, for the values it acts on."""
        if not self._optimizers:
            return value
        if info is None:
            info = self._info(field, path)
        for optimizer in self._optimizers:
            value = optimizer.resolve(lambda *_args, _v=value, **_kwargs: _v, source, info)
        return value

    # --- completion ----------------------------------------------------------------

    def _complete(self, plan: TypePlan, value: Any, field: FieldPlan, path: Path, info: Any) -> Any:
        """Executor.complete_value. Only a null value completes to null: leaves that
        serialize to null raise, objects and lists complete to a dict or a list."""
        if value is None or value is Undefined:
            if plan.non_null:
                raise TypeError(
                    f"Cannot return null for non-nullable field {field.parent_name}.{field.name}."
                )
            return None
        if isinstance(value, Exception):
            raise value
        kind = plan.kind
        if kind == OBJECT:
            object_plan = plan.object
            is_type_of = object_plan.is_type_of
            if is_type_of is not None:
                self._check_type(object_plan, is_type_of, value, field, info)
            return object_plan.run(self, value, path)
        if kind == LEAF:
            leaf = plan.leaf
            if (leaf == STRING and type(value) is str) or (leaf == BOOLEAN and type(value) is bool):
                return value
            coerced = plan.type.coerce_output_value(value)
            if coerced is Undefined or coerced is None:
                raise TypeError(
                    f"Expected `{inspect(plan.type)}.coerce_output_value("
                    f"{inspect(value)})` to return non-nullable value, returned:"
                    f" {inspect(coerced)}"
                )
            return coerced
        if kind == LIST:
            return self._complete_list(plan, value, field, path, info)
        if kind == ABSTRACT:
            return self._complete_abstract(plan, value, field, path, info)
        raise TypeError(f"Cannot complete value of unexpected output type: '{plan.type}'.")

    def _check_type(
        self, plan: ObjectPlan, is_type_of: Any, value: Any, field: FieldPlan, info: Any
    ) -> None:
        """Executor.complete_object_value's is_type_of check."""
        if not self._sync(is_type_of(value, info)):
            raise GraphQLError(
                f"Expected value of type '{plan.type}' but got: {inspect(value)}.",
                field.nodes,
            )

    def _complete_list(
        self, plan: TypePlan, value: Any, field: FieldPlan, path: Path, info: Any
    ) -> list[Any]:
        """Executor.complete_list_value and complete_list_item_value."""
        if self.is_async_iterable(value):
            raise _NotSynchronous
        if not is_iterable(value):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{field.parent_name}.{field.name}'."
            )
        item_plan = plan.of
        completed: list[Any] = []
        append = completed.append
        if item_plan.kind == OBJECT:
            # The common case (edges, rows) without _complete's dispatch per item.
            object_plan = item_plan.object
            is_type_of = object_plan.is_type_of
            run = object_plan.run
            for index, item in enumerate(value):
                item_path = Path(path, index, None)
                try:
                    if item is None or item is Undefined or isinstance(item, Exception):
                        append(self._complete(item_plan, item, field, item_path, info))
                        continue
                    if is_type_of is not None:
                        self._check_type(object_plan, is_type_of, item, field, info)
                    append(run(self, item, item_path))
                except Exception as raw_error:
                    append(self._item_error(raw_error, item_plan, field, item_path))
            return completed
        for index, item in enumerate(value):
            item_path = Path(path, index, None)
            try:
                append(self._complete(item_plan, item, field, item_path, info))
            except Exception as raw_error:
                append(self._item_error(raw_error, item_plan, field, item_path))
        return completed

    def _complete_abstract(
        self, plan: TypePlan, value: Any, field: FieldPlan, path: Path, info: Any
    ) -> dict[str, Any]:
        abstract_type = plan.type
        resolve_type = abstract_type.resolve_type or self.type_resolver
        type_name = self._sync(resolve_type(value, info, abstract_type))
        runtime_type = self.ensure_valid_runtime_type(
            type_name, abstract_type, field.details, info, value
        )
        object_plan = plan.by_type.get(runtime_type.name)
        if object_plan is None:
            object_plan = self._plan.planner.subfields_plan(runtime_type, field.details)
            plan.by_type[runtime_type.name] = object_plan
        if object_plan.is_type_of is not None:
            self._check_type(object_plan, object_plan.is_type_of, value, field, info)
        return object_plan.run(self, value, path)

    # --- errors --------------------------------------------------------------------

    def _field_error(self, raw_error: Exception, field: FieldPlan, path: Path | None) -> None:
        """Executor.handle_field_error for a field of an object."""
        field_path = Path(path, field.key, field.parent_name)
        error = located_error(raw_error, field.nodes, field_path.as_list())
        if field.non_null:
            raise error
        self.collected_errors.add(error, field_path)
        return None

    def _item_error(
        self, raw_error: Exception, item_plan: TypePlan, field: FieldPlan, item_path: Path
    ) -> None:
        """Executor.handle_field_error for an item of a list."""
        error = located_error(raw_error, field.nodes, item_path.as_list())
        if item_plan.non_null:
            raise error
        self.collected_errors.add(error, item_path)
        return None


def _in_event_loop() -> bool:
    # strawberry-django hands database work to a thread when a loop runs, and
    # resolvers return awaitables: graphql-core's executor handles those.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
