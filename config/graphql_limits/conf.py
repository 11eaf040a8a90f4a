"""The GraphQL API's limits: typed defaults merged with ``settings.GRAPHQL``.

Read every option through :func:`graphql_settings` (or :func:`get`). The merged
dict is cached and dropped when ``GRAPHQL`` changes, so ``override_settings``
and pytest-django's ``settings`` fixture take effect on the next request.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, TypedDict, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


class GraphQLSettings(TypedDict):
    """Every ``GRAPHQL`` option, with its type. ``None`` turns a limit off."""

    # Deepest field nesting; root fields are level 1.
    MAX_DEPTH: int | None
    # Aliased fields in one operation, fragments counted where they are spread.
    MAX_ALIASES: int | None
    # Lexical tokens (comments included) in one document; enforced by the parser.
    MAX_TOKENS: int | None
    # Estimated result size: see config.graphql_limits.measure.
    MAX_COST: int | None
    # Items in any one list argument, variables included (`srcset(widths:)`,
    # `nodes(ids:)`, `inList` filters). JSON arguments are data and not counted.
    MAX_LIST_LENGTH: int | None
    # Nesting of an argument's value, variables included (`filters: {AND: {OR: ...}}`).
    MAX_INPUT_DEPTH: int | None
    # Values in all the operation's arguments together, variables included.
    MAX_INPUT_VALUES: int | None
    # Characters in any one string argument, variables included (JSON excluded).
    MAX_STRING_LENGTH: int | None
    # Items assumed for a connection field (one with `first`/`last`) queried
    # without either. Keep both sizes equal to the connections' own
    # (catalog.graphql.connections: 20 a page, a larger `first` than 100 refused).
    DEFAULT_PAGE_SIZE: int
    # Most items one connection page returns; a larger `first` counts as this.
    MAX_PAGE_SIZE: int
    # Items assumed for a plain list field such as `Product.images`.
    DEFAULT_LIST_SIZE: int
    # Replace unexpected errors' messages with "Unexpected error." (they are logged).
    MASK_ERRORS: bool
    # Answer `__schema` and `__type`; `__typename` always works.
    INTROSPECTION: bool


Option = Literal[
    "MAX_DEPTH",
    "MAX_ALIASES",
    "MAX_TOKENS",
    "MAX_COST",
    "MAX_LIST_LENGTH",
    "MAX_INPUT_DEPTH",
    "MAX_INPUT_VALUES",
    "MAX_STRING_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "DEFAULT_LIST_SIZE",
    "MASK_ERRORS",
    "INTROSPECTION",
]

DEFAULTS: GraphQLSettings = {
    "MAX_DEPTH": 10,
    "MAX_ALIASES": 40,
    "MAX_TOKENS": 5000,
    "MAX_COST": 20_000,
    "MAX_LIST_LENGTH": 100,
    "MAX_INPUT_DEPTH": 10,
    "MAX_INPUT_VALUES": 2000,
    "MAX_STRING_LENGTH": 10_000,
    "DEFAULT_PAGE_SIZE": 20,
    "MAX_PAGE_SIZE": 100,
    "DEFAULT_LIST_SIZE": 10,
    "MASK_ERRORS": True,
    "INTROSPECTION": True,
}

_LIMITS = (
    "MAX_DEPTH",
    "MAX_ALIASES",
    "MAX_TOKENS",
    "MAX_COST",
    "MAX_LIST_LENGTH",
    "MAX_INPUT_DEPTH",
    "MAX_INPUT_VALUES",
    "MAX_STRING_LENGTH",
)
_SIZES = ("DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "DEFAULT_LIST_SIZE")
_SWITCHES = ("MASK_ERRORS", "INTROSPECTION")


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@functools.cache
def graphql_settings() -> GraphQLSettings:
    """Return the defaults overlaid with ``settings.GRAPHQL``.

    Raises ImproperlyConfigured for an unknown option or an invalid value, so a
    typo fails at the first request instead of being silently ignored.
    """
    overrides: dict[str, Any] = dict(getattr(settings, "GRAPHQL", None) or {})
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown GRAPHQL option(s): {', '.join(unknown)}. "
            f"Valid options: {', '.join(DEFAULTS)}."
        )
    merged: dict[str, Any] = {**DEFAULTS, **overrides}
    for name in _LIMITS:
        if merged[name] is not None and not _is_positive_int(merged[name]):
            raise ImproperlyConfigured(f"GRAPHQL[{name!r}] must be a positive integer or None.")
    for name in _SIZES:
        if not _is_positive_int(merged[name]):
            raise ImproperlyConfigured(f"GRAPHQL[{name!r}] must be a positive integer.")
    for name in _SWITCHES:
        if not isinstance(merged[name], bool):
            raise ImproperlyConfigured(f"GRAPHQL[{name!r}] must be True or False.")
    if merged["DEFAULT_PAGE_SIZE"] > merged["MAX_PAGE_SIZE"]:
        raise ImproperlyConfigured("GRAPHQL['DEFAULT_PAGE_SIZE'] must not exceed MAX_PAGE_SIZE.")
    return cast(GraphQLSettings, merged)


def get(name: Option) -> Any:
    """Return one option, e.g. ``get("MAX_DEPTH")``."""
    return graphql_settings()[name]


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "GRAPHQL":
        graphql_settings.cache_clear()
