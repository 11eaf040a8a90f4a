"""The plan cache: a bounded LRU keyed by document, operation and variable values."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, NamedTuple

MAX_PLANS = 256


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    unsupported: int
    size: int
    max_size: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class PlanCache:
    """Plans by key, least recently used dropped first; ``False`` marks an operation
    the planner does not cover, so it is not planned again on every request."""

    def __init__(self, max_size: int = MAX_PLANS) -> None:
        self.max_size = max_size
        self._plans: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                self.misses += 1
                return None
            self._plans.move_to_end(key)
            self.hits += 1
            return plan

    def put(self, key: Any, plan: Any) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self.max_size:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
            self.hits = self.misses = 0

    def info(self) -> CacheInfo:
        with self._lock:
            unsupported = sum(plan is False for plan in self._plans.values())
            return CacheInfo(self.hits, self.misses, unsupported, len(self._plans), self.max_size)


PLANS = PlanCache()


def plan_key(executor: Any) -> tuple | None:
    """(schema, document text, operation name, variable values), or None if any part
    cannot be a key (a document without its source, a file among the variables)."""
    operation = executor.operation
    location = operation.loc
    if location is None:
        return None
    variables = _frozen(executor.variable_values.coerced)
    if variables is _UNHASHABLE:
        return None
    name = operation.name.value if operation.name else None
    return (executor.schema, location.source.body, name, variables)


_UNHASHABLE = object()
_LEAVES = (str, int, float, bool, type(None))


def _frozen(value: Any) -> Any:
    # Tagged with the type: 1, 1.0 and True are equal keys in Python.
    if isinstance(value, dict):
        items = []
        for name in sorted(value):
            frozen = _frozen(value[name])
            if frozen is _UNHASHABLE:
                return _UNHASHABLE
            items.append((name, frozen))
        return ("dict", tuple(items))
    if isinstance(value, list | tuple):
        items = [_frozen(item) for item in value]
        if any(item is _UNHASHABLE for item in items):
            return _UNHASHABLE
        return ("list", tuple(items))
    if type(value) in _LEAVES:
        return (type(value), value)
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    # Enum members and other hashable values coerced from the variables.
    # Objects hashed by identity (files, arbitrary instances) would make a new key
    # per request and keep the object alive in the cache.
    if type(value).__hash__ is object.__hash__:
        return _UNHASHABLE
    return (type(value), value)
