"""The upload ``checks`` parameter: the subset of ImageKit's grammar this server evaluates.

ImageKit runs ``checks`` on the uploaded file before storing it and answers 400
``Your request failed 'checks' validation.`` when they fail [SPEC]. The grammar
(ImageKit docs, upload-file#upload-api-checks [DOCS]) puts the field in quotes::

    "file.size" <= 26214400 AND "file.mime" IN ["image/jpeg", "image/png"]
    'file.size' < '1mb'
    "file.mime" : "image"

Evaluated here: ``file.size`` with ``=``, ``<``, ``<=``, ``>``, ``>=`` and a
number of bytes or a size (``10kb``, ``"25mb"``, ``1gb``); ``file.mime`` with
``=``, ``NOT =``, ``:`` (prefix), ``IN [...]`` and ``NOT IN [...]``; terms joined
by ``AND``. Anything else ImageKit documents (``OR``, parentheses, ``request.*``,
``mediaMetadata.*``, custom metadata) raises UnsupportedCheckError, so a check is
never silently passed. UNVERIFIED: whether ``kb``/``mb``/``gb`` are powers of 1024
(assumed) or of 1000; ImageKit's MIME detection (``probe.py`` stands in for it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"[^"]*"|'[^']*')
      | (?P<size>\d+(?:\.\d+)?\s*(?:[kKmMgG]?[bB])?(?![\w.]))
      | (?P<op><=|>=|=|<|>|:)
      | (?P<punct>[\[\],()])
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?b)?", re.IGNORECASE)


class CheckSyntaxError(ValueError):
    """The checks string cannot be read."""


class UnsupportedCheckError(ValueError):
    """Valid ImageKit syntax, perhaps, but nothing this server evaluates."""


@dataclass(frozen=True, slots=True)
class UploadedFacts:
    """What a check can look at."""

    size: int
    mime: str


Check = Callable[[UploadedFacts], bool]


def parse_checks(text: str) -> list[Check]:
    """The terms of ``text`` (all must pass). Raises CheckSyntaxError or UnsupportedCheckError."""
    tokens = _tokenize(text)
    if not tokens:
        raise CheckSyntaxError("checks is empty")
    terms: list[Check] = []
    position = 0
    while True:
        term, position = _term(tokens, position)
        terms.append(term)
        if position == len(tokens):
            return terms
        kind, value = tokens[position]
        if kind == "word" and value.upper() == "AND":
            position += 1
            continue
        if kind == "word" and value.upper() == "OR":
            raise UnsupportedCheckError("OR is not evaluated here; join terms with AND")
        if kind == "punct" and value in "()":
            raise UnsupportedCheckError("parentheses are not evaluated here")
        raise CheckSyntaxError(f"expected AND, got {value!r}")


def passes(checks: list[Check], facts: UploadedFacts) -> bool:
    return all(check(facts) for check in checks)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise CheckSyntaxError(f"unexpected text at {text[position:][:20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _term(tokens: list[tuple[str, str]], position: int) -> tuple[Check, int]:
    kind, field = _at(tokens, position)
    if kind == "punct" and field == "(":
        raise UnsupportedCheckError("parentheses are not evaluated here")
    if kind != "string":
        raise CheckSyntaxError(f"a check starts with a field in quotes, got {field!r}")
    field = field[1:-1]
    operator, position = _operator(tokens, position + 1)
    if field == "file.size":
        if operator not in ("=", "<", "<=", ">", ">="):
            raise UnsupportedCheckError(f'"file.size" takes =, <, <=, >, >=, not {operator}')
        kind, raw = _at(tokens, position)
        limit = _size(raw[1:-1] if kind == "string" else raw)
        compare = {
            "=": lambda size: size == limit,
            "<": lambda size: size < limit,
            "<=": lambda size: size <= limit,
            ">": lambda size: size > limit,
            ">=": lambda size: size >= limit,
        }[operator]
        return (lambda facts: compare(facts.size)), position + 1
    if field == "file.mime":
        if operator in ("IN", "NOT IN"):
            values, position = _list(tokens, position)
            wanted = {value.lower() for value in values}
            negate = operator == "NOT IN"
            return (lambda facts: (facts.mime.lower() in wanted) != negate), position
        kind, raw = _at(tokens, position)
        if kind != "string":
            raise CheckSyntaxError(f'"file.mime" compares with a string in quotes, got {raw!r}')
        value = raw[1:-1].lower()
        if operator == "=":
            return (lambda facts: facts.mime.lower() == value), position + 1
        if operator == "NOT =":
            return (lambda facts: facts.mime.lower() != value), position + 1
        if operator == ":":
            return (lambda facts: facts.mime.lower().startswith(value)), position + 1
        raise UnsupportedCheckError(f'"file.mime" takes =, NOT =, :, IN, NOT IN, not {operator}')
    raise UnsupportedCheckError(
        f"{field!r} checks are not evaluated here (only file.size and file.mime)"
    )


def _operator(tokens: list[tuple[str, str]], position: int) -> tuple[str, int]:
    kind, value = _at(tokens, position)
    if kind == "op":
        return value, position + 1
    if kind == "word" and value.upper() == "IN":
        return "IN", position + 1
    if kind == "word" and value.upper() == "NOT":
        kind, following = _at(tokens, position + 1)
        if kind == "op" and following == "=":
            return "NOT =", position + 2
        if kind == "word" and following.upper() == "IN":
            return "NOT IN", position + 2
    raise CheckSyntaxError(f"expected an operator, got {value!r}")


def _list(tokens: list[tuple[str, str]], position: int) -> tuple[list[str], int]:
    kind, value = _at(tokens, position)
    if (kind, value) != ("punct", "["):
        raise CheckSyntaxError(f"IN takes a list in brackets, got {value!r}")
    values: list[str] = []
    position += 1
    while True:
        kind, value = _at(tokens, position)
        if kind != "string":
            raise CheckSyntaxError(f"list items are strings in quotes, got {value!r}")
        values.append(value[1:-1])
        kind, value = _at(tokens, position + 1)
        position += 2
        if (kind, value) == ("punct", "]"):
            return values, position
        if (kind, value) != ("punct", ","):
            raise CheckSyntaxError(f"expected , or ] in the list, got {value!r}")


def _size(raw: str) -> int:
    match = _SIZE.fullmatch(raw.strip())
    if match is None:
        raise CheckSyntaxError(f"{raw!r} is not a size (bytes, or a number with kb, mb, gb)")
    number, unit = match.groups()
    return int(float(number) * SIZE_UNITS[(unit or "b").lower()])


def _at(tokens: list[tuple[str, str]], position: int) -> tuple[str, str]:
    if position >= len(tokens):
        raise CheckSyntaxError("the checks end too early")
    return tokens[position]
