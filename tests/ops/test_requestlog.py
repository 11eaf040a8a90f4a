"""One log line per request, the request id on every line, and no secret in any of them."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Category
from ops.requestlog import first_operation_name
from tests.conftest import IMAGEKIT_PRIVATE_KEY, make_image_bytes
from tests.utils import multipart_upload

pytestmark = pytest.mark.django_db

CATEGORIES = "query Categories { categories { name } }"
ANONYMOUS = "{ categories { name } }"
UPLOAD = """
mutation Upload($file: Upload!) {
  uploadImage(file: $file) {
    __typename
    ... on OperationInfo { messages { code message } }
  }
}
"""
# 12 levels deep: refused by GRAPHQL["MAX_DEPTH"] and logged by config.graphql.
TOO_DEEP = "query Deep { categories { " + "parent { " * 11 + "name" + " }" * 11 + " } }"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def post_graphql(client: Client, query: str, operation_name: str | None = None, **headers):
    body = {"query": query, "variables": {}}
    if operation_name is not None:
        body["operationName"] = operation_name
    return client.post(
        "/graphql/", json.dumps(body), content_type="application/json", headers=headers
    )


# --- the request line ----------------------------------------------------------


def test_request_line_has_every_field(client, capture_logs, editor, editor_token):
    Category.objects.create(name="Shoes", slug="shoes")
    logs = capture_logs("json")

    with CaptureQueriesContext(connection) as queries:
        response = post_graphql(
            client, CATEGORIES, "Categories", Authorization=f"Bearer {editor_token}"
        )

    assert response.status_code == 200
    (line,) = logs.requests()
    assert line["request_id"] == response["X-Request-ID"]
    assert HEX_ID.fullmatch(line["request_id"])
    assert line["http_method"] == "POST"
    assert line["path"] == "/graphql/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["sql_queries"] == len(queries)
    assert line["user_id"] == str(editor.pk)
    assert line["graphql_operation"] == "Categories"
    assert line["level"] == "INFO"


def test_request_line_text_format(client, capture_logs):
    logs = capture_logs("text")

    response = client.get("/healthz/missing")

    (line,) = [line for line in logs.lines() if " ops.request " in line]
    rid = response["X-Request-ID"]
    assert f"ops.request [{rid}] GET /healthz/missing 404 " in line
    assert line.endswith(" user=- op=-")
    assert re.search(r" 404 \d+\.\dms sql=\d+ ", line)


def test_request_id_taken_from_header(client, capture_logs):
    logs = capture_logs("json")

    response = post_graphql(client, CATEGORIES, **{"X-Request-ID": "lb-7f3a.42"})

    assert response["X-Request-ID"] == "lb-7f3a.42"
    assert logs.requests()[0]["request_id"] == "lb-7f3a.42"


@pytest.mark.parametrize("incoming", ["", "x" * 200, "id with spaces", "a\nforged line"])
def test_request_id_not_an_id_replaced(client, capture_logs, incoming):
    logs = capture_logs("json")

    response = client.get("/graphql/", {"query": ANONYMOUS}, HTTP_X_REQUEST_ID=incoming)

    assert HEX_ID.fullmatch(response["X-Request-ID"])
    assert logs.requests()[0]["request_id"] == response["X-Request-ID"]


def test_request_ids_differ(client):
    first = client.get("/graphql/", {"query": ANONYMOUS})
    second = client.get("/graphql/", {"query": ANONYMOUS})

    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_anonymous_request_loads_no_user(client, capture_logs, django_assert_num_queries):
    logs = capture_logs("json")

    with django_assert_num_queries(1):  # the categories; no session or user
        client.get("/graphql/", {"query": CATEGORIES})

    assert logs.requests()[0]["user_id"] == "-"
    assert logs.requests()[0]["sql_queries"] == 1


def test_path_control_characters_escaped(client, capture_logs):
    logs = capture_logs("text")

    client.get("/media/a%0Aforged%20line")

    (line,) = [line for line in logs.lines() if " ops.request " in line]
    assert "/media/a\\nforged line" in line


# --- the GraphQL operation name ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "operation_name", "logged"),
    [
        (CATEGORIES, "Categories", "Categories"),
        (CATEGORIES, None, "Categories"),
        (ANONYMOUS, None, "-"),
        ("query { categories { name } }", None, "-"),
        ("fragment F on Category { name } query Cats { categories { ...F } }", None, "Cats"),
        (CATEGORIES + " query Other { categories { slug } }", "Other", "Other"),
        (CATEGORIES, "not a name!", "-"),
        ("query Broken {", None, "Broken"),
    ],
)
def test_operation_name_json(client, capture_logs, query, operation_name, logged):
    logs = capture_logs("json")

    post_graphql(client, query, operation_name)

    assert logs.requests()[0]["graphql_operation"] == logged


def test_operation_name_get(client, capture_logs):
    logs = capture_logs("json")

    client.get("/graphql/", {"query": CATEGORIES})

    assert logs.requests()[0]["graphql_operation"] == "Categories"


def test_operation_name_multipart_upload(client, capture_logs, editor_token):
    logs = capture_logs("json")

    response = multipart_upload(
        client, UPLOAD, content=make_image_bytes(), Authorization=f"Bearer {editor_token}"
    )

    assert response.status_code == 200
    assert logs.requests()[0]["graphql_operation"] == "Upload"
    assert logs.requests()[0]["sql_queries"] > 0


def test_operation_name_not_graphql_path(client, capture_logs):
    logs = capture_logs("json")

    client.get("/admin/login/", {"operationName": "Spoof"})

    assert logs.requests()[0]["graphql_operation"] == "-"


@pytest.mark.parametrize(
    ("document", "name"),
    [
        ("query Q { a }", "Q"),
        ("mutation M($x: Int = 1) { a(x: $x) }", "M"),
        ("subscription S { a }", "S"),
        ("{ a }", None),
        ("query { a }", None),
        ("query($x: Int) { a }", None),
        ("# comment\n  query Q2 { a }", "Q2"),
        ('fragment F on T @d(arg: {k: "query X"}) { a } query After { ...F }', "After"),
        ("fragment query on T { a } mutation Real { a }", "Real"),
        ('"""described""" query Doc { a }', "Doc"),
        ("", None),
        ("query ¿", None),
    ],
)
def test_first_operation_name(document, name):
    assert first_operation_name(document) == name


# --- other loggers carry the request id ---------------------------------------------


def test_graphql_refusal_line_carries_request_id(client, capture_logs):
    logs = capture_logs("json")

    response = post_graphql(client, TOO_DEEP)

    rid = response["X-Request-ID"]
    (refused,) = [r for r in logs.records() if r["logger"] == "config.graphql"]
    assert refused["level"] == "WARNING"
    assert refused["request_id"] == rid
    assert "Deep" in refused["message"]
    assert logs.requests()[0]["request_id"] == rid


def test_line_outside_request_has_no_id(capture_logs):
    logs = capture_logs("json")

    logging.getLogger("tests.ops").warning("between requests")

    assert logs.records()[-1]["request_id"] == "-"


# --- secrets ------------------------------------------------------------------------


@pytest.fixture
def verbose_loggers():
    """Every logger at DEBUG, those the settings quieten (httpx) included."""
    names = ["httpx", "httpcore", "imagekitio", "urllib3", "django.db.backends"]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_in_any_line(
    client, capture_logs, imagekit, editor, editor_token, verbose_loggers, fmt
):
    # given: every line, at DEBUG, while ImageKit is configured
    logs = capture_logs(fmt, level=logging.DEBUG)
    bearer = {"Authorization": f"Bearer {editor_token}"}

    # when: an upload that reaches ImageKit, one that ImageKit refuses, a wrong token,
    # a session, a password login and a refused GraphQL query
    assert multipart_upload(client, UPLOAD, content=make_image_bytes(), **bearer).status_code == 200
    imagekit.faults.fail("upload", 500, times=None, headers={"retry-after-ms": "1"})
    assert multipart_upload(client, UPLOAD, content=make_image_bytes(), **bearer).status_code == 200
    imagekit.faults.reset()
    assert (
        post_graphql(client, CATEGORIES, Authorization="Bearer not-a-real-token-xyz").status_code
        == 401
    )
    client.post("/admin/login/", {"username": "editor", "password": "wrong-password-4711"})
    client.force_login(editor)
    session_cookie = client.cookies["sessionid"].value
    post_graphql(client, TOO_DEEP, **bearer)
    client.get("/graphql/", {"query": CATEGORIES})

    # then: none of the secrets appear
    text = logs.text
    for logger in ("ops.request", "config.graphql", "httpx", "catalog.uploads"):
        assert logger in text
    basic = base64.b64encode(f"{IMAGEKIT_PRIVATE_KEY}:".encode()).decode()
    for secret in (
        editor_token,
        "not-a-real-token-xyz",
        IMAGEKIT_PRIVATE_KEY,
        basic,
        session_cookie,
        "wrong-password-4711",
        "Bearer",
        "Authorization",
    ):
        assert secret not in text, secret
