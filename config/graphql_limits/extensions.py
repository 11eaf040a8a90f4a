"""Schema extensions that apply ``settings.GRAPHQL`` to every request.

The schema is built at import, so nothing here reads a limit then: strawberry
makes the extensions per request, and they read the settings when they run.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from graphql import (
    SKIP,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    Node,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    is_introspection_type,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.schema import validate_document

from config.graphql_limits.conf import GraphQLSettings, get, graphql_settings
from config.graphql_limits.measure import Measure, Sizes, measure_operation


class ErrorCode(enum.StrEnum):
    """``extensions.code`` of the errors these extensions return."""

    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def limit_error(
    code: ErrorCode, message: str, *, nodes: Node | list[Node] | None = None, **extensions: Any
) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code.value, **extensions})


# (option, Measure attribute, code, message): the checks made on each operation.
_CHECKS = (
    ("MAX_DEPTH", "depth", ErrorCode.QUERY_TOO_DEEP, "Query is {value} levels deep"),
    ("MAX_ALIASES", "aliases", ErrorCode.TOO_MANY_ALIASES, "Query has {value} aliases"),
    (
        "MAX_COST",
        "cost",
        ErrorCode.QUERY_TOO_COSTLY,
        "Query costs {value} (each field weighs the product of the list sizes above it; "
        "ask for smaller pages with `first`)",
    ),
)


def limits_rule(conf: GraphQLSettings, variables: Mapping[str, Any] | None) -> type[ValidationRule]:
    """A validation rule measuring each operation against ``conf``'s depth, alias and cost limits.

    Built per request, because the cost depends on the variables (`first: $n`).
    """
    sizes = Sizes(conf["DEFAULT_PAGE_SIZE"], conf["MAX_PAGE_SIZE"], conf["DEFAULT_LIST_SIZE"])

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            measured = measure_operation(
                self.context.schema, node, self.fragments, variables, sizes
            )
            for error in exceeded(measured, conf, node):
                self.report_error(error)
            return SKIP  # the measure has walked the whole operation

    return QueryLimitsRule


def exceeded(
    measured: Measure, conf: GraphQLSettings, node: OperationDefinitionNode
) -> Iterator[GraphQLError]:
    for option, attribute, code, what in _CHECKS:
        limit = conf[option]  # type: ignore[literal-required]
        value = getattr(measured, attribute)
        if limit is not None and value > limit:
            message = f"{what.format(value=value)}; the limit is {limit} (GRAPHQL['{option}'])."
            yield limit_error(code, message, nodes=node, limit=limit, value=value)


class IntrospectionDisabledRule(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule with a coded error, once per introspection field (not its subfields).

    `__typename` returns a String, not an introspection type, so it stays allowed.
    """

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        type_ = get_named_type(self.context.get_type())
        if type_ is not None and is_introspection_type(type_):
            self.report_error(
                limit_error(
                    ErrorCode.INTROSPECTION_DISABLED,
                    f"Introspection is disabled (GRAPHQL['INTROSPECTION']); "
                    f"'{node.name.value}' cannot be queried.",
                    nodes=node,
                )
            )
            return SKIP
        return None


class QueryLimits(SchemaExtension):
    """Depth, alias, token and cost limits and the introspection switch, from ``GRAPHQL``.

    Pass the class to ``strawberry.Schema(extensions=...)``: it is made per request.
    The limits are checked before validation, so an abusive query costs no more than
    its measure; validation itself is cached by document, as the limits (which depend
    on the variables) are not part of it.
    """

    def on_operation(self) -> Iterator[None]:
        conf = graphql_settings()
        context = self.execution_context
        max_tokens = conf["MAX_TOKENS"]
        if max_tokens is not None:
            # What strawberry's MaxTokensLimiter does: graphql-core's parser counts
            # tokens (comments too) and stops as soon as the limit is passed.
            context.parse_options["max_tokens"] = max_tokens
        if not conf["INTROSPECTION"]:
            context.validation_rules = (*context.validation_rules, IntrospectionDisabledRule)
        self.conf = conf
        yield

        result = context.result
        if max_tokens is not None and result is not None and getattr(result, "errors", None):
            result.errors = [_explain_token_limit(error, max_tokens) for error in result.errors]

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        variables = context.variables if isinstance(context.variables, Mapping) else None
        errors = validate(schema, document, [limits_rule(self.conf, variables)])
        if not errors:
            errors = _validate_cached(schema, document, tuple(context.validation_rules))
        # Set, so strawberry does not validate again.
        context.pre_execution_errors = list(errors)
        yield


# Documents repeat (a storefront sends the same few queries), and validating the
# listing query costs about as much as resolving a small page.
_validate_cached = functools.lru_cache(maxsize=256)(validate_document)


def _explain_token_limit(error: GraphQLError, limit: int) -> GraphQLError:
    # graphql-core's error has no code and doesn't say where the limit is set;
    # its message is the only sign that the limit, not the syntax, stopped it.
    if not (isinstance(error, GraphQLSyntaxError) and f"more than {limit} tokens" in error.message):
        return error
    return GraphQLError(
        f"Query has more than {limit} tokens; the limit is {limit} (GRAPHQL['MAX_TOKENS']).",
        source=error.source,
        positions=error.positions,
        extensions={"code": ErrorCode.TOO_MANY_TOKENS.value, "limit": limit},
    )


# Raised on purpose, with a message meant for the client.
EXPECTED_ERRORS = (GraphQLError, PermissionDenied, ValidationError)


def should_mask_error(error: GraphQLError) -> bool:
    """Whether to hide the error's message: an unexpected exception raised while resolving.

    Errors without a path are about the request (syntax, validation, variables,
    the limits above) and stay readable, as do ``EXPECTED_ERRORS``, which
    include strawberry's and strawberry_django's permission errors.
    """
    return bool(
        get("MASK_ERRORS")
        and error.path is not None
        and error.original_error is not None
        and not isinstance(error.original_error, EXPECTED_ERRORS)
    )


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors' messages with "Unexpected error." when GRAPHQL['MASK_ERRORS'].

    Strawberry has already logged each error with its traceback (logger
    ``strawberry.execution``) when this runs, so nothing is lost.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
        return masked
