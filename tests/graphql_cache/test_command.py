"""``manage.py register_persisted_queries``: .graphql files and Apollo manifests."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from config.graphql_cache.persisted import LISTED_PREFIX
from tests.graphql_cache.conftest import get, sha256

pytestmark = pytest.mark.django_db

CATEGORIES = "query Categories {\n  categories { name }\n}\n"
PRODUCTS = "query Products {\n  products { totalCount }\n}\n"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("register_persisted_queries", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def manifest(tmp_path, *bodies: str, **overrides) -> str:
    path = tmp_path / "persisted-query-manifest.json"
    operations = [
        {"id": sha256(body), "name": f"Op{index}", "type": "query", "body": body}
        for index, body in enumerate(bodies)
    ]
    content = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    path.write_text(json.dumps({**content, **overrides}))
    return str(path)


def listed(document: str) -> bool:
    return cache.get(LISTED_PREFIX + sha256(document)) == document


def test_graphql_files_are_registered_under_the_hash_of_their_text(client, tmp_path, settings):
    (tmp_path / "categories.graphql").write_text(CATEGORIES)
    (tmp_path / "products.gql").write_text(PRODUCTS)

    out, _ = run(str(tmp_path / "categories.graphql"), str(tmp_path / "products.gql"))

    assert f"{sha256(CATEGORIES)}  {tmp_path / 'categories.graphql'}" in out
    assert "Registered 2 document(s); 0 already registered." in out
    assert listed(CATEGORIES)
    assert listed(PRODUCTS)
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "PERSISTED_QUERIES_ONLY": True}
    assert get(client, hash_of=CATEGORIES).json() == {"data": {"categories": []}}


def test_apollo_manifest_operations_are_registered(tmp_path):
    out, _ = run(manifest(tmp_path, CATEGORIES, PRODUCTS))

    assert "Registered 2 document(s)" in out
    assert "#Op1" in out
    assert listed(CATEGORIES)
    assert listed(PRODUCTS)


def test_registering_again_changes_nothing(tmp_path):
    path = manifest(tmp_path, CATEGORIES)
    run(path)

    out, _ = run(path)

    assert "Registered 0 document(s); 1 already registered." in out
    assert "(already registered)" in out


def test_dry_run_registers_nothing(tmp_path):
    out, _ = run(manifest(tmp_path, CATEGORIES), "--dry-run")

    assert "Would register 1 document(s)" in out
    assert not listed(CATEGORIES)


def test_invalid_documents_are_reported_and_the_rest_registered(tmp_path, settings):
    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_DEPTH": 2}
    too_deep = "{ categories { parent { name } } }"
    unknown_field = "{ categories { nope } }"
    broken = "{ categories {"
    path = manifest(tmp_path, CATEGORIES, too_deep, unknown_field, broken)
    err = StringIO()

    with pytest.raises(CommandError, match=r"3 document\(s\) were not registered"):
        call_command("register_persisted_queries", path, stdout=StringIO(), stderr=err)

    assert listed(CATEGORIES)
    assert not any(listed(document) for document in (too_deep, unknown_field, broken))
    lines = err.getvalue().splitlines()
    assert "#Op1: not registered: Query is 3 levels deep; the limit is 2" in lines[0]
    assert "Cannot query field 'nope' on type 'Category'." in lines[1]
    assert "Syntax Error" in lines[2]


def test_document_over_the_size_limit_is_not_registered(tmp_path, settings):
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "MAX_PERSISTED_QUERY_BYTES": 20}

    with pytest.raises(CommandError, match="were not registered"):
        run(manifest(tmp_path, CATEGORIES))

    assert not listed(CATEGORIES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        (json.dumps({"format": "other", "version": 1, "operations": []}), "is not an Apollo"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "is not an"),
        (
            json.dumps(
                {
                    "format": "apollo-persisted-query-manifest",
                    "version": 1,
                    "operations": [{"id": "x", "body": CATEGORIES}],
                }
            ),
            "`id` is not the SHA-256 of `body`",
        ),
        (
            json.dumps(
                {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{}]}
            ),
            "needs its document as `body`",
        ),
    ],
)
def test_bad_manifest_is_refused(tmp_path, content, message):
    path = tmp_path / "manifest.json"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        run(str(path))


def test_missing_file_and_unknown_kind_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text(CATEGORIES)

    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.graphql"))
    with pytest.raises(CommandError, match=r"expected a \.graphql, \.gql or \.json"):
        run(str(tmp_path / "notes.txt"))
