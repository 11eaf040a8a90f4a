from __future__ import annotations

import pytest

from media_store.imagekit_server.search import SearchQueryError, compile_query

NOW = 1_700_000_000.0
DAY_MS = 86_400_000
DOC = {
    "type": "file",
    "name": "red-shoe.jpg",
    "tags": ["red", "Summer Sale"],
    "size": 150 * 1024,
    "width": 800,
    "private": False,
    "createdAt": int(NOW * 1000) - 3 * DAY_MS,  # three days ago: 2023-11-11T22:13:20Z
    "customMetadata.brand": "Nike",
    "customMetadata.price": 120,
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('name = "red-shoe.jpg"', True),
        ('"name" = "red-shoe.jpg"', True),
        ('name : "red"', True),
        ('name : "shoe"', False),
        ('name HAS "SHOE"', True),
        ('name NOT = "x.jpg"', True),
        ('tags = "red"', True),
        ('tags HAS "sale"', True),
        ('tags NOT IN ["red", "blue"]', False),
        ("size > 100kb AND size < 1mb", True),
        ("size >= 153600 AND size <= 153600", True),
        ("width IN [640, 800]", True),
        ("private = false", True),
        ('createdAt > "7d"', True),
        ('createdAt > "2d"', False),
        ('createdAt < "1d"', True),
        ('createdAt < "1w"', False),
        ('createdAt = "2023-11-11"', True),
        ('createdAt > "2023-11-11T22:13:19"', True),
        ('"customMetadata.brand" = "Nike"', True),
        ("customMetadata.price > 100", True),
        ('customMetadata.colour EXISTS OR name = "x"', False),
        ("customMetadata.colour NOT EXISTS", True),
        ('NOT (name = "x" OR tags = "blue") AND type = "file"', True),
        ('name = "x" OR tags = "red" AND size > 1gb', False),
        ('(name = "x" OR tags = "red") AND size < 1gb', True),
    ],
)
def test_compile_query_matches(query: str, expected: bool) -> None:
    assert compile_query(query, now=NOW)(DOC) is expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ('colour = "red"', "not supported"),
        ('name < "b"', "does not apply"),
        ('createdAt = "7d"', "relative date"),
        ('createdAt > "yesterday"', "needs a date"),
        ("size > lots", "needs a number"),
        ("private = maybe", "true or false"),
        ('name IN "a"', "needs a list"),
        ('(name = "a"', "not closed"),
        ('name = "a" name = "b"', "unexpected"),
        ('name NOT : "a"', "NOT :"),
        ('name = "unterminated', "cannot read"),
    ],
)
def test_compile_query_rejects(query: str, message: str) -> None:
    with pytest.raises(SearchQueryError, match=message):
        compile_query(query, now=NOW)
