"""PlannedOptimizer: the optimizer's hints worked out once per plan and audience.

Through the API, on the catalog's own schema: a repeated query sends exactly the
SQL of its first execution; staff and anonymous viewers never share hints (the
prefetch of a product's images filters private ones for one and not the other);
and graphql-core's executor, which has no plan, optimizes as strawberry-django does.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from config.schema import schema
from query_plans import clear_plans, compat
from query_plans.cache import PLANS
from query_plans.optimizer import PlannedOptimizer, remembering_hints
from tests.catalog.factories import stored_image
from tests.utils import graphql_data, nodes

pytestmark = pytest.mark.django_db

LISTING = """
{ products(first: 5) { edges { node {
    name
    thumbnail { name url(transform: {width: 40}) }
    images { name isPrivate createdBy { username } }
} } } }
"""


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", is_staff=True)


@pytest.fixture
def catalog():
    for index in range(2):
        product = Product.objects.create(name=f"Lamp {index}", slug=f"lamp-{index}")
        stored_image(f"secret-{index}", product=product, is_private=True)
        stored_image(f"public-{index}", product=product)


@pytest.fixture(autouse=True)
def fresh_plans():
    clear_plans()
    yield
    clear_plans()


def run(client) -> tuple[list[dict], list[str]]:
    with CaptureQueriesContext(connection) as captured:
        data = graphql_data(client, LISTING)
    return nodes(data["products"]), [query["sql"] for query in captured]


def image_names(products: list[dict]) -> list[list[str]]:
    return [[image["name"] for image in product["images"]] for product in products]


def walks():
    """Counts the optimizer's walks of a selection (compat.optimizer_hints)."""
    return patch.object(compat, "optimizer_hints", wraps=compat.optimizer_hints)


def test_repeated_query_walks_once_and_sends_the_same_sql(client, catalog):
    with walks() as walk:
        first, first_sql = run(client)
        second, second_sql = run(client)
        third, third_sql = run(client)

    assert walk.call_count == 1
    assert first == second == third
    assert first_sql == second_sql == third_sql  # applying kept hints changes nothing
    assert len(first_sql) == 2  # products, then their visible images with their creators
    assert image_names(first) == [["public-0"], ["public-1"]]
    (plan,) = [plan for plan in PLANS._plans.values() if plan]
    assert list(plan.optimizer_hints) == [(("products",), Product, False)]


def test_staff_and_anonymous_viewers_never_share_hints(client, catalog, staff):
    with walks() as walk:
        anonymous, anonymous_sql = run(client)
        client.force_login(staff)
        for_staff, staff_sql = run(client)
        again_staff, _ = run(client)
        client.logout()
        again_anonymous, again_anonymous_sql = run(client)

    assert walk.call_count == 2  # one per audience, on one plan
    assert image_names(anonymous) == image_names(again_anonymous) == [["public-0"], ["public-1"]]
    assert image_names(for_staff) == image_names(again_staff)
    assert image_names(for_staff) == [["secret-0", "public-0"], ["secret-1", "public-1"]]
    assert [product["thumbnail"]["name"] for product in for_staff] == ["secret-0", "secret-1"]
    assert [product["thumbnail"]["name"] for product in anonymous] == ["public-0", "public-1"]
    assert anonymous_sql == again_anonymous_sql
    assert "is_private" in anonymous_sql[1]
    assert "is_private" not in staff_sql[1]


def test_a_different_selection_is_another_plan_with_its_own_hints(client, catalog):
    with walks() as walk:
        run(client)
        data = graphql_data(client, "{ products(first: 5) { edges { node { name } } } }")

    assert walk.call_count == 2
    assert [product["name"] for product in nodes(data["products"])] == ["Lamp 0", "Lamp 1"]


def test_graphql_cores_executor_keeps_no_hints(client, catalog):
    with (
        patch.object(schema, "execution_context_class", compat.BaseExecutionContext),
        walks() as walk,
        CaptureQueriesContext(connection) as captured,
    ):
        data = graphql_data(client, LISTING)
        graphql_data(client, LISTING)

    assert walk.call_count == 0  # strawberry-django's own optimize, every time
    assert len(captured) == 4
    assert image_names(nodes(data["products"])) == [["public-0"], ["public-1"]]


def test_hints_are_not_kept_unless_the_subclass_says_what_they_depend_on():
    optimizer = PlannedOptimizer()
    hints: dict = {}
    queryset = Product.objects.all()

    with (
        remembering_hints(hints),
        patch.object(compat.DjangoOptimizerExtension, "optimize", return_value=queryset) as stock,
    ):
        assert optimizer.optimize(queryset, info=object()) is queryset

    stock.assert_called_once()
    assert hints == {}
