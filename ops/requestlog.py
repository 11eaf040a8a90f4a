"""One log line per request, with the request id that every line written meanwhile carries.

``RequestLogMiddleware`` takes the id from ``X-Request-ID`` (a proxy's or a
client's, if it looks like an id) or makes one, returns it in the response's
``X-Request-ID`` and keeps it in ``ops.logs.request_id`` while the request runs;
``ops.logs.RequestIdFilter`` copies it onto every record the console handler
emits, so the lines of ``config.graphql`` and any other logger carry it too.

The line (logger ``ops.request``, INFO; WARNING for 5xx) gives the method, the
path without its query string (signed URLs carry signatures), status, duration,
SQL queries, user id and GraphQL operation name; with ``LOG_FORMAT=json`` each
is its own field. It never carries a header, cookie, body or variable.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, empty
from graphql.error import GraphQLSyntaxError
from graphql.language import Lexer, Source, TokenKind

from ops.logs import NO_VALUE, request_id

logger = logging.getLogger("ops.request")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id looks like (UUIDs, hex, Heroku's and nginx's $request_id);
# anything else is replaced, so a client cannot write arbitrary text into the logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
# A JSON body larger than this is not parsed a second time for its operation name.
MAX_PARSED_BODY = 256 * 1024
OPERATION_KEYWORDS = frozenset({"query", "mutation", "subscription"})
OPENING = frozenset({TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L})
CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R})


class RequestLogMiddleware:
    """Assigns the request id, counts SQL queries, and logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self._graphql_path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        rid = incoming_request_id(request) or uuid.uuid4().hex
        token = request_id.set(rid)
        request.request_id = rid
        counter = QueryCounter()
        started = time.perf_counter()
        status = 500
        try:
            with contextlib.ExitStack() as stack:
                for connection in connections.all():
                    stack.enter_context(connection.execute_wrapper(counter))
                response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = rid
            return response
        finally:
            try:
                self.log(request, status, time.perf_counter() - started, counter.count)
            finally:
                request_id.reset(token)

    def log(self, request: HttpRequest, status: int, seconds: float, queries: int) -> None:
        operation = self.operation_name(request)
        user = user_id(request)
        method = printable(request.method or NO_VALUE, 20)
        path = printable(request.path)
        logger.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "%s %s %s %.1fms sql=%d user=%s op=%s",
            method,
            path,
            status,
            seconds * 1e3,
            queries,
            user,
            operation,
            extra={
                "http_method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1e3, 1),
                "sql_queries": queries,
                "user_id": user,
                "graphql_operation": operation,
            },
        )

    def operation_name(self, request: HttpRequest) -> str:
        if self._graphql_path is None:
            self._graphql_path = reverse("graphql")
        if request.path != self._graphql_path:
            return NO_VALUE
        return graphql_operation_name(request) or NO_VALUE


class QueryCounter:
    """A database execute wrapper that counts the statements run through it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context):
        self.count += 1
        return execute(sql, params, many, context)


def incoming_request_id(request: HttpRequest) -> str | None:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if VALID_REQUEST_ID.fullmatch(value) else None


def user_id(request: HttpRequest) -> str:
    """The user's pk if the request already knew who it was; never a query of its own.

    AuthenticationMiddleware's ``request.user`` is lazy: reading it here would
    load the session and the user for requests that never needed them.
    """
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            return NO_VALUE
        user = user._wrapped
    if not getattr(user, "is_authenticated", False):
        return NO_VALUE
    return str(user.pk)


def graphql_operation_name(request: HttpRequest) -> str | None:
    """The operation a GraphQL request ran: its ``operationName``, else the document's first.

    Read after the view has run: GET parameters, a JSON body (Django keeps what
    the view read), or a multipart request's ``operations`` field if the view
    parsed the form. Names are GraphQL names or nothing.
    """
    payload: Any = None
    if request.method == "GET":
        payload = request.GET
    elif request.content_type == "application/json":
        payload = _json_payload(request)
    elif request.content_type == "multipart/form-data":
        # Django keeps a parsed form as _post; request.POST would read an upload the
        # view refused unread.
        form = getattr(request, "_post", None)
        if form is not None:
            payload = _json_loads(form.get("operations"))
    if not hasattr(payload, "get"):
        return None
    name = payload.get("operationName")
    if not isinstance(name, str) or not name:
        query = payload.get("query")
        name = first_operation_name(query) if isinstance(query, str) else None
    return name if name and GRAPHQL_NAME.fullmatch(name) else None


def _json_payload(request: HttpRequest) -> Any:
    try:
        body = request.body
    except (RawPostDataException, RequestDataTooBig):
        return None
    return _json_loads(body) if len(body) <= MAX_PARSED_BODY else None


def _json_loads(data: str | bytes | None) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def first_operation_name(document: str) -> str | None:
    """The name of the document's first operation, lexing only as far as it.

    ``{ ... }`` and unnamed operations have none; fragments before it are skipped.
    At depth 0 (outside every bracket) a ``{`` opens a definition's selection set.
    """
    lexer = Lexer(Source(document))
    depth = 0
    in_fragment = False
    try:
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            if token.kind in OPENING:
                if depth == 0 and token.kind == TokenKind.BRACE_L:
                    if not in_fragment:
                        return None  # the anonymous query shorthand
                    in_fragment = False
                depth += 1
            elif token.kind in CLOSING:
                depth -= 1
            elif depth == 0 and token.kind == TokenKind.NAME and not in_fragment:
                if token.value in OPERATION_KEYWORDS:
                    following = lexer.advance()
                    return following.value if following.kind == TokenKind.NAME else None
                in_fragment = token.value == "fragment"
            token = lexer.advance()
    except GraphQLSyntaxError:
        return None
    return None


def printable(text: str, limit: int = 500) -> str:
    """``text`` on one line: control characters escaped, at most ``limit`` characters."""
    if text.isprintable() and len(text) <= limit:
        return text
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return escaped[:limit]
