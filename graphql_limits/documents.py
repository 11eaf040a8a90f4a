"""Parsed documents, their validation and their measure, kept per query text.

A storefront sends the same few documents again and again, and for a small page
parsing, validating and measuring cost as much as resolving it. So the parsed
document of a short query text is kept, and because it is then the same object on
every request, validation and the limits can be kept by its identity (graphql-core's
nodes hash by identity; a cache entry holds its document, so an identity cannot be
reused while the entry lives).

Bounded on purpose: only texts up to ``MAX_CACHED_CHARS`` (a cached document keeps
its source) and short variables, in a few hundred entries, so unique hostile
documents cannot grow memory; they are parsed, validated and measured on every
request, as before.

Not strawberry's ``ParserCache``/``ValidationCache``: they keep any text, however
long (128 documents of up to DATA_UPLOAD_MAX_MEMORY_SIZE each), and ValidationCache
validates before the limits are measured, which would let an abusive document cost
its full validation first.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document

# The README's listing is about 1 KB; storefront documents rarely pass 10 KB.
MAX_CACHED_CHARS = 20_000
DOCUMENTS = 256
# Per document: a few operations × the variable values clients send (pages, sizes).
MEASURES = 1024
MAX_CACHED_VARIABLES_CHARS = 2_000


@functools.lru_cache(maxsize=DOCUMENTS)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def parse_document(query: str, max_tokens: int | None) -> tuple[DocumentNode, bool]:
    """The parsed document, and whether it is the cached one (same object every time).

    Syntax errors raise, and are not kept: a broken document costs its parse each time.
    """
    if len(query) > MAX_CACHED_CHARS:
        return parse(query, max_tokens=max_tokens), False
    return _parse(query, max_tokens), True


# Keyed by (schema, document, rules): all three are the same objects on every hit.
validate_cached = functools.lru_cache(maxsize=DOCUMENTS)(validate_document)


class _Lru:
    """A small thread-safe LRU map (gunicorn runs requests in threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, list[GraphQLError]] = OrderedDict()
        self.lock = threading.Lock()

    def get_or_make(
        self, key: Hashable, make: Callable[[], list[GraphQLError]]
    ) -> list[GraphQLError]:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                return found
        made = make()
        with self.lock:
            self.entries[key] = made
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return made

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_measures = _Lru(MEASURES)


def measured_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: tuple[Any, ...],
    measure: Callable[[], list[GraphQLError]],
) -> list[GraphQLError]:
    """``measure()``'s errors, kept for a cached ``document`` with these variables and limits.

    Variables are keyed by their JSON; long ones, and values that have none
    (uploaded files), are measured every time.
    """
    try:
        values = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return measure()
    if len(values) > MAX_CACHED_VARIABLES_CHARS:
        return measure()
    return _measures.get_or_make((schema, document, operation_name, values, limits), measure)


def clear() -> None:
    """Forget every kept document, validation and measure (tests)."""
    _parse.cache_clear()
    validate_cached.cache_clear()
    _measures.clear()
