"""A subset of ImageKit's Lucene-like ``searchQuery`` language, compiled to a predicate.

Supported (anything else raises SearchQueryError, answered with a 400):

- combinators ``AND``, ``OR``, ``NOT <expr>``, parentheses; ``NOT`` binds tightest, then AND;
- operators ``=``, ``:`` (begins with), ``<``, ``<=``, ``>``, ``>=``, ``IN [...]``,
  ``NOT IN [...]``, ``NOT =``, ``HAS`` (case-insensitive substring), ``EXISTS``,
  ``NOT EXISTS``;
- fields ``name``, ``type`` (file/folder), ``fileType``, ``format``, ``tags``, ``private``,
  ``published``, ``transparency``, ``width``, ``height``, ``size``, ``createdAt``,
  ``updatedAt`` and ``customMetadata.<key>`` (field names may be quoted);
- values: ``"strings"``, numbers, sizes ``100kb``/``1.5mb``/``1gb`` (1024-based), booleans,
  dates ``"2024-05-01"``/``"2024-05-01T10:00:00"`` (UTC) or relative ``"7d"``, ``"12h"``,
  ``"2w"``, ``"3m"`` (30-day months), ``"1y"`` ago.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Doc = Mapping[str, Any]
Predicate = Callable[[Doc], bool]


class SearchQueryError(ValueError):
    """The query is malformed or uses something this emulator does not support."""


_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op><=|>=|[=<>:])|(?P<punct>[()\[\],])'
    r'|(?P<word>[^\s()\[\],=<>:"]+))'
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "HAS", "EXISTS"}

_STRING_FIELDS = {"name", "type", "fileType", "format"}
_LIST_FIELDS = {"tags"}
_BOOL_FIELDS = {"private", "published", "transparency"}
_NUMBER_FIELDS = {"width", "height", "size"}
_DATE_FIELDS = {"createdAt", "updatedAt"}
_FIELDS = _STRING_FIELDS | _LIST_FIELDS | _BOOL_FIELDS | _NUMBER_FIELDS | _DATE_FIELDS
SUPPORTED_FIELDS = (*sorted(_FIELDS), "customMetadata.<key>")

_SIZE = re.compile(r"(?i)(\d+(?:\.\d+)?)(kb|mb|gb|b)?")
_UNITS = {None: 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
_RELATIVE = re.compile(r"(\d+)([hdwmy])")
_RELATIVE_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}
_ORDERING = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b}
_ORDERING[">="] = lambda a, b: a >= b
_OPERATORS = {
    "string": {"=", ":", "IN", "HAS"},
    "list": {"=", ":", "IN", "HAS"},
    "bool": {"=", "IN"},
    "number": {"=", "<", "<=", ">", ">=", "IN"},
    "date": {"=", "<", "<=", ">", ">="},
    "meta": {"=", ":", "<", "<=", ">", ">=", "IN", "HAS"},
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, op, punct, word, keyword
    text: str


def compile_query(query: str, *, now: float | None = None) -> Predicate:
    """Parse ``query`` into a predicate over documents (see ``document`` in listing.py)."""
    parser = _Parser(_tokenize(query), time.time() if now is None else now)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise SearchQueryError(f"unexpected {parser.peek().text!r} after a complete expression")
    return predicate


def _tokenize(query: str) -> list[_Token]:
    tokens, position = [], 0
    query = query.strip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise SearchQueryError(f"cannot read the query at {query[position:]!r}")
        position = match.end()
        kind = match.lastgroup or "word"
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "word" and text.upper() in _KEYWORDS:
            kind, text = "keyword", text.upper()
        tokens.append(_Token(kind, text))
    if not tokens:
        raise SearchQueryError("the query is empty")
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], now: float) -> None:
        self._tokens = tokens
        self._index = 0
        self._now_ms = now * 1000

    def peek(self, offset: int = 0) -> _Token | None:
        index = self._index + offset
        return self._tokens[index] if index < len(self._tokens) else None

    def _next(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise SearchQueryError(f"the query ends where {expected} was expected")
        self._index += 1
        return token

    def _accept(self, kind: str, text: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == kind and token.text == text:
            self._index += 1
            return True
        return False

    def expression(self) -> Predicate:
        parts = [self._conjunction()]
        while self._accept("keyword", "OR"):
            parts.append(self._conjunction())
        return parts[0] if len(parts) == 1 else lambda doc: any(p(doc) for p in parts)

    def _conjunction(self) -> Predicate:
        parts = [self._negation()]
        while self._accept("keyword", "AND"):
            parts.append(self._negation())
        return parts[0] if len(parts) == 1 else lambda doc: all(p(doc) for p in parts)

    def _negation(self) -> Predicate:
        if self._accept("keyword", "NOT"):
            inner = self._negation()
            return lambda doc: not inner(doc)
        if self._accept("punct", "("):
            inner = self.expression()
            if not self._accept("punct", ")"):
                raise SearchQueryError("a '(' is not closed")
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        token = self._next("a field name")
        if token.kind not in ("word", "string"):
            raise SearchQueryError(f"expected a field name, got {token.text!r}")
        field = token.text
        kind = _field_kind(field)
        negate = self._accept("keyword", "NOT")
        op_token = self._next(f"an operator after {field!r}")
        op = op_token.text
        if op_token.kind not in ("op", "keyword") or op in ("AND", "OR", "NOT"):
            raise SearchQueryError(f"expected an operator after {field!r}, got {op!r}")
        if negate and op not in ("IN", "=", "EXISTS"):
            raise SearchQueryError(f"NOT {op} is not supported; use NOT IN, NOT = or NOT EXISTS")
        if op != "EXISTS" and op not in _OPERATORS[kind]:
            allowed = ", ".join(sorted(_OPERATORS[kind]))
            raise SearchQueryError(f"{op} does not apply to {field}; use one of {allowed}")
        if op == "EXISTS":
            test: Predicate = lambda doc: _present(doc.get(field))  # noqa: E731
        else:
            values = self._list() if op == "IN" else [self._value(field)]
            test = _test(field, kind, op, [self._convert(field, kind, op, v) for v in values])
        if negate:
            return lambda doc: not test(doc)
        return test

    def _list(self) -> list[_Token]:
        if not self._accept("punct", "["):
            raise SearchQueryError('IN needs a list: IN ["a", "b"]')
        values = [] if self._accept("punct", "]") else [self._next("a value")]
        while values and not self._accept("punct", "]"):
            if not self._accept("punct", ","):
                raise SearchQueryError("list items are separated by ',' and closed by ']'")
            values.append(self._next("a value"))
        if not values:
            raise SearchQueryError("IN [] needs at least one value")
        return values

    def _value(self, field: str) -> _Token:
        token = self._next(f"a value for {field!r}")
        if token.kind not in ("string", "word"):
            raise SearchQueryError(f"expected a value for {field!r}, got {token.text!r}")
        return token

    def _convert(self, field: str, kind: str, op: str, token: _Token) -> Any:
        text = token.text
        if kind == "number" or (kind == "meta" and token.kind == "word" and _SIZE.fullmatch(text)):
            match = _SIZE.fullmatch(text)
            if match is None:
                raise SearchQueryError(f"{field} needs a number such as 100 or 50kb, got {text!r}")
            return float(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None]
        if kind == "bool" or (
            kind == "meta" and token.kind == "word" and text in ("true", "false")
        ):
            if text not in ("true", "false"):
                raise SearchQueryError(f"{field} needs true or false, got {text!r}")
            return text == "true"
        if kind == "date":
            return self._date(field, op, text)
        return text

    def _date(self, field: str, op: str, text: str) -> tuple[float, float]:
        """The instant ``text`` names, as [start, end) in epoch ms."""
        relative = _RELATIVE.fullmatch(text)
        if relative:
            if op not in _ORDERING:
                raise SearchQueryError(f"a relative date like {text!r} needs <, <=, > or >=")
            moment = (
                self._now_ms - int(relative.group(1)) * _RELATIVE_SECONDS[relative.group(2)] * 1000
            )
            return moment, moment
        for pattern, span in (("%Y-%m-%d", 86_400_000), ("%Y-%m-%dT%H:%M:%S", 1000)):
            try:
                parsed = datetime.strptime(text.replace(" ", "T"), pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
            start = parsed.timestamp() * 1000
            return start, start + span
        raise SearchQueryError(
            f'{field} needs a date like "2024-05-01", "2024-05-01T10:00:00" or "7d", got {text!r}'
        )


def _field_kind(field: str) -> str:
    if field.startswith("customMetadata.") and len(field) > len("customMetadata."):
        return "meta"
    for kind, names in (
        ("string", _STRING_FIELDS),
        ("list", _LIST_FIELDS),
        ("bool", _BOOL_FIELDS),
        ("number", _NUMBER_FIELDS),
        ("date", _DATE_FIELDS),
    ):
        if field in names:
            return kind
    raise SearchQueryError(
        f"the field {field!r} is not supported; use one of {', '.join(SUPPORTED_FIELDS)}"
    )


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _test(field: str, kind: str, op: str, values: list[Any]) -> Predicate:
    def test(doc: Doc) -> bool:
        actual = doc.get(field)
        if actual is None:
            return False
        items = actual if isinstance(actual, list) else [actual]
        return any(_match(kind, op, item, value) for item in items for value in values)

    return test


def _match(kind: str, op: str, actual: Any, value: Any) -> bool:
    if kind == "date":
        start, end = value
        if op in ("=", "IN"):
            return start <= actual < end
        return _ORDERING[op](actual, start)
    if isinstance(value, bool) or isinstance(actual, bool):
        return op in ("=", "IN") and actual is value
    if isinstance(value, float):
        if isinstance(actual, str) or not isinstance(actual, int | float):
            return False
        return (
            actual == value
            if op in ("=", "IN")
            else op in _ORDERING and _ORDERING[op](actual, value)
        )
    actual_text = str(actual)
    if op in ("=", "IN"):
        return actual_text == value
    if op == ":":
        return actual_text.startswith(value)
    if op == "HAS":
        return value.lower() in actual_text.lower()
    return _ORDERING[op](actual_text, value)
