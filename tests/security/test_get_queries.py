"""Hostile GET queries and persisted-query extensions: a coded 4xx (or a coded
GraphQL error), bounded work, and no document stored for any of them."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from catalog.models import Image

LISTING = "{ products { totalCount } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def extension(**persisted) -> str:
    return json.dumps({"persistedQuery": persisted})


def nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def get(client, **params):
    return client.get("/graphql/?" + urlencode(params), HTTP_ACCEPT="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"query": LISTING, "variables": "{not json"}, 400, "INVALID_JSON"),
        ({"extensions": "{not json"}, 400, "INVALID_JSON"),
        ({"query": LISTING, "variables": "[]"}, 400, "BAD_REQUEST"),
        ({"extensions": "[]"}, 400, "BAD_REQUEST"),
        ({"extensions": json.dumps({"persistedQuery": "x"})}, 400, "PERSISTED_QUERY_INVALID"),
        ({"extensions": extension(version=2, sha256Hash="ab")}, 400, "PERSISTED_QUERY_INVALID"),
        ({"extensions": extension(version=1, sha256Hash=5)}, 400, "PERSISTED_QUERY_INVALID"),
        (
            {"query": LISTING, "extensions": extension(version=1, sha256Hash="a" * 64)},
            400,
            "PERSISTED_QUERY_HASH_MISMATCH",
        ),
        ({"query": LISTING, "operationName": "Other"}, 400, "BAD_REQUEST"),
        (
            {"query": 'mutation { deleteImage(id: "x") { __typename } }'},
            405,
            "POST_REQUIRED",
        ),
        ({"query": "\x00\xff"}, 200, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ " + "__typename " * 6000 + "}"}, 200, "TOO_MANY_TOKENS"),
        (
            {
                "query": "query($w: [Int!]) { images { edges { node { srcset(widths: $w) } } } }",
                "variables": json.dumps({"w": list(range(1, 5000))}),
            },
            200,
            "QUERY_TOO_COSTLY",
        ),
        (
            {
                "query": "query($w: [Int!]) { images { edges { node { srcset(widths: $w) } } } }",
                "variables": json.dumps({"w": nested(40)}),
            },
            200,
            "INPUT_TOO_DEEP",
        ),
    ],
)
def test_hostile_get_is_refused_with_a_code_and_stores_nothing(client, params, status, code):
    response = get(client, **params)

    assert response.status_code == status, response.content[:300]
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors][:1] == [code], errors
    assert all(error["message"] for error in errors)
    assert "public" not in response.get("Cache-Control", ""), "a refusal for CDNs to keep"
    # Nothing registered as a persisted document, nothing written.
    if "query" in params:
        lookup = get(client, extensions=extension(version=1, sha256Hash=sha256(params["query"])))
        codes = [error["extensions"]["code"] for error in lookup.json()["errors"]]
        assert codes == ["PERSISTED_QUERY_NOT_FOUND"]
    assert not Image.objects.exists()


@pytest.mark.django_db
def test_unknown_hash_registers_nothing_and_says_what_to_send(client):
    response = get(client, extensions=extension(version=1, sha256Hash=sha256(LISTING)))

    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    again = get(client, extensions=extension(version=1, sha256Hash=sha256(LISTING)))
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
