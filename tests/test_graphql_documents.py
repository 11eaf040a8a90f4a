"""Kept documents (graphql_limits.documents): parsed once, verdicts never shared wrongly."""

from __future__ import annotations

import pytest

from graphql_limits import documents
from tests.catalog.factories import product_with_images
from tests.utils import graphql, graphql_data

SRCSET = "query Srcset($w: [Int!]) { images { edges { node { srcset(widths: $w) } } } }"


@pytest.fixture(autouse=True)
def fresh_caches():
    documents.clear()
    yield
    documents.clear()


def test_short_document_is_parsed_once():
    first, cached = documents.parse_document("{ products { totalCount } }", 100)
    again, cached_again = documents.parse_document("{ products { totalCount } }", 100)

    assert cached
    assert cached_again
    assert again is first


def test_long_document_is_not_kept():
    query = "{ products { totalCount } }" + " " * documents.MAX_CACHED_CHARS

    first, cached = documents.parse_document(query, 100)
    again, _ = documents.parse_document(query, 100)

    assert not cached
    assert again is not first
    assert documents._parse.cache_info().currsize == 0


def test_token_limit_is_part_of_the_key():
    query = "{ products { totalCount } }"
    documents.parse_document(query, 100)

    with pytest.raises(Exception, match="more than 3 tokens"):
        documents.parse_document(query, 3)


def test_same_document_other_variables_measured_again(client, db):
    product_with_images(1, images=1)
    few = graphql(client, SRCSET, {"w": [320, 640]})
    many = graphql(client, SRCSET, {"w": list(range(1, 202))})
    few_again = graphql(client, SRCSET, {"w": [320, 640]})

    assert "errors" not in few
    assert "errors" not in few_again
    assert [error["extensions"]["code"] for error in many["errors"]] == ["LIST_TOO_LONG"]
    assert few_again == few


def test_same_document_other_limits_measured_again(client, settings, db):
    product_with_images(1, images=1)
    graphql_data(client, SRCSET, {"w": [320, 640]})

    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_LIST_LENGTH": 1}
    refused = graphql(client, SRCSET, {"w": [320, 640]})

    assert [error["extensions"]["code"] for error in refused["errors"]] == ["LIST_TOO_LONG"]


def test_long_variables_are_not_kept(client, db):
    product_with_images(1, images=1)
    padded = {"w": [320], "pad": "x" * documents.MAX_CACHED_VARIABLES_CHARS}
    query = SRCSET.replace("($w: [Int!])", "($w: [Int!], $pad: String)")

    graphql(client, query, padded)

    assert len(documents._measures.entries) == 0
    graphql_data(client, SRCSET, {"w": [320]})
    assert len(documents._measures.entries) == 1


def test_validation_errors_of_a_kept_document_repeat(client, db):
    for _ in range(2):
        body = graphql(client, "{ products { nope } }")
        assert [error["extensions"]["code"] for error in body["errors"]] == [
            "GRAPHQL_VALIDATION_FAILED"
        ]
    assert documents.validate_cached.cache_info().hits == 1


def test_measures_are_bounded(client, db, monkeypatch):
    monkeypatch.setattr(documents._measures, "size", 3)
    for first in range(1, 8):
        graphql_data(client, "query($n: Int) { products(first: $n) { totalCount } }", {"n": first})

    assert len(documents._measures.entries) == 3
