"""The GraphQL API's limits: typed defaults merged with ``settings.GRAPHQL``.

Read every option through :func:`graphql_settings` (or :func:`get`);
:mod:`appsettings` caches them and drops them when ``GRAPHQL`` changes.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from appsettings import BOOLEAN, POSITIVE_INT, AppSettings, optional


class GraphQLSettings(TypedDict):
    """Every ``GRAPHQL`` option, with its type. ``None`` turns a limit off."""

    # Deepest field nesting; root fields are level 1.
    MAX_DEPTH: int | None
    # Aliased fields in one operation, fragments counted where they are spread.
    MAX_ALIASES: int | None
    # Lexical tokens (comments included) in one document; enforced by the parser.
    MAX_TOKENS: int | None
    # Estimated result size: see graphql_limits.measure.
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


def _finish(merged: dict[str, Any]) -> None:
    if merged["DEFAULT_PAGE_SIZE"] > merged["MAX_PAGE_SIZE"]:
        raise graphql_settings.error("DEFAULT_PAGE_SIZE", "must not exceed MAX_PAGE_SIZE")


graphql_settings: AppSettings[GraphQLSettings] = AppSettings(
    "GRAPHQL",
    DEFAULTS,
    rules={
        **dict.fromkeys(_LIMITS, optional(POSITIVE_INT)),
        **dict.fromkeys(("DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "DEFAULT_LIST_SIZE"), POSITIVE_INT),
        **dict.fromkeys(("MASK_ERRORS", "INTROSPECTION"), BOOLEAN),
    },
    finish=_finish,
)
"""Every option: the defaults overlaid with ``settings.GRAPHQL``, checked."""


def get(name: Option) -> Any:
    """Return one option, e.g. ``get("MAX_DEPTH")``."""
    return graphql_settings.get(name)
