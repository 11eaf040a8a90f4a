"""Plans against graphql-core's executor, on a schema made of the hard cases.

Each document runs through DifferentialExecutionContext: the plan, then
graphql-core's executor, compared (data as JSON text, errors with message, path,
locations, extensions and exception type). The tests also check that a plan ran,
and that what plans do not cover ran through graphql-core alone.
"""

from __future__ import annotations

import asyncio

import pytest
from graphql import parse
from graphql.execution import Executor as GraphQLExecutor

from query_plans import clear_plans, plan_cache_info
from query_plans.differential import COUNTS, take_mismatches
from query_plans.planner import Planner, Unsupported
from tests.query_plans.schema import schema

pytestmark = pytest.mark.django_db

NON_NULL_PROPAGATION = """
{ items { id nonNullBoom child { name nullableBoom } } }
"""
NULL_IN_NULLABLE_LIST = "{ itemsWithNull { id name } }"
NULL_IN_NON_NULL_LIST = "{ strictItemsWithNull { id } items { id } }"
NON_NULL_NONE = "{ items { id nonNullNone } }"
ERRORS_AND_VALUES = """
{ items { id nullableBoom returnedError big wrongType } notAList matrix }
"""
ALIASES_AND_FRAGMENTS = """
query Pets {
  first: items { ...Fields alias: name }
  items { id child { ...Fields strictChild { id } } }
  pets { __typename ... on Cat { name lives } ... on Dog { name good } }
  named { __typename name ... on Dog { good } }
}
fragment Fields on Item { id name }
"""
DIRECTIVES = """
query Directives($yes: Boolean!, $no: Boolean = false) {
  items {
    id @skip(if: $yes)
    name @include(if: $yes)
    child @include(if: $no) { id }
    ... @skip(if: $no) { strictChild { id } }
  }
}
"""
ARGUMENTS = """
query Arguments($number: Int, $box: Box, $numbers: [Int!]) {
  literal: echo(text: "a", number: 1, numbers: [1, 2], box: {width: 3, colour: BLUE})
  variables: echo(number: $number, box: $box, numbers: $numbers)
  again: echo(numbers: [1, 2])
  enum: echo(colour: RED)
  defaults: echo
}
"""
ROOT_NON_NULL = "{ items { id strictChild { nonNullNone } } wrongObject { name } }"


def run(document: str, variables: dict | None = None, operation: str | None = None):
    take_mismatches()
    compared = COUNTS["compared"]
    result = schema.execute_sync(document, variables, operation_name=operation)
    assert take_mismatches() == []
    return result, COUNTS["compared"] - compared


@pytest.mark.parametrize(
    "document",
    [
        NON_NULL_PROPAGATION,
        NULL_IN_NULLABLE_LIST,
        NULL_IN_NON_NULL_LIST,
        NON_NULL_NONE,
        ERRORS_AND_VALUES,
        ALIASES_AND_FRAGMENTS,
        ROOT_NON_NULL,
    ],
    ids=[
        "non-null propagation",
        "null in nullable list",
        "null in non-null list",
        "non-null returns None",
        "errors and values",
        "aliases fragments abstract types",
        "root non-null",
    ],
)
def test_plan_matches_graphql_core(document):
    result, compared = run(document)
    assert compared == 1
    assert result.errors or "Boom" not in document


def test_plan_errors_have_paths_and_locations():
    result, _ = run(NON_NULL_PROPAGATION)
    # The non-null error of item 2 nulls that item: the list is non-null, so the
    # whole `items` is null, and the data with it.
    assert result.data is None
    paths = [error.path for error in result.errors]
    assert ["items", 1, "nonNullBoom"] in paths
    assert all(error.locations for error in result.errors)


@pytest.mark.parametrize(
    "variables", [{"yes": True}, {"yes": False}, {"yes": True, "no": True}], ids=str
)
def test_plan_matches_graphql_core_with_directives(variables):
    result, compared = run(DIRECTIVES, variables)
    assert compared == 1
    assert not result.errors


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"number": 7, "box": {"width": 1, "height": 2}, "numbers": [4]},
        {"number": None, "box": None, "numbers": None},
    ],
    ids=["none", "values", "nulls"],
)
def test_plan_converts_arguments_like_strawberry(variables):
    result, _ = run(ARGUMENTS, variables)
    assert not result.errors
    # Each call gets its own list, as strawberry gives it: the resolver's append
    # does not leak into the next call or request.
    result, _ = run(ARGUMENTS, variables)
    assert result.data["again"] == "default None [1, 2, -1] None None"


def test_plan_cache_hits_on_the_same_document_and_variables():
    clear_plans()
    run(DIRECTIVES, {"yes": True})
    run(DIRECTIVES, {"yes": True})
    run(DIRECTIVES, {"yes": False})
    info = plan_cache_info()
    assert (info.hits, info.misses, info.size) == (1, 2, 2)


def test_mutation_runs_through_graphql_core():
    result, compared = run("mutation { touch }")
    assert compared == 0
    assert result.data == {"touch": 1}


def test_field_with_a_permission_extension_runs_through_graphql_core():
    result, compared = run("{ guarded items { id } }")
    assert compared == 0
    assert result.errors[0].message == "Denied."


def test_async_field_is_not_planned():
    built = GraphQLExecutor.build(schema._schema, parse("{ items { id } slow }"))
    with pytest.raises(Unsupported, match=r"async field Query\.slow"):
        Planner(built).build()


def test_operation_in_an_event_loop_runs_through_graphql_core():
    async def execute():
        return await schema.execute("{ items { id } }")

    compared = COUNTS["compared"]
    result = asyncio.run(execute())
    assert result.data == {"items": [{"id": 1}, {"id": 2}, {"id": 3}]}
    assert COUNTS["compared"] == compared
