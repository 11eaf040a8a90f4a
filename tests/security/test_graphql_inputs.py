"""Hostile GraphQL documents and variables: every one refused with a code and a
message that says what to change, before any work is done, and nothing stored."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Image, Product
from graphql_limits import ErrorCode
from tests.catalog.factories import product_with_images, stored_image
from tests.utils import GRAPHQL_URL, graphql, nodes

pytestmark = pytest.mark.django_db


def only_error(body: dict) -> dict:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    return error


@pytest.fixture
def catalog(db):
    """Three products with two images each."""
    return [product_with_images(index) for index in range(3)]


# --- Lists in variables are held to the same limits as lists in the query ------


SRCSET = "query($w: [Int!]) { images { edges { node { srcset(widths: $w) } } } }"


def test_srcset_widths_in_variables_over_list_limit(client, catalog, nothing_stored):
    body = graphql(client, SRCSET, {"w": list(range(1, 4097))})

    assert body["data"] is None
    (error,) = [e for e in body["errors"] if e["extensions"]["code"] == ErrorCode.LIST_TOO_LONG]
    assert error["extensions"]["value"] == 4096
    assert "Image.srcset(widths)" in error["message"]
    assert "GRAPHQL['MAX_LIST_LENGTH']" in error["message"]


def test_srcset_widths_counted_in_cost_under_aliases(client, catalog, nothing_stored):
    aliases = " ".join(f"s{i}: srcset(widths: $w)" for i in range(20))
    query = f"query($w: [Int!]) {{ images(first: 100) {{ edges {{ node {{ {aliases} }} }} }} }}"

    body = graphql(client, query, {"w": list(range(100, 200))})

    assert body["data"] is None
    (error,) = [e for e in body["errors"] if e["extensions"]["code"] == ErrorCode.QUERY_TOO_COSTLY]
    # 100 images × 20 aliases × 100 widths, and more for edges and nodes.
    assert error["extensions"]["value"] > 100 * 20 * 100


def test_srcset_more_distinct_widths_than_allowed(client, catalog, nothing_stored):
    body = graphql(client, SRCSET, {"w": list(range(10, 130, 10))})

    errors = body["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"INVALID_TRANSFORMATION"}
    assert errors[0]["extensions"]["argument"] == "widths"
    assert "12 distinct widths; the limit is 10" in errors[0]["message"]


def test_srcset_duplicate_widths_count_once(client, catalog):
    body = graphql(client, SRCSET, {"w": [20, 20, 20, 40, 40]})

    entries = nodes(body["data"]["images"])[0]["srcset"].split(", ")
    assert [entry.rsplit(" ", 1)[1] for entry in entries] == ["20w", "40w"]


CHAIN = "query($t: [ImageTransformInput!]) { images { edges { node { url(transforms: $t) } } } }"


def test_transform_chain_in_variables_over_list_limit(client, catalog, nothing_stored):
    body = graphql(client, CHAIN, {"t": [{"width": 100}] * 3000})

    assert body["data"] is None
    (error,) = [e for e in body["errors"] if e["extensions"]["code"] == ErrorCode.LIST_TOO_LONG]
    assert "Image.url(transforms)" in error["message"]


def test_transform_chain_longer_than_the_step_limit(client, catalog, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_CHAIN_STEPS": 3}
    body = graphql(client, CHAIN, {"t": [{"width": 100 + i} for i in range(4)]})

    error = body["errors"][0]
    assert error["extensions"] == {"code": "INVALID_TRANSFORMATION", "argument": "transforms"}
    assert "4 steps" in error["message"]
    assert "MAX_CHAIN_STEPS" in error["message"]


def test_transform_chain_counts_expanded_preset_steps(client, catalog, settings):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "MAX_CHAIN_STEPS": 2,
        "PRESETS": {"two": "w-100:h-50"},
    }
    query = '{ images { edges { node { url(preset: "two", transforms: [{width: 10}]) } } } }'

    error = graphql(client, query)["errors"][0]

    assert error["extensions"]["argument"] == "transforms"
    assert "3 steps (presets expanded)" in error["message"]


def test_nodes_ids_over_list_limit(client, nothing_stored):
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    error = only_error(graphql(client, query, {"ids": ["UHJvZHVjdDox"] * 101}))

    assert error["extensions"]["code"] == ErrorCode.LIST_TOO_LONG
    assert "Query.nodes(ids)" in error["message"]


def test_nodes_ids_multiply_the_cost(client, settings, nothing_stored):
    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_COST": 50}
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name } } }"

    error = only_error(graphql(client, query, {"ids": ["UHJvZHVjdDox"] * 60}))

    assert error["extensions"]["code"] == ErrorCode.QUERY_TOO_COSTLY
    assert error["extensions"]["value"] >= 60


def test_filter_in_list_over_list_limit(client, nothing_stored):
    query = "query($n: [String!]) { products(filters: {name: {inList: $n}}) { totalCount } }"

    error = only_error(graphql(client, query, {"n": ["x"] * 101}))

    assert error["extensions"]["code"] == ErrorCode.LIST_TOO_LONG
    assert "Query.products(filters.name.inList)" in error["message"]


def test_filter_nested_too_deep_in_variables(client, nothing_stored):
    nested: dict = {"name": {"exact": "x"}}
    for _ in range(200):
        nested = {"AND": nested}
    query = "query($f: ProductFilter) { products(filters: $f) { totalCount } }"

    error = only_error(graphql(client, query, {"f": nested}))

    assert error["extensions"]["code"] == ErrorCode.INPUT_TOO_DEEP
    assert "GRAPHQL['MAX_INPUT_DEPTH']" in error["message"]


def test_literal_nested_too_deep_is_a_parse_error(client, nothing_stored):
    value = "[" * 2000 + '"a"' + "]" * 2000
    query = f"{{ products(filters: {{name: {{inList: {value}}}}}) {{ totalCount }} }}"

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] in (
        ErrorCode.GRAPHQL_PARSE_FAILED,
        ErrorCode.TOO_MANY_TOKENS,
    )


def test_json_argument_is_data_not_a_list_to_limit(client, django_user_model):
    # A product description is an Editor.js document: long block lists are data.
    user = django_user_model.objects.create_user("writer")
    user.user_permissions.add(Permission.objects.get(codename="add_product"))
    client.force_login(user)
    blocks = [{"type": "paragraph", "data": {"text": str(i)}} for i in range(150)]
    query = """mutation($d: JSON) { createProduct(input: {name: "Long", description: $d}) {
      __typename ... on Product { name } } }"""

    body = graphql(client, query, {"d": {"blocks": blocks}})

    assert body["data"]["createProduct"] == {"__typename": "Product", "name": "Long"}
    assert len(Product.objects.get().description["blocks"]) == 150


# --- Filters ---------------------------------------------------------------------


def test_regex_filter_does_not_exist(client, nothing_stored):
    query = '{ products(filters: {name: {regex: "^(a+)+$"}}) { totalCount } }'

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.GRAPHQL_VALIDATION_FAILED
    assert "unknown field 'regex'" in error["message"]


def test_case_insensitive_regex_filter_does_not_exist(client, nothing_stored):
    query = '{ images(filters: {name: {iRegex: "(x|x)*y"}}) { totalCount } }'

    error = only_error(graphql(client, query))

    assert "unknown field 'iRegex'" in error["message"]


def test_filter_with_another_types_id(client, catalog, nothing_stored):
    product_id = "UHJvZHVjdDox"  # Product:1, not a Category
    query = f'{{ products(filters: {{category: "{product_id}"}}) {{ totalCount }} }}'

    error = only_error(graphql(client, query))

    assert error["extensions"] == {"code": "INVALID_FILTER", "argument": "filters.category"}
    assert "give the ID of a Category" in error["message"]


def test_filter_with_an_unreadable_id(client, nothing_stored):
    query = '{ products(filters: {category: "not base64 at all"}) { totalCount } }'

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.BAD_USER_INPUT
    assert "GlobalID" in error["message"]


def test_filter_with_a_bad_date(client, nothing_stored):
    query = '{ images(filters: {createdAfter: "yesterday"}) { totalCount } }'

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.GRAPHQL_VALIDATION_FAILED
    assert "DateTime" in error["message"]


# --- Pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("first", [101, -1, 2**31 - 1])
def test_page_size_out_of_range_in_variables(client, catalog, first, nothing_stored):
    query = "query($n: Int) { products(first: $n) { totalCount } }"

    error = only_error(graphql(client, query, {"n": first}))

    assert error["extensions"]["code"] == "INVALID_PAGE_SIZE"
    assert "between 0 and 100" in error["message"]


def test_page_size_too_large_for_an_int(client, nothing_stored):
    query = "query($n: Int) { products(first: $n) { totalCount } }"

    error = only_error(graphql(client, query, {"n": 2**40}))

    assert error["extensions"]["code"] == ErrorCode.BAD_USER_INPUT
    assert "Int cannot represent" in error["message"]


# --- Documents -----------------------------------------------------------------------


def test_two_operations_without_operation_name(client, nothing_stored):
    query = "query A { categories { name } } mutation B { __typename }"

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.OPERATION_NAME_REQUIRED
    assert "2 operations (A, B)" in error["message"]


def test_two_operations_with_operation_name_runs_that_one(client):
    query = "query A { categories { name } } query B { products { totalCount } }"

    response = client.post(
        GRAPHQL_URL,
        data=json.dumps({"query": query, "operationName": "B"}),
        content_type="application/json",
    )

    assert response.json() == {"data": {"products": {"totalCount": 0}}}


def test_unknown_operation_name(client, nothing_stored):
    response = client.post(
        GRAPHQL_URL,
        data=json.dumps({"query": "query A { __typename }", "operationName": "Nope"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == ErrorCode.BAD_REQUEST
    assert "Nope" in error["message"]


@pytest.mark.parametrize(
    ("query", "hint"),
    [
        ("{ produts { totalCount } }", "products"),
        ("{ products(frist: 1) { totalCount } }", "first"),
        ("{ products(order: {name: ASCENDING}) { totalCount } }", "'ASC'"),
        ("query($f: ProductFiltr) { products(filters: $f) { totalCount } }", "ProductFilter"),
    ],
)
def test_no_suggestions_when_introspection_is_off(client, settings, query, hint):
    settings.GRAPHQL = {**settings.GRAPHQL, "INTROSPECTION": False}

    errors = graphql(client, query)["errors"]

    for error in errors:
        assert "Did you mean" not in error["message"]
        assert hint not in error["message"]


def test_suggestions_kept_when_introspection_is_on(client):
    (error,) = graphql(client, "{ produts { totalCount } }")["errors"]

    assert "Did you mean 'products'" in error["message"]


def test_introspection_refused_when_off(client, settings, nothing_stored):
    settings.GRAPHQL = {**settings.GRAPHQL, "INTROSPECTION": False}

    error = only_error(graphql(client, "{ __schema { types { name } } }"))

    assert error["extensions"]["code"] == ErrorCode.INTROSPECTION_DISABLED


def test_too_many_aliases_of_url(client, catalog, nothing_stored):
    aliases = " ".join(f"u{i}: url(transform: {{width: {i + 1}}})" for i in range(41))

    error = only_error(graphql(client, f"{{ images {{ edges {{ node {{ {aliases} }} }} }} }}"))

    assert error["extensions"]["code"] == ErrorCode.TOO_MANY_ALIASES


def test_too_many_tokens(client, nothing_stored):
    query = "{ " + " ".join("__typename" for _ in range(6000)) + " }"

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.TOO_MANY_TOKENS


# --- Transformations -------------------------------------------------------------------


def test_transform_over_the_largest_side(client, catalog, nothing_stored):
    query = "{ images { edges { node { url(transform: {width: 5000}) } } } }"

    error = graphql(client, query)["errors"][0]

    assert error["extensions"] == {"code": "INVALID_TRANSFORMATION", "argument": "transform.width"}
    assert "4096px limit" in error["message"]


def test_transform_dpr_multiplies_past_the_largest_side(client, catalog, nothing_stored):
    query = "{ images { edges { node { url(transform: {width: 1000, dpr: 5}) } } } }"

    error = graphql(client, query)["errors"][0]

    assert error["extensions"]["argument"] == "transform.width"
    assert "dpr 5" in error["message"]


def test_unknown_preset(client, catalog, nothing_stored):
    error = graphql(client, '{ images { edges { node { url(preset: "huge") } } } }')["errors"][0]

    assert error["extensions"] == {"code": "INVALID_TRANSFORMATION", "argument": "preset"}
    assert "no preset named 'huge'" in error["message"]


def test_presets_only_mode_refuses_unnamed_transformations_for_anonymous(
    client, catalog, settings, nothing_stored
):
    settings.CATALOG = {**settings.CATALOG, "ANONYMOUS_PRESETS_ONLY": True}
    query = "{ images { edges { node { url(transform: {width: 10}) } } } }"

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == "PRESETS_ONLY"
    assert "url(preset: ...)" in error["message"]


def test_presets_only_mode_refuses_srcset_for_anonymous(client, catalog, settings):
    settings.CATALOG = {**settings.CATALOG, "ANONYMOUS_PRESETS_ONLY": True}

    error = only_error(graphql(client, "{ images { edges { node { srcset } } } }"))

    assert error["extensions"]["code"] == "PRESETS_ONLY"


def test_presets_only_mode_serves_presets_and_signed_in_users(
    client, catalog, settings, django_user_model
):
    settings.CATALOG = {**settings.CATALOG, "ANONYMOUS_PRESETS_ONLY": True}
    preset = graphql(client, '{ images { edges { node { url(preset: "card") small } } } }')
    client.force_login(django_user_model.objects.create_user("shopper"))
    unnamed = graphql(client, "{ images { edges { node { url(transform: {width: 10}) } } } }")

    assert "tr:n-card" in nodes(preset["data"]["images"])[0]["url"]
    assert "tr:w-10" in nodes(unnamed["data"]["images"])[0]["url"]


def test_snapped_widths_bound_the_renditions(client, settings):
    settings.CATALOG = {**settings.CATALOG, "SNAP_WIDTHS": (100, 480, 1200)}
    stored_image("big", size=(2000, 1000))
    query = """{ images { edges { node {
      a: url(transform: {width: 333}) b: url(transform: {width: 470, height: 235})
      c: url(transform: {height: 90}) d: url(transform: {width: 3000})
      srcset(widths: [90, 95, 400, 1100]) } } } }"""

    (node,) = nodes(graphql(client, query)["data"]["images"])

    assert "tr:w-480/" in node["a"]
    assert "tr:w-480,h-240/" in node["b"]
    assert "tr:h-100/" in node["c"]
    assert "tr:w-1200/" in node["d"]
    assert [entry.rsplit(" ", 1)[1] for entry in node["srcset"].split(", ")] == [
        "100w",
        "480w",
        "1200w",
    ]


def test_filter_with_too_many_values_in_all(client, nothing_stored):
    # Ten lists of a hundred names each stay under the list limit, not under the total.
    branches = [{"name": {"inList": [f"n{i}-{j}" for j in range(100)]}} for i in range(30)]
    query = "query($f: ProductFilter) { products(filters: $f) { totalCount } }"

    error = only_error(graphql(client, query, {"f": {"OR": branches}}))

    assert error["extensions"]["code"] == ErrorCode.INPUT_TOO_LARGE
    assert "GRAPHQL['MAX_INPUT_VALUES']" in error["message"]


def test_filter_string_over_the_length_limit(client, nothing_stored):
    # SQLite refuses LIKE patterns over 50,000 bytes with an error of its own.
    query = "query($s: String) { products(filters: {name: {iContains: $s}}) { totalCount } }"

    error = only_error(graphql(client, query, {"s": "ab" * 500_000}))

    assert error["extensions"]["code"] == ErrorCode.STRING_TOO_LONG
    assert "Query.products(filters.name.iContains) is 1000000 characters" in error["message"]


def test_string_literal_in_the_document_over_the_length_limit(client, nothing_stored):
    # One token, however long: the token limit does not bound it.
    query = f'{{ products(filters: {{name: {{exact: "{"x" * 20_000}"}}}}) {{ totalCount }} }}'

    error = only_error(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.STRING_TOO_LONG


# --- The render budget, checked when the API builds a URL --------------------------------

HEAVY = [{"width": 4000, "height": 4000, "blur": 100}, {"width": 3900, "blur": 100}]


@pytest.fixture
def big_source(db):
    """An image row measured 4000×4000: the budget reads the row, not the file."""
    image = stored_image("big")
    Image.objects.filter(pk=image.pk).update(width=4000, height=4000)
    return image


def test_heavy_chain_over_the_render_budget(client, big_source, nothing_stored):
    body = graphql(client, CHAIN, {"t": HEAVY})

    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RENDER_BUDGET_EXCEEDED"
    assert error["extensions"]["argument"] == "transforms"
    assert error["extensions"]["option"] in ("MAX_RENDER_WORK", "MAX_RENDER_MEMORY")
    assert error["extensions"]["option"] in error["message"]


def test_same_chain_within_the_budget_for_a_small_source(client):
    stored_image("small", size=(64, 48))

    body = graphql(client, CHAIN, {"t": [{"width": 60, "blur": 100}, {"width": 30}]})

    assert "errors" not in body
    assert "tr:w-60,bl-100:w-30/" in nodes(body["data"]["images"])[0]["url"]


def test_budget_refusal_names_the_setting_to_change(client, big_source, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_RENDER_WORK": 1000}
    query = "{ images { edges { node { url(transform: {width: 100}) } } } }"

    (error,) = graphql(client, query)["errors"]

    assert error["extensions"] == {
        "code": "RENDER_BUDGET_EXCEEDED",
        "argument": "transform",
        "option": "MAX_RENDER_WORK",
        "limit": 1000,
    }


def test_srcset_widths_over_the_budget(client, big_source, settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_RENDER_WORK": 1000}

    (error,) = graphql(client, "{ images { edges { node { srcset(widths: [100]) } } } }")["errors"]

    assert (error["extensions"]["code"], error["extensions"]["argument"]) == (
        "RENDER_BUDGET_EXCEEDED",
        "widths",
    )
