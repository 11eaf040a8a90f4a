"""ImageKit's URL transformation grammar: parse and format, nothing else.

``w-300,h-200:rt-90`` is a chain of steps separated by ``:``; each step is
``key-value`` parameters separated by ``,``. Parsing yields typed, validated,
immutable values; formatting gives the canonical string back, so
``format(parse(s)) == s`` for canonical ``s``. This module imports neither
Django nor Pillow: the URL builder, the local CDN view and the renderer all
share it.

Only w, h and f are registered yet; the registry is where keys are added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from media_store.exceptions import InvalidTransformationError

Value = int | float | str | bool


def _dimension(key: str, raw: str) -> int | float:
    """A pixel size (integer >= 1) or a fraction of the original (0 < v < 1)."""
    try:
        number = float(raw)
    except ValueError:
        raise InvalidTransformationError(
            f"'{key}' must be a positive integer or a fraction between 0 and 1, got {raw!r}",
            key=key,
        ) from None
    if 0 < number < 1:
        return number
    if number >= 1 and number.is_integer():
        return int(number)
    raise InvalidTransformationError(
        f"'{key}' must be a positive integer or a fraction between 0 and 1, got {raw!r}",
        key=key,
    )


FORMATS = ("auto", "jpg", "png", "webp", "avif")


def _format(key: str, raw: str) -> str:
    value = "jpg" if raw == "jpeg" else raw
    if value not in FORMATS:
        raise InvalidTransformationError(
            f"'{key}' must be one of {', '.join(FORMATS)}, got {raw!r}", key=key
        )
    return value


@dataclass(frozen=True, slots=True)
class Param:
    """How one key's value is read from and written to a URL."""

    key: str
    parse: Callable[[str, str], Value]


# Keys in URL form (``w``), mapped to their parameter definition.
REGISTRY: dict[str, Param] = {p.key: p for p in (
    Param("w", _dimension),
    Param("h", _dimension),
    Param("f", _format),
)}


def format_value(value: Value) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a chain: parameters in the order they were given."""

    params: tuple[tuple[str, Value], ...]

    def get(self, key: str, default: Any = None) -> Any:
        for name, value in self.params:
            if name == key:
                return value
        return default

    def __str__(self) -> str:
        return ",".join(f"{key}-{format_value(value)}" for key, value in self.params)


@dataclass(frozen=True, slots=True)
class Transformation:
    """An immutable chain of steps, applied in order."""

    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return ":".join(str(step) for step in self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    @classmethod
    def from_steps(cls, steps: Iterable[Mapping[str, str | Value]]) -> Transformation:
        """Build from mappings of URL key to value, validating each value."""
        return cls(tuple(_step(step.items()) for step in steps if step))


def _step(items: Iterable[tuple[str, str | Value]]) -> Step:
    params = []
    seen = set()
    for key, raw in items:
        param = REGISTRY.get(key)
        if param is None:
            raise InvalidTransformationError(f"unknown transformation key '{key}'", key=key)
        if key in seen:
            raise InvalidTransformationError(f"'{key}' is given twice in one step", key=key)
        seen.add(key)
        params.append((key, param.parse(key, format_value(raw) if not isinstance(raw, str) else raw)))
    return Step(tuple(params))


def parse(spec: str) -> Transformation:
    """Parse ``w-300,h-200:f-webp``; raises InvalidTransformationError."""
    if not spec:
        return Transformation(())
    steps = []
    for chunk in spec.split(":"):
        items = []
        for part in chunk.split(","):
            key, sep, raw = part.partition("-")
            if not sep or not key:
                raise InvalidTransformationError(
                    f"transformation parameter {part!r} is not of the form key-value",
                    key=key or None,
                )
            items.append((key, raw))
        steps.append(_step(items))
    return Transformation(tuple(steps))
