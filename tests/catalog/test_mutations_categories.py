"""createCategory, updateCategory and deleteCategory."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from catalog.models import Category, Product
from tests.utils import ERROR_FIELDS, auth, errors, gid, run, user_with

pytestmark = pytest.mark.django_db

CATEGORY_FIELDS = "id name slug parent { slug }"

CREATE_CATEGORY = f"""
mutation Create($input: CategoryInput!) {{
  createCategory(input: $input) {{
    __typename ... on Category {{ {CATEGORY_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

UPDATE_CATEGORY = f"""
mutation Update($id: ID!, $input: CategoryPartialInput!) {{
  updateCategory(id: $id, input: $input) {{
    __typename ... on Category {{ {CATEGORY_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

DELETE_CATEGORY = f"""
mutation Delete($id: ID!) {{
  deleteCategory(id: $id) {{ __typename ... on DeletedNode {{ id }} {ERROR_FIELDS} }}
}}
"""

CATEGORY_PERMISSIONS = ("add_category", "change_category", "delete_category")


@pytest.fixture
def headers(django_user_model) -> dict:
    """A user holding every category permission."""
    return auth(user_with(django_user_model, *CATEGORY_PERMISSIONS))


@pytest.fixture
def tree() -> dict[str, Category]:
    """home > lighting > lamps, and garden."""
    home = Category.objects.create(name="Home", slug="home")
    lighting = Category.objects.create(name="Lighting", slug="lighting", parent=home)
    lamps = Category.objects.create(name="Lamps", slug="lamps", parent=lighting)
    garden = Category.objects.create(name="Garden", slug="garden")
    return {"home": home, "lighting": lighting, "lamps": lamps, "garden": garden}


def test_create_category_saves_it_under_its_parent(client, headers, tree):
    result = run(
        client,
        CREATE_CATEGORY,
        {"input": {"name": "Desk Lamps", "slug": "desk", "parentId": gid(tree["lamps"])}},
        headers,
    )

    category = Category.objects.get(slug="desk")
    assert result == {
        "__typename": "Category",
        "id": gid(category),
        "name": "Desk Lamps",
        "slug": "desk",
        "parent": {"slug": "lamps"},
    }
    assert category.parent == tree["lamps"]


def test_create_category_without_slug_slugifies_the_name(client, headers):
    result = run(client, CREATE_CATEGORY, {"input": {"name": "Outdoor Living"}}, headers)

    assert (result["slug"], result["parent"]) == ("outdoor-living", None)
    assert Category.objects.get().slug == "outdoor-living"


def test_create_category_duplicate_slug_is_a_unique_error(client, headers, tree):
    result = run(client, CREATE_CATEGORY, {"input": {"name": "Garden"}}, headers)

    assert errors(result) == [("slug", "unique")]
    assert Category.objects.count() == 4


def test_create_category_unknown_parent_is_not_found(client, headers):
    result = run(
        client,
        CREATE_CATEGORY,
        {"input": {"name": "Lamps", "parentId": to_base64("Category", 999)}},
        headers,
    )

    assert errors(result) == [("parentId", "not_found")]
    assert not Category.objects.exists()


def test_create_category_anonymous_is_refused(client):
    result = run(client, CREATE_CATEGORY, {"input": {"name": "Lamps"}})

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert not Category.objects.exists()


def test_create_category_without_permission_is_refused(client, django_user_model):
    user = user_with(django_user_model, "add_product", "change_category")

    result = run(client, CREATE_CATEGORY, {"input": {"name": "Lamps"}}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert "catalog.add_category" in result["messages"][0]["message"]
    assert not Category.objects.exists()


def test_update_category_moves_it_under_another_parent(client, headers, tree):
    result = run(
        client,
        UPDATE_CATEGORY,
        {"id": gid(tree["lamps"]), "input": {"parentId": gid(tree["garden"])}},
        headers,
    )

    assert (result["name"], result["parent"]) == ("Lamps", {"slug": "garden"})
    tree["lamps"].refresh_from_db()
    assert tree["lamps"].parent == tree["garden"]


def test_update_category_null_parent_id_makes_it_top_level(client, headers, tree):
    result = run(
        client, UPDATE_CATEGORY, {"id": gid(tree["lamps"]), "input": {"parentId": None}}, headers
    )

    assert result["parent"] is None
    tree["lamps"].refresh_from_db()
    assert tree["lamps"].parent is None


@pytest.mark.parametrize("parent", ["home", "lamps"], ids=["itself", "descendant"])
def test_update_category_under_itself_or_a_descendant_is_a_cycle_error(
    client, headers, tree, parent
):
    result = run(
        client,
        UPDATE_CATEGORY,
        {"id": gid(tree["home"]), "input": {"parentId": gid(tree[parent])}},
        headers,
    )

    assert errors(result) == [("parentId", "cycle")]
    tree["home"].refresh_from_db()
    assert tree["home"].parent is None


def test_update_category_slug_taken_is_a_unique_error(client, headers, tree):
    result = run(
        client, UPDATE_CATEGORY, {"id": gid(tree["lamps"]), "input": {"slug": "garden"}}, headers
    )

    assert errors(result) == [("slug", "unique")]


def test_update_category_without_permission_is_refused(client, django_user_model, tree):
    user = user_with(django_user_model, "add_category", "delete_category")

    result = run(
        client, UPDATE_CATEGORY, {"id": gid(tree["lamps"]), "input": {"name": "X"}}, auth(user)
    )

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    tree["lamps"].refresh_from_db()
    assert tree["lamps"].name == "Lamps"


def test_delete_category_leaves_its_products_without_category(client, headers, tree):
    product = Product.objects.create(name="Lamp", slug="lamp", category=tree["lamps"])
    category_id = gid(tree["lamps"])

    result = run(client, DELETE_CATEGORY, {"id": category_id}, headers)

    assert result == {"__typename": "DeletedNode", "id": category_id}
    assert not Category.objects.filter(slug="lamps").exists()
    product.refresh_from_db()
    assert product.category is None


def test_delete_category_with_subcategories_is_protected(client, headers, tree):
    product = Product.objects.create(name="Lamp", slug="lamp", category=tree["lighting"])

    result = run(client, DELETE_CATEGORY, {"id": gid(tree["lighting"])}, headers)

    assert errors(result) == [("id", "protected")]
    assert "subcategor" in result["messages"][0]["message"]
    assert Category.objects.filter(slug="lighting").exists()
    product.refresh_from_db()
    assert product.category == tree["lighting"]


def test_delete_category_unknown_id_is_not_found(client, headers):
    result = run(client, DELETE_CATEGORY, {"id": to_base64("Category", 999)}, headers)

    assert errors(result) == [("id", "not_found")]


def test_delete_category_malformed_id_is_invalid(client, headers):
    result = run(client, DELETE_CATEGORY, {"id": to_base64("Category", "x")}, headers)

    assert errors(result) == [("id", "invalid")]


def test_delete_category_without_permission_is_refused(client, django_user_model, tree):
    user = user_with(django_user_model, "change_category")

    result = run(client, DELETE_CATEGORY, {"id": gid(tree["garden"])}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert Category.objects.filter(slug="garden").exists()
