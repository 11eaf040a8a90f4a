"""Apollo's automatic persisted queries: not found, registered, found; refusals; allow-list mode."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from config.graphql_cache.persisted import CLIENT_DOCUMENT_SECONDS, CLIENT_PREFIX, LISTED_PREFIX
from graphql_limits import ErrorCode
from tests.catalog.factories import product_with_images
from tests.graphql_cache.conftest import error_code, get, persisted, post, sha256

pytestmark = pytest.mark.django_db

CATEGORIES = "query Categories { categories { name slug } }"
PRODUCT = "query Product($slug: String!) { product(slug: $slug) { name } }"


def register(client, document: str, **body) -> dict:
    """Apollo's retry after PERSISTED_QUERY_NOT_FOUND: the hash with the document, as POST."""
    response = post(client, {"query": document, "extensions": persisted(document), **body})
    assert response.status_code == 200, response.content
    return response.json()


def test_unknown_hash_is_persisted_query_not_found(client):
    response = get(client, hash_of=CATEGORIES, operation_name="Categories")

    # What Apollo's PersistedQueryLink looks for, as Apollo Server sends it.
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert response["Cache-Control"] == "no-store"


def test_persisted_get_is_never_graphiql(client):
    # curl and many HTTP clients send Accept: */*, which asks strawberry for GraphiQL
    # when a GET has no `query`.
    response = client.get(
        "/graphql/", {"extensions": json.dumps(persisted(CATEGORIES))}, headers={"Accept": "*/*"}
    )

    assert response["Content-Type"] == "application/json"
    assert error_code(response) == ErrorCode.PERSISTED_QUERY_NOT_FOUND


def test_browser_get_without_query_is_still_graphiql(client):
    response = client.get("/graphql/", headers={"Accept": "text/html"})

    assert response["Content-Type"].startswith("text/html")
    assert b"graphiql" in response.content.lower()


def test_registered_document_is_found_by_hash(client):
    product_with_images(1)

    assert register(client, PRODUCT, variables={"slug": "product-1"}) == {
        "data": {"product": {"name": "Product 001"}}
    }
    response = get(client, hash_of=PRODUCT, variables={"slug": "product-1"})

    assert response.status_code == 200
    assert response.json() == {"data": {"product": {"name": "Product 001"}}}


def test_hash_alone_by_post_is_found_too(client):
    register(client, CATEGORIES)

    response = post(client, {"extensions": persisted(CATEGORIES)})

    assert response.json() == {"data": {"categories": []}}


def test_client_documents_expire_after_a_day(client):
    register(client, CATEGORIES)

    assert cache.get(CLIENT_PREFIX + sha256(CATEGORIES)) == CATEGORIES
    assert CLIENT_DOCUMENT_SECONDS == 24 * 3600
    assert cache.get(LISTED_PREFIX + sha256(CATEGORIES)) is None


def test_hash_of_another_document_is_refused(client):
    response = post(client, {"query": CATEGORIES, "extensions": persisted("{ __typename }")})

    assert response.status_code == 400
    assert error_code(response) == ErrorCode.PERSISTED_QUERY_HASH_MISMATCH
    assert cache.get(CLIENT_PREFIX + sha256("{ __typename }")) is None
    assert cache.get(CLIENT_PREFIX + sha256(CATEGORIES)) is None


@pytest.mark.parametrize(
    ("extension", "hint"),
    [
        ("v1", "must be an object"),
        ({"version": 2, "sha256Hash": sha256(CATEGORIES)}, "version 2 is not supported"),
        ({"version": True, "sha256Hash": sha256(CATEGORIES)}, "version True is not supported"),
        ({"sha256Hash": sha256(CATEGORIES)}, "version None is not supported"),
        ({"version": 1}, "64 lowercase hex digits"),
        ({"version": 1, "sha256Hash": sha256(CATEGORIES).upper()}, "64 lowercase hex digits"),
        ({"version": 1, "sha256Hash": "abc"}, "64 lowercase hex digits"),
        ({"version": 1, "sha256Hash": 12}, "64 lowercase hex digits"),
    ],
)
def test_malformed_extension_is_refused(client, extension, hint):
    response = post(client, {"query": CATEGORIES, "extensions": {"persistedQuery": extension}})

    assert response.status_code == 400
    assert error_code(response) == ErrorCode.PERSISTED_QUERY_INVALID
    assert hint in response.json()["errors"][0]["message"]


def test_document_larger_than_the_limit_is_not_stored(client, settings):
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "MAX_PERSISTED_QUERY_BYTES": 40}
    document = "query Long { categories { name slug } }  # padding"

    response = post(client, {"query": document, "extensions": persisted(document)})

    assert response.status_code == 400
    assert error_code(response) == ErrorCode.PERSISTED_QUERY_TOO_LARGE
    message = response.json()["errors"][0]["message"]
    assert f"{len(document)} bytes" in message
    assert "GRAPHQL_MAX_PERSISTED_QUERY_BYTES" in message
    assert cache.get(CLIENT_PREFIX + sha256(document)) is None


def test_invalid_document_is_not_stored(client):
    document = "{ categories { nope } }"

    body = register(client, document)

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(get(client, hash_of=document)) == ErrorCode.PERSISTED_QUERY_NOT_FOUND


def test_document_over_a_limit_is_refused_and_not_stored(client, settings):
    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_DEPTH": 2}
    document = "{ categories { parent { name } } }"

    body = register(client, document)

    assert body["errors"][0]["extensions"]["code"] == ErrorCode.QUERY_TOO_DEEP
    assert error_code(get(client, hash_of=document)) == ErrorCode.PERSISTED_QUERY_NOT_FOUND


def test_limits_apply_to_stored_documents_too(client, settings):
    document = "{ categories { parent { name } } }"
    register(client, document)
    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_DEPTH": 2}

    response = get(client, hash_of=document)

    assert response.status_code == 200
    assert error_code(response) == ErrorCode.QUERY_TOO_DEEP


def test_stored_mutation_by_hash_over_get_needs_post(client):
    document = 'mutation Delete { deleteImage(id: "SW1hZ2U6MQ==") { __typename } }'
    register(client, document)

    response = get(client, hash_of=document)

    assert response.status_code == 405
    assert error_code(response) == ErrorCode.POST_REQUIRED
    assert response["Allow"] == "POST"


# --- Allow-list mode --------------------------------------------------------------------


@pytest.fixture
def allow_list(settings):
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "PERSISTED_QUERIES_ONLY": True}


def test_allow_list_runs_a_listed_document_by_hash_at_once(client, allow_list):
    from config.graphql_cache.persisted import register as list_document

    list_document(CATEGORIES)

    response = get(client, hash_of=CATEGORIES)

    assert response.json() == {"data": {"categories": []}}


def test_allow_list_runs_a_listed_document_sent_in_full(client, allow_list):
    from config.graphql_cache.persisted import register as list_document

    list_document(CATEGORIES)

    assert post(client, {"query": CATEGORIES}).json() == {"data": {"categories": []}}


def test_allow_list_refuses_an_unknown_hash(client, allow_list):
    response = get(client, hash_of=CATEGORIES)

    assert response.status_code == 404
    assert error_code(response) == ErrorCode.PERSISTED_QUERY_NOT_IN_LIST
    assert "register_persisted_queries" in response.json()["errors"][0]["message"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("with_hash", [False, True])
def test_allow_list_refuses_and_stores_no_unlisted_document(client, allow_list, with_hash):
    body = {"query": CATEGORIES, **({"extensions": persisted(CATEGORIES)} if with_hash else {})}

    response = post(client, body)

    assert response.status_code == 403
    assert error_code(response) == ErrorCode.QUERY_NOT_IN_LIST
    assert cache.get(CLIENT_PREFIX + sha256(CATEGORIES)) is None
    assert cache.get(LISTED_PREFIX + sha256(CATEGORIES)) is None


def test_allow_list_ignores_documents_clients_registered(client, settings):
    register(client, CATEGORIES)
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "PERSISTED_QUERIES_ONLY": True}

    response = get(client, hash_of=CATEGORIES)

    assert error_code(response) == ErrorCode.PERSISTED_QUERY_NOT_IN_LIST


def test_listed_document_is_found_without_the_allow_list_too(client):
    from config.graphql_cache.persisted import register as list_document

    list_document(CATEGORIES)

    assert get(client, hash_of=CATEGORIES).json() == {"data": {"categories": []}}


def test_register_refuses_a_document_over_the_size_limit(settings):
    from config.graphql_cache.persisted import register as list_document
    from config.request_errors import RequestError

    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "MAX_PERSISTED_QUERY_BYTES": 10}

    with pytest.raises(RequestError, match="GRAPHQL_MAX_PERSISTED_QUERY_BYTES"):
        list_document(CATEGORIES)
    assert cache.get(LISTED_PREFIX + sha256(CATEGORIES)) is None


def test_request_log_names_a_hashed_operation(client, caplog):
    register(client, CATEGORIES)
    caplog.clear()

    with caplog.at_level("INFO", logger="ops.request"):
        get(client, hash_of=CATEGORIES, operation_name="Categories")

    (record,) = [r for r in caplog.records if r.name == "ops.request"]
    assert record.graphql_operation == "Categories"
    assert json.dumps(CATEGORIES) not in record.getMessage()
