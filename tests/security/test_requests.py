"""Malformed HTTP requests to the GraphQL endpoint: each a 4xx with a JSON body in
GraphQL's error shape, a code and a message that says what to fix; never a 500."""

from __future__ import annotations

import json

import pytest

from graphql_limits import ErrorCode
from tests.utils import GRAPHQL_URL

pytestmark = pytest.mark.django_db


def refused(response, status: int, code: ErrorCode) -> str:
    """Assert the JSON refusal; return its message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    return error["message"]


def post(client, body: bytes | str, content_type: str = "application/json", **extra):
    return client.generic("POST", GRAPHQL_URL, body, content_type=content_type, **extra)


def test_body_not_utf8(client, nothing_stored):
    message = refused(
        post(client, b'{"query": "{ __typename \xff }"}'), 400, ErrorCode.INVALID_JSON
    )

    assert "not UTF-8" in message


def test_body_not_json(client, nothing_stored):
    message = refused(post(client, b'{"query": '), 400, ErrorCode.INVALID_JSON)

    assert "not valid JSON" in message
    assert "line 1" in message


def test_body_json_nested_too_deep(client, nothing_stored):
    body = '{"query": "{ __typename }", "variables": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"

    message = refused(post(client, body), 400, ErrorCode.INVALID_JSON)

    assert "nested too deeply" in message


def test_body_larger_than_data_upload_max_memory_size(client, settings, nothing_stored):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 2000}})

    message = refused(post(client, body), 413, ErrorCode.BODY_TOO_LARGE)

    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in message


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ({"query": 5}, "`query` must be a string"),
        ({"query": "{ __typename }", "variables": [1]}, "`variables` must be an object"),
        ({"query": "{ __typename }", "extensions": "x"}, "`extensions` must be an object"),
        ({"query": "{ __typename }", "operationName": 5}, "`operationName` must be a string"),
        ({}, "No GraphQL query"),
    ],
)
def test_body_fields_of_the_wrong_type(client, body, hint, nothing_stored):
    message = refused(post(client, json.dumps(body)), 400, ErrorCode.BAD_REQUEST)

    assert hint in message


def test_batched_requests_are_refused(client, nothing_stored):
    body = json.dumps([{"query": "{ __typename }"}, {"query": "{ __typename }"}])

    message = refused(post(client, body), 400, ErrorCode.BAD_REQUEST)

    assert "atch" in message  # "Batching is not enabled"


def test_unsupported_content_type(client, nothing_stored):
    message = refused(post(client, "query=x", "text/plain"), 400, ErrorCode.BAD_REQUEST)

    assert "content type" in message.lower()


def test_mutation_over_get(client, nothing_stored):
    response = client.get(
        GRAPHQL_URL,
        {"query": 'mutation { deleteImage(id: "x") { __typename } }'},
        headers={"Accept": "application/json"},
    )

    message = refused(response, 405, ErrorCode.POST_REQUIRED)
    assert "send it with POST" in message
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("parameter", ["variables", "extensions"])
def test_get_with_parameter_not_json(client, parameter, nothing_stored):
    response = client.get(
        GRAPHQL_URL,
        {"query": "query($n: Int) { products(first: $n) { totalCount } }", parameter: "{n:"},
        headers={"Accept": "application/json"},
    )

    message = refused(response, 400, ErrorCode.INVALID_JSON)
    assert message.startswith(f"The `{parameter}` parameter is not valid JSON")


def test_method_not_allowed(client, nothing_stored):
    response = client.put(GRAPHQL_URL, "{}", content_type="application/json")

    assert response.status_code == 405


def test_unknown_bearer_token(client, nothing_stored):
    response = post(
        client,
        json.dumps({"query": "{ __typename }"}),
        headers={"Authorization": "Bearer cat_forged"},
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    (error,) = response.json()["errors"]
    assert error["message"] == "Invalid or revoked API token."


def test_unknown_path_is_a_json_404(client):
    response = client.get("/wp-login.php")

    message = refused(response, 404, ErrorCode.NOT_FOUND)
    assert "/graphql/" in message


def test_host_not_allowed_is_a_json_400(client):
    response = client.get(GRAPHQL_URL, headers={"Host": "evil.example"})

    message = refused(response, 400, ErrorCode.BAD_REQUEST)
    assert "evil" not in message


def test_admin_keeps_its_html_error_pages(client):
    response = client.get("/admin/no-such-page/")

    assert response.status_code in (302, 404)  # the login page first, or the HTML 404
    assert not response["Content-Type"].startswith("application/json")
