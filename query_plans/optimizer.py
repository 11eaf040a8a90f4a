"""strawberry-django's optimizer, with its hints remembered per query plan.

For every queryset a query returns, ``DjangoOptimizerExtension`` walks the
selection below it to work out ``only``/``select_related``/``prefetch_related``,
on every request: on the small product listing that walk was a tenth of the
request. Within one plan (document, operation, variable values) the selection
is always the same, so :class:`PlannedOptimizer` keeps what the walk found on the
plan and applies it to each request's fresh queryset. The SQL is the same.

What the walk finds also depends on the optimizer hints' callables (a
``Prefetch`` built from the Info), which may look at the viewer: a subclass
says what they depend on beyond the selection with :meth:`hint_audience`
(``catalog.graphql.optimizer``: whether the viewer may see private images). Under
graphql-core's executor (no plan), or for a queryset the hints cannot be kept
for, the optimizer runs as it always does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from typing import Any

from django.db.models import QuerySet
from django.db.models.manager import BaseManager

from query_plans import compat

# hint_audience's answer when the hints may not be kept.
_NOT_KEPT = object()

# The hints of the plan being executed, by (path, model, audience); None outside plans.
_plan_hints: ContextVar[dict[Hashable, Any] | None] = ContextVar("plan_hints", default=None)


@contextlib.contextmanager
def remembering_hints(hints: dict[Hashable, Any]) -> Iterator[None]:
    """Let PlannedOptimizer keep its hints in ``hints`` (a plan's) while a plan runs."""
    token = _plan_hints.set(hints)
    try:
        yield
    finally:
        _plan_hints.reset(token)


class PlannedOptimizer(compat.DjangoOptimizerExtension):
    """``DjangoOptimizerExtension`` that works out its hints once per plan and audience."""

    def hint_audience(self, info: Any) -> Hashable:
        """What the hints' callables depend on besides the selection (e.g. the viewer's
        visibility); hints are kept per value. Override it: by default nothing may be
        assumed, and the hints are never kept."""
        return _NOT_KEPT

    def optimize(
        self,
        qs: QuerySet | BaseManager,
        info: Any,
        *,
        store: Any = None,
    ) -> QuerySet:
        hints = _plan_hints.get()
        if hints is None or store is not None or not self.enabled.get():
            return super().optimize(qs, info, store=store)
        raw_info = compat.raw_info(info)
        audience = self.hint_audience(info)
        if audience is _NOT_KEPT:
            return super().optimize(qs, info, store=store)
        if isinstance(qs, BaseManager):
            qs = qs.all()
        if not isinstance(qs, QuerySet) or not compat.may_optimize(qs):
            return super().optimize(qs, info, store=store)
        config = compat.optimizer_config(self, raw_info)
        key = (_path_key(raw_info.path), qs.model, audience)
        found = hints.get(key)
        if found is None:
            # Two threads on a new plan may both walk; they find the same hints.
            found = compat.optimizer_hints(qs, raw_info, config)
            if found is None:  # an inheritance queryset: not kept
                return super().optimize(qs, info, store=store)
            hints[key] = found
        return compat.apply_optimizer_hints(found, qs, raw_info, config)


def _path_key(path: Any) -> tuple[str, ...]:
    """The response path without list indices: the same selection for every item."""
    keys: list[str] = []
    while path is not None:
        if isinstance(path.key, str):
            keys.append(path.key)
        path = path.prev
    return tuple(reversed(keys))
