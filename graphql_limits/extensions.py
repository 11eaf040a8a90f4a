"""Schema extensions that apply ``settings.GRAPHQL`` to every request.

The schema is built at import, so nothing here reads a limit then: strawberry
makes the extensions per request, and they read the settings when they run.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Node,
    OperationDefinitionNode,
    get_named_type,
    is_introspection_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.schema import validate_document

from graphql_limits import documents
from graphql_limits.conf import GraphQLSettings, get, graphql_settings
from graphql_limits.measure import Measure, Sizes, measure_operation


class ErrorCode(enum.StrEnum):
    """``extensions.code`` of the errors the GraphQL endpoint itself returns.

    Errors of the request as a whole (HTTP status 4xx, from config.views), then of
    the document (these extensions); field errors carry their own codes.
    """

    BAD_REQUEST = "BAD_REQUEST"
    INVALID_JSON = "INVALID_JSON"
    INVALID_MULTIPART = "INVALID_MULTIPART"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    # A mutation sent as GET (405, Allow: POST).
    POST_REQUIRED = "POST_REQUIRED"
    # Persisted queries (config.graphql_cache.persisted). NOT_FOUND is Apollo's
    # code, on which its client re-sends the hash with the document.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_TOO_LARGE = "PERSISTED_QUERY_TOO_LARGE"
    # Allow-list mode: an unregistered hash, or a document that is not registered.
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    QUERY_NOT_IN_LIST = "QUERY_NOT_IN_LIST"

    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    LIST_TOO_LONG = "LIST_TOO_LONG"
    INPUT_TOO_DEEP = "INPUT_TOO_DEEP"
    INPUT_TOO_LARGE = "INPUT_TOO_LARGE"
    STRING_TOO_LONG = "STRING_TOO_LONG"
    OPERATION_NAME_REQUIRED = "OPERATION_NAME_REQUIRED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    # Codes for graphql-core's own errors, which come without one (Apollo's names).
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    # The database cancelled a statement that ran past its timeout.
    QUERY_TIMEOUT = "QUERY_TIMEOUT"
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
        "Query costs {value} (each field weighs the product of the list sizes above it, "
        "and of its own list arguments; ask for smaller pages with `first`)",
    ),
    (
        "MAX_LIST_LENGTH",
        "longest_list",
        ErrorCode.LIST_TOO_LONG,
        "Argument {where} has {value} items",
    ),
    (
        "MAX_INPUT_DEPTH",
        "input_depth",
        ErrorCode.INPUT_TOO_DEEP,
        "An argument's value is nested {value} levels deep",
    ),
    (
        "MAX_INPUT_VALUES",
        "input_values",
        ErrorCode.INPUT_TOO_LARGE,
        "The arguments hold {value} values in all",
    ),
    (
        "MAX_STRING_LENGTH",
        "longest_string",
        ErrorCode.STRING_TOO_LONG,
        "Argument {where_string} is {value} characters long",
    ),
)


def limit_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    conf: GraphQLSettings,
    variables: Mapping[str, Any] | None,
) -> list[GraphQLError]:
    """Each operation of ``document`` measured against ``conf``'s limits.

    Per request, because the cost depends on the variables (`first: $n`).
    """
    sizes = Sizes(conf["DEFAULT_PAGE_SIZE"], conf["MAX_PAGE_SIZE"], conf["DEFAULT_LIST_SIZE"])
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return [
        error
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        for error in exceeded(
            measure_operation(schema, definition, fragments, variables, sizes), conf, definition
        )
    ]


def _limits_key(conf: GraphQLSettings) -> tuple[Any, ...]:
    """What the measure's verdict depends on, besides the document and variables."""
    return (
        conf["DEFAULT_PAGE_SIZE"],
        conf["MAX_PAGE_SIZE"],
        conf["DEFAULT_LIST_SIZE"],
        *(conf[option] for option, *_ in _CHECKS),  # type: ignore[literal-required]
    )


def exceeded(
    measured: Measure, conf: GraphQLSettings, node: OperationDefinitionNode
) -> Iterator[GraphQLError]:
    for option, attribute, code, what in _CHECKS:
        limit = conf[option]  # type: ignore[literal-required]
        value = getattr(measured, attribute)
        if limit is not None and value > limit:
            described = what.format(
                value=value,
                where=measured.longest_list_at,
                where_string=measured.longest_string_at,
            )
            message = f"{described}; the limit is {limit} (GRAPHQL['{option}'])."
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
    its measure. Short documents are parsed once and their validation and measure
    kept (:mod:`graphql_limits.documents`).
    """

    # Whether this request's document is the cached object (documents.parse_document).
    cached = False

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

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # A syntax error is left to strawberry, which parses again and reports it.
            with contextlib.suppress(GraphQLSyntaxError):
                context.graphql_document, self.cached = documents.parse_document(
                    context.query, context.parse_options.get("max_tokens")
                )
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        variables = context.variables if isinstance(context.variables, Mapping) else None
        errors = _operation_name_errors(context)
        cached = self.cached
        if not errors:

            def measure() -> list[GraphQLError]:
                return limit_errors(schema, document, self.conf, variables)

            errors = (
                documents.measured_errors(
                    schema,
                    document,
                    context.operation_name,
                    variables,
                    _limits_key(self.conf),
                    measure,
                )
                if cached
                else measure()
            )
        if not errors:
            rules = tuple(context.validation_rules)
            validate = documents.validate_cached if cached else validate_document
            errors = validate(schema, document, rules)
        # Set (a copy: cached lists are shared), so strawberry does not validate again.
        context.pre_execution_errors = list(errors)
        yield


def _operation_name_errors(context: Any) -> list[GraphQLError]:
    """The GraphQL spec's rule that strawberry skips: several operations need a name.

    strawberry runs the first operation when operationName is missing; the view
    records what the client sent as ``requested_operation`` on the context.
    """
    operations = [
        definition.name.value if definition.name else "(anonymous)"
        for definition in context.graphql_document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    requested = getattr(context.context, "requested_operation", _NOT_RECORDED)
    if len(operations) < 2 or requested is not None:
        return []
    return [
        limit_error(
            ErrorCode.OPERATION_NAME_REQUIRED,
            f"The document has {len(operations)} operations ({', '.join(operations)}); "
            "say which one to run with operationName.",
        )
    ]


_NOT_RECORDED = object()


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

logger = logging.getLogger("config.graphql")

# graphql-core's hints name fields, arguments, types and enum values of the schema.
_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


def strip_suggestions(error: GraphQLError) -> None:
    """Drop a "Did you mean ...?" hint from ``error``'s message, in place."""
    error.message = _SUGGESTION.sub("", error.message)


def is_unexpected(error: GraphQLError) -> bool:
    """An exception raised while resolving (so the error has a path) that no code
    meant for the client. Errors about the request itself (syntax, validation, a
    scalar refusing a value) are the client's, whatever raised them."""
    return (
        error.path is not None
        and error.original_error is not None
        and not isinstance(error.original_error, EXPECTED_ERRORS)
    )


def _ensure_code(error: GraphQLError) -> None:
    """Give graphql-core's own errors (syntax, validation, coercion) a code, in place.

    Unexpected exceptions get theirs when they are masked.
    """
    extensions = error.extensions or {}
    if "code" in extensions or is_unexpected(error):
        return
    if isinstance(error, GraphQLSyntaxError):
        code = ErrorCode.GRAPHQL_PARSE_FAILED
    elif error.path is None and not error.message.startswith("Variable '$"):
        code = ErrorCode.GRAPHQL_VALIDATION_FAILED
    else:
        # A variable or argument value that cannot be coerced to its type.
        code = ErrorCode.BAD_USER_INPUT
    error.extensions = {**extensions, "code": code.value}


def is_timeout(error: BaseException | None) -> bool:
    """A statement the database cancelled (PostgreSQL's statement_timeout)."""
    while error is not None:
        if getattr(error, "sqlstate", None) == "57014":  # query_canceled
            return True
        error = error.__cause__
    return False


def log_error(error: GraphQLError, execution_context: Any = None) -> None:
    """Log one error with its operation's name, never the document or variables.

    Refused and invalid requests are the client's business: WARNING, with the
    code. An unexpected exception is ours: ERROR, with its traceback.
    """
    _ensure_code(error)
    operation = getattr(execution_context, "operation_name", None) or "anonymous"
    path = ".".join(str(key) for key in error.path or ()) or "-"
    if is_unexpected(error):
        logger.error(
            "GraphQL operation %s failed at %s: %s",
            operation,
            path,
            error.message,
            exc_info=error.original_error,
        )
        return
    code = (error.extensions or {}).get("code", "GRAPHQL_ERROR")
    logger.warning(
        "GraphQL operation %s refused (%s) at %s: %s", operation, code, path, error.message
    )


def should_mask_error(error: GraphQLError) -> bool:
    """Whether to hide the error's message: an unexpected exception raised while resolving.

    Errors without a path are about the request (syntax, validation, variables,
    the limits above) and stay readable, as do ``EXPECTED_ERRORS``, which
    include strawberry's and strawberry_django's permission errors.
    """
    return bool(get("MASK_ERRORS") and is_unexpected(error))


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors' messages with "Unexpected error." when GRAPHQL['MASK_ERRORS'].

    The schema has already logged each error with its traceback (logger
    ``config.graphql``) when this runs, so nothing is lost.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if is_timeout(error.original_error):
            masked.message = (
                "The database gave up on this request (DATABASE_STATEMENT_TIMEOUT); ask for "
                "fewer items or narrower filters."
            )
            masked.extensions = {"code": ErrorCode.QUERY_TIMEOUT.value}
            return masked
        masked.extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
        return masked
