"""The GraphQL API's safety limits (graphql_limits), through /graphql/ and unit by unit."""

from __future__ import annotations

import logging

import pytest
import strawberry
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    build_schema,
    get_introspection_query,
    parse,
)

from catalog.graphql import types as catalog_types
from config.schema import schema
from graphql_limits import (
    DEFAULTS,
    ErrorCode,
    MaskUnexpectedErrors,
    Measure,
    QueryLimits,
    Sizes,
    graphql_settings,
    measure_operation,
)
from graphql_limits.extensions import limit_errors
from tests.catalog.factories import product_with_images, stored_image
from tests.utils import graphql, graphql_data

# What a product listing page asks for: six image sizes, a srcset and the small variant.
STOREFRONT = """
query Storefront($first: Int = 50) {
  products(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name slug
      category { name }
      images { ...Picture }
      variants { sku price image { url(transform: {width: 120}) } }
    } }
  }
}
fragment Picture on Image {
  id altText width height
  xs: url(transform: {width: 160})
  s: url(transform: {width: 320})
  m: url(transform: {width: 640})
  l: url(transform: {width: 960})
  xl: url(transform: {width: 1280})
  xxl: url(transform: {width: 1920})
  srcset small
}
"""

# Lists four deep through ProductVariant.product: 100 x 10 x 10 x 10 images.
NESTED_LISTS = """
{ products(first: 100) { edges { node {
  variants { product { variants { product { images { url } } } } }
} } } }
"""

# Twelve levels: categories, ten parents, name.
DEEP = "{ categories { " + "parent { " * 10 + "name" + " }" * 10 + " } }"

ALIAS_BOMB = "{ " + " ".join(f"a{i}: __typename" for i in range(300)) + " }"

TOKEN_FLOOD = "{ " + "__typename " * 6000 + "}"

INTROSPECTION = "{ __schema { queryType { name } } }"

TYPE_INTROSPECTION = '{ __type(name: "Product") { name } }'

TYPENAME = "{ __typename }"

SRCSET = "{ images(first: 1) { edges { node { srcset } } } }"

BAD_VARIABLE = "query ($n: Int) { products(first: $n) { totalCount } }"


def errors_of(body: dict) -> list[dict]:
    assert body.get("errors"), body
    return body["errors"]


def only_code(body: dict) -> str:
    (error,) = errors_of(body)
    return error["extensions"]["code"]


@pytest.fixture(autouse=True)
def graphql_defaults(settings):
    """The default limits, whatever GRAPHQL_* variables the environment sets."""
    settings.GRAPHQL = dict(DEFAULTS)


@pytest.fixture
def storefront_data(db):
    for index in range(3):
        product_with_images(index, images=2)


# --- Settings ------------------------------------------------------------------


def test_graphql_settings_follow_settings_fixture(settings):
    settings.GRAPHQL = {"MAX_DEPTH": 3}

    assert graphql_settings() == {**DEFAULTS, "MAX_DEPTH": 3}


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"MAX_DEPHT": 3}, "Unknown GRAPHQL option"),
        ({"MAX_DEPTH": 0}, "MAX_DEPTH"),
        ({"MAX_COST": "1000"}, "MAX_COST"),
        ({"DEFAULT_LIST_SIZE": None}, "DEFAULT_LIST_SIZE"),
        ({"MASK_ERRORS": "false"}, "MASK_ERRORS"),
        ({"DEFAULT_PAGE_SIZE": 200}, "DEFAULT_PAGE_SIZE"),
    ],
)
def test_graphql_settings_invalid_raises(settings, overrides, match):
    settings.GRAPHQL = overrides

    with pytest.raises(ImproperlyConfigured, match=match):
        graphql_settings()


# --- Through /graphql/ -----------------------------------------------------------


def test_storefront_query_passes_every_limit(client, storefront_data):
    data = graphql_data(client, STOREFRONT)

    assert data["products"]["totalCount"] == 3
    image = data["products"]["edges"][0]["node"]["images"][0]
    assert {"xs", "s", "m", "l", "xl", "xxl", "srcset", "small"} <= image.keys()


def test_storefront_query_largest_page_passes(client, storefront_data):
    graphql_data(client, STOREFRONT, {"first": 100})


def test_depth_over_limit_refused(client, db):
    body = graphql(client, DEEP)

    (error,) = errors_of(body)
    assert error["extensions"] == {"code": ErrorCode.QUERY_TOO_DEEP, "limit": 10, "value": 12}
    assert error["message"] == "Query is 12 levels deep; the limit is 10 (GRAPHQL['MAX_DEPTH'])."
    assert body["data"] is None


def test_depth_limit_follows_setting(client, settings, storefront_data):
    settings.GRAPHQL = {"MAX_DEPTH": 5}  # the storefront is 6 deep

    assert only_code(graphql(client, STOREFRONT)) == ErrorCode.QUERY_TOO_DEEP


def test_depth_limit_raised_allows_deep_query(client, settings, db):
    settings.GRAPHQL = {"MAX_DEPTH": 12}

    graphql_data(client, DEEP)


def test_alias_bomb_refused(client, db):
    (error,) = errors_of(graphql(client, ALIAS_BOMB))

    assert error["extensions"]["code"] == ErrorCode.TOO_MANY_ALIASES
    assert error["message"] == "Query has 300 aliases; the limit is 40 (GRAPHQL['MAX_ALIASES'])."


def test_alias_limit_follows_setting(client, settings, storefront_data):
    settings.GRAPHQL = {"MAX_ALIASES": 5}  # the storefront has 6

    assert only_code(graphql(client, STOREFRONT)) == ErrorCode.TOO_MANY_ALIASES


def test_token_flood_refused(client, db):
    (error,) = errors_of(graphql(client, TOKEN_FLOOD))

    assert error["extensions"] == {"code": ErrorCode.TOO_MANY_TOKENS, "limit": 5000}
    assert error["message"] == (
        "Query has more than 5000 tokens; the limit is 5000 (GRAPHQL['MAX_TOKENS'])."
    )


def test_token_limit_counts_comments(client, db):
    padded = "{ __typename\n" + "# padding\n" * 6000 + "}"

    assert only_code(graphql(client, padded)) == ErrorCode.TOO_MANY_TOKENS


def test_token_limit_follows_setting(client, settings, storefront_data):
    settings.GRAPHQL = {"MAX_TOKENS": 50}

    assert only_code(graphql(client, STOREFRONT)) == ErrorCode.TOO_MANY_TOKENS


def test_syntax_error_is_not_a_token_error(client, db):
    (error,) = errors_of(graphql(client, "{ products { "))

    assert error["message"].startswith("Syntax Error")
    assert error["extensions"] == {"code": ErrorCode.GRAPHQL_PARSE_FAILED}


def test_nested_lists_refused_as_too_costly(client, db):
    (error,) = errors_of(graphql(client, NESTED_LISTS))

    assert error["extensions"]["code"] == ErrorCode.QUERY_TOO_COSTLY
    assert error["extensions"]["value"] > 20_000
    assert "the limit is 20000 (GRAPHQL['MAX_COST'])" in error["message"]


def test_cost_limit_follows_setting(client, settings, storefront_data):
    settings.GRAPHQL = {"MAX_COST": 5000}  # the storefront costs 9650 at 50 a page

    assert only_code(graphql(client, STOREFRONT)) == ErrorCode.QUERY_TOO_COSTLY
    graphql_data(client, STOREFRONT, {"first": 20})


def test_cost_limit_none_turns_it_off(client, settings, db):
    settings.GRAPHQL = {"MAX_COST": None}

    graphql_data(client, NESTED_LISTS)


def test_introspection_on_by_default(client, db):
    data = graphql_data(client, INTROSPECTION)

    assert data["__schema"]["queryType"]["name"] == "Query"


def test_introspection_graphiql_query_within_limits(client, db):
    # The query GraphiQL sends when it opens must pass every limit and run.
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    document = parse(query, max_tokens=DEFAULTS["MAX_TOKENS"])

    assert limit_errors(schema._schema, document, graphql_settings(), None) == []
    assert graphql_data(client, query)["__schema"]["mutationType"]["name"] == "Mutation"


@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_INTROSPECTION])
def test_introspection_off_refused(client, settings, db, query):
    settings.GRAPHQL = {"INTROSPECTION": False}

    (error,) = errors_of(graphql(client, query))

    assert error["extensions"]["code"] == ErrorCode.INTROSPECTION_DISABLED
    assert "GRAPHQL['INTROSPECTION']" in error["message"]


def test_introspection_off_keeps_typename(client, settings, db):
    settings.GRAPHQL = {"INTROSPECTION": False}

    assert graphql_data(client, TYPENAME) == {"__typename": "Query"}


def test_unexpected_error_masked_and_logged(client, db, monkeypatch, caplog):
    # given a resolver that fails with internals in its message
    stored_image("photo")

    def fail(*args, **kwargs):
        raise RuntimeError("password=hunter2")

    monkeypatch.setattr(catalog_types, "srcset_transformations", fail)

    # when
    with caplog.at_level(logging.ERROR, logger="strawberry.execution"):
        body = graphql(client, SRCSET)

    # then the client reads a generic message, and the log has the traceback
    (error,) = errors_of(body)
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": ErrorCode.INTERNAL_SERVER_ERROR}
    assert "hunter2" not in str(body)
    (record,) = [r for r in caplog.records if r.exc_info]
    assert isinstance(record.exc_info[1], RuntimeError)


def test_unexpected_error_unmasked_when_setting_off(client, settings, db, monkeypatch):
    settings.GRAPHQL = {"MASK_ERRORS": False}
    stored_image("photo")

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(catalog_types, "srcset_transformations", fail)

    (error,) = errors_of(graphql(client, SRCSET))
    assert error["message"] == "boom"


def test_coded_graphql_error_stays_readable(client, db, monkeypatch):
    stored_image("photo")

    def refuse(*args, **kwargs):
        raise GraphQLError("Too many widths.", extensions={"code": "TOO_MANY_WIDTHS"})

    monkeypatch.setattr(catalog_types, "srcset_transformations", refuse)

    (error,) = errors_of(graphql(client, SRCSET))
    assert error["message"] == "Too many widths."
    assert error["extensions"] == {"code": "TOO_MANY_WIDTHS"}


def test_request_errors_stay_readable(client, db):
    (error,) = errors_of(graphql(client, BAD_VARIABLE, {"n": "abc"}))

    assert "Int cannot represent non-integer value" in error["message"]


# --- Masking, on a schema of its own ----------------------------------------------


def _failing_schema(exception: Exception) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def fail(self) -> str:
            raise exception

    return strawberry.Schema(query=Query, extensions=[QueryLimits, MaskUnexpectedErrors])


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (PermissionDenied("You need a permission."), "You need a permission."),
        (ValidationError("Bad width.", code="invalid"), "Bad width."),
        (GraphQLError("Not yours."), "Not yours."),
        (RuntimeError("database password"), "Unexpected error."),
        (KeyError("secret"), "Unexpected error."),
    ],
)
def test_mask_errors_by_exception(exception, message):
    result = _failing_schema(exception).execute_sync("{ fail }")

    (error,) = result.errors
    assert error.message == message


# --- Cost model ------------------------------------------------------------------

SIZES = Sizes(default_page_size=20, max_page_size=100, default_list_size=10)

# The shape of the catalog, with a plain list (`all`) beside the connection.
SDL = """
type Query { products(first: Int, last: Int, after: String): ProductConnection!  all: [Product!]! }
type PageInfo { hasNextPage: Boolean! }
type ProductConnection { pageInfo: PageInfo! edges: [ProductEdge!]! nodes: [Product!]! }
type ProductEdge { cursor: String! node: Product! }
type Product { name: String! images: [Image!]! related(first: Int): ProductConnection! }
type Image { url: String! }
"""
CATALOG = build_schema(SDL)


def measure(query: str, variables: dict | None = None, sizes: Sizes = SIZES) -> Measure:
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return measure_operation(CATALOG, operation, fragments, variables, sizes)


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        # products 50, edges 50 (not multiplied again), node 50, name 50
        ("{ products(first: 50) { edges { node { name } } } }", 200),
        ("{ products(first: 50) { nodes { name } } }", 150),
        # no first: the default page size
        ("{ products { edges { node { name } } } }", 80),
        ("{ products(last: 5) { edges { node { name } } } }", 20),
        # above MAX_PAGE_SIZE: what the connection can return
        ("{ products(first: 500) { edges { node { name } } } }", 400),
        # a plain list: DEFAULT_LIST_SIZE a level
        ("{ all { images { url } } }", 10 + 100 + 100),
        # 3 aliased urls below 50 products x 10 images: 50 + 50 + 50 + 500 + 3 * 500
        ("{ products(first: 50) { edges { node { images { a: url b: url c: url } } } } }", 2150),
        ("{ products(first: 10) { pageInfo { hasNextPage } } }", 30),
    ],
)
def test_measure_cost(query, cost):
    assert measure(query).cost == cost


def test_measure_cost_nested_connections_multiply():
    query = """
    { products(first: 10) { edges { node { related(first: 5) { edges { node { name } } } } } } }
    """

    # products 10, edges 10, node 10, related 50, edges 50, node 50, name 50
    assert measure(query).cost == 230


def test_measure_first_from_variable_and_default():
    query = "query ($n: Int = 40) { products(first: $n) { nodes { name } } }"

    assert measure(query).cost == 120
    assert measure(query, {"n": 10}).cost == 30
    assert measure(query, {"n": None}).cost == 60  # null: the default page size


def test_measure_named_and_inline_fragments_count_like_fields():
    inline = "{ products(first: 10) { nodes { ... on Product { images { url } } } } }"
    named = """
    { products(first: 10) { nodes { ...Pictures } } }
    fragment Pictures on Product { images { url } }
    """

    assert (
        measure(inline)
        == measure(named)
        == Measure(depth=4, aliases=0, cost=220, input_depth=1, input_values=1)
    )


def test_measure_fragment_spread_twice_counts_twice():
    query = """
    { all { a: images { ...U } b: images { ...U } } }
    fragment U on Image { small: url big: url }
    """

    assert measure(query) == Measure(depth=3, aliases=6, cost=10 + 2 * (100 + 200))


def test_measure_fragment_chain_is_measured_once_per_fragment():
    # Each fragment spreads the next one twice: 2**60 expansions if walked naively.
    chain = "\n".join(f"fragment F{i} on Image {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    query = "{ all { images { ...F0 } } }\n" + chain + "\nfragment F60 on Image { url }"

    assert measure(query).cost == 10 + 100 + 100 * 2**60


def test_measure_ignores_unknown_fields_and_fragment_cycles():
    query = """
    { all { nope { deeper } ...A } }
    fragment A on Product { ...B }
    fragment B on Product { ...A name }
    """

    assert measure(query) == Measure(depth=2, aliases=0, cost=10 + 10)


def test_measure_introspection_adds_aliases_only():
    query = "{ __schema { t: types { name } } x: __typename }"

    assert measure(query) == Measure(depth=0, aliases=2, cost=0)
