"""createVariant, updateVariant and deleteVariant."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from catalog.models import Product, ProductVariant
from tests.catalog.factories import product_with_images, stored_image
from tests.utils import ERROR_FIELDS, auth, errors, gid, run, user_with

pytestmark = pytest.mark.django_db

VARIANT_FIELDS = "id name sku price image { name } product { slug }"

CREATE_VARIANT = f"""
mutation Create($input: VariantInput!) {{
  createVariant(input: $input) {{
    __typename ... on ProductVariant {{ {VARIANT_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

UPDATE_VARIANT = f"""
mutation Update($id: ID!, $input: VariantPartialInput!) {{
  updateVariant(id: $id, input: $input) {{
    __typename ... on ProductVariant {{ {VARIANT_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

DELETE_VARIANT = f"""
mutation Delete($id: ID!) {{
  deleteVariant(id: $id) {{ __typename ... on DeletedNode {{ id }} {ERROR_FIELDS} }}
}}
"""

VARIANT_PERMISSIONS = ("add_productvariant", "change_productvariant", "delete_productvariant")


@pytest.fixture
def headers(django_user_model) -> dict:
    """A user holding every variant permission (and no product permission)."""
    return auth(user_with(django_user_model, *VARIANT_PERMISSIONS))


@pytest.fixture
def product() -> Product:
    """Product 1 with images p1-img0 and p1-img1 and variant SKU-1 showing p1-img0."""
    return product_with_images(1, images=2)


def variant_input(product: Product, **fields) -> dict:
    return {"productId": gid(product), "name": "Large", "sku": "L-1", "price": "12.50", **fields}


def test_create_variant_saves_it(client, headers, product):
    result = run(client, CREATE_VARIANT, {"input": variant_input(product)}, headers)

    variant = ProductVariant.objects.get(sku="L-1")
    assert result == {
        "__typename": "ProductVariant",
        "id": gid(variant),
        "name": "Large",
        "sku": "L-1",
        "price": "12.50",
        "image": None,
        "product": {"slug": "product-1"},
    }
    assert (variant.product, variant.price, variant.image) == (product, Decimal("12.50"), None)


def test_create_variant_with_a_product_image_shows_it(client, headers, product):
    image = product.images.get(name="p1-img1")

    result = run(
        client, CREATE_VARIANT, {"input": variant_input(product, imageId=gid(image))}, headers
    )

    assert result["image"] == {"name": "p1-img1"}
    assert ProductVariant.objects.get(sku="L-1").image == image


def test_create_variant_image_of_another_product_is_an_image_id_error(client, headers, product):
    other = stored_image("elsewhere", product=Product.objects.create(name="Chair", slug="c"))

    result = run(
        client, CREATE_VARIANT, {"input": variant_input(product, imageId=gid(other))}, headers
    )

    assert errors(result) == [("imageId", "not_product_image")]
    assert not ProductVariant.objects.filter(sku="L-1").exists()


def test_create_variant_negative_price_is_a_min_value_error(client, headers, product):
    result = run(client, CREATE_VARIANT, {"input": variant_input(product, price="-0.01")}, headers)

    assert errors(result) == [("price", "min_value")]
    assert not ProductVariant.objects.filter(sku="L-1").exists()


def test_create_variant_duplicate_sku_is_a_unique_error(client, headers, product):
    result = run(client, CREATE_VARIANT, {"input": variant_input(product, sku="SKU-1")}, headers)

    assert errors(result) == [("sku", "unique")]
    assert product.variants.count() == 1


def test_create_variant_unknown_product_is_not_found(client, headers, product):
    result = run(
        client,
        CREATE_VARIANT,
        {"input": variant_input(product, productId=to_base64("Product", 999))},
        headers,
    )

    assert errors(result) == [("productId", "not_found")]
    assert not ProductVariant.objects.filter(sku="L-1").exists()


def test_create_variant_image_id_of_another_type_is_invalid(client, headers, product):
    result = run(
        client, CREATE_VARIANT, {"input": variant_input(product, imageId=gid(product))}, headers
    )

    assert errors(result) == [("imageId", "invalid")]


def test_create_variant_anonymous_is_refused(client, product):
    result = run(client, CREATE_VARIANT, {"input": variant_input(product)})

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert not ProductVariant.objects.filter(sku="L-1").exists()


def test_create_variant_without_permission_is_refused(client, django_user_model, product):
    user = user_with(django_user_model, "add_product", "change_productvariant")

    result = run(client, CREATE_VARIANT, {"input": variant_input(product)}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert "catalog.add_productvariant" in result["messages"][0]["message"]
    assert not ProductVariant.objects.filter(sku="L-1").exists()


def test_update_variant_changes_only_given_fields(client, headers, product):
    variant = product.variants.get()

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"price": "0"}}, headers)

    assert (result["price"], result["sku"], result["image"]) == (
        "0.00",
        "SKU-1",
        {"name": "p1-img0"},
    )
    variant.refresh_from_db()
    assert (variant.name, variant.sku, variant.price, variant.image.name) == (
        "Default",
        "SKU-1",
        Decimal("0"),
        "p1-img0",
    )


def test_update_variant_null_image_id_clears_the_image(client, headers, product):
    variant = product.variants.get()

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"imageId": None}}, headers)

    assert result["image"] is None
    variant.refresh_from_db()
    assert variant.image is None


def test_update_variant_image_id_sets_another_product_image(client, headers, product):
    variant = product.variants.get()
    image = product.images.get(name="p1-img1")

    result = run(
        client, UPDATE_VARIANT, {"id": gid(variant), "input": {"imageId": gid(image)}}, headers
    )

    assert result["image"] == {"name": "p1-img1"}
    variant.refresh_from_db()
    assert variant.image == image


def test_update_variant_image_of_another_product_is_an_image_id_error(client, headers, product):
    variant = product.variants.get()
    other = stored_image("elsewhere")

    result = run(
        client, UPDATE_VARIANT, {"id": gid(variant), "input": {"imageId": gid(other)}}, headers
    )

    assert errors(result) == [("imageId", "not_product_image")]
    variant.refresh_from_db()
    assert variant.image.name == "p1-img0"


def test_update_variant_sku_taken_is_a_unique_error(client, headers, product):
    product_with_images(2, images=1)
    variant = product.variants.get()

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"sku": "SKU-2"}}, headers)

    assert errors(result) == [("sku", "unique")]
    variant.refresh_from_db()
    assert variant.sku == "SKU-1"


def test_update_variant_negative_price_is_a_min_value_error(client, headers, product):
    variant = product.variants.get()

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"price": "-5"}}, headers)

    assert errors(result) == [("price", "min_value")]
    variant.refresh_from_db()
    assert variant.price == Decimal("9.99")


def test_update_variant_null_sku_is_a_null_error(client, headers, product):
    variant = product.variants.get()

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"sku": None}}, headers)

    assert errors(result) == [("sku", "null")]


def test_update_variant_product_id_as_id_is_invalid(client, headers, product):
    result = run(client, UPDATE_VARIANT, {"id": gid(product), "input": {"name": "X"}}, headers)

    assert errors(result) == [("id", "invalid")]


def test_update_variant_without_permission_is_refused(client, django_user_model, product):
    variant = product.variants.get()
    user = user_with(django_user_model, "add_productvariant", "change_product")

    result = run(client, UPDATE_VARIANT, {"id": gid(variant), "input": {"name": "X"}}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    variant.refresh_from_db()
    assert variant.name == "Default"


def test_delete_variant_removes_it_and_returns_its_id(client, headers, product):
    variant = product.variants.get()
    variant_id = gid(variant)

    result = run(client, DELETE_VARIANT, {"id": variant_id}, headers)

    assert result == {"__typename": "DeletedNode", "id": variant_id}
    assert not ProductVariant.objects.exists()
    assert product.images.count() == 2


def test_delete_variant_unknown_id_is_not_found(client, headers):
    result = run(client, DELETE_VARIANT, {"id": to_base64("ProductVariant", 999)}, headers)

    assert errors(result) == [("id", "not_found")]


def test_delete_variant_without_permission_is_refused(client, django_user_model, product):
    user = user_with(django_user_model, "delete_product", "change_productvariant")

    result = run(client, DELETE_VARIANT, {"id": gid(product.variants.get())}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert product.variants.count() == 1
