"""createProduct, updateProduct, deleteProduct and the product-image link mutations."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from catalog.models import Category, Image, Product, ProductImage, ProductVariant
from tests.catalog.factories import product_with_images, stored_image
from tests.utils import ERROR_FIELDS, auth, errors, gid, run, user_with

pytestmark = pytest.mark.django_db

PRODUCT_FIELDS = "id name slug summary description category { slug } images { name }"

CREATE_PRODUCT = f"""
mutation Create($input: ProductInput!) {{
  createProduct(input: $input) {{ __typename ... on Product {{ {PRODUCT_FIELDS} }} {ERROR_FIELDS} }}
}}
"""

UPDATE_PRODUCT = f"""
mutation Update($id: ID!, $input: ProductPartialInput!) {{
  updateProduct(id: $id, input: $input) {{
    __typename ... on Product {{ {PRODUCT_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

DELETE_PRODUCT = f"""
mutation Delete($id: ID!) {{
  deleteProduct(id: $id) {{ __typename ... on DeletedNode {{ id }} {ERROR_FIELDS} }}
}}
"""

ADD_PRODUCT_IMAGES = f"""
mutation Add($productId: ID!, $imageIds: [ID!]!) {{
  addProductImages(productId: $productId, imageIds: $imageIds) {{
    __typename ... on Product {{ {PRODUCT_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

REORDER_PRODUCT_IMAGES = f"""
mutation Reorder($productId: ID!, $imageIds: [ID!]!) {{
  reorderProductImages(productId: $productId, imageIds: $imageIds) {{
    __typename ... on Product {{ {PRODUCT_FIELDS} }} {ERROR_FIELDS}
  }}
}}
"""

REMOVE_PRODUCT_IMAGE = f"""
mutation Remove($productId: ID!, $imageId: ID!) {{
  removeProductImage(productId: $productId, imageId: $imageId) {{
    __typename ... on Product {{ {PRODUCT_FIELDS} variants {{ sku image {{ name }} }} }}
    {ERROR_FIELDS}
  }}
}}
"""

PRODUCT_PERMISSIONS = ("add_product", "change_product", "delete_product")


def image_names(product: Product) -> list[str]:
    return [link.image.name for link in product.product_images.select_related("image")]


@pytest.fixture
def manager(django_user_model):
    """A user holding every product permission."""
    return user_with(django_user_model, *PRODUCT_PERMISSIONS)


@pytest.fixture
def headers(manager) -> dict:
    return auth(manager)


def test_create_product_saves_it_with_its_creator(client, manager, headers):
    category = Category.objects.create(name="Lights", slug="lights")
    description = {"blocks": [{"type": "paragraph", "data": {"text": "Warm."}}]}

    result = run(
        client,
        CREATE_PRODUCT,
        {
            "input": {
                "name": "Desk Lamp",
                "slug": "lamp",
                "summary": "A lamp",
                "description": description,
                "categoryId": gid(category),
            }
        },
        headers,
    )

    product = Product.objects.get()
    assert result == {
        "__typename": "Product",
        "id": gid(product),
        "name": "Desk Lamp",
        "slug": "lamp",
        "summary": "A lamp",
        "description": description,
        "category": {"slug": "lights"},
        "images": [],
    }
    assert (product.created_by, product.category, product.description) == (
        manager,
        category,
        description,
    )


def test_create_product_without_slug_slugifies_the_name(client, headers):
    result = run(client, CREATE_PRODUCT, {"input": {"name": "Big Red Chair!"}}, headers)

    assert result["slug"] == "big-red-chair"
    assert Product.objects.get().slug == "big-red-chair"


def test_create_product_duplicate_slug_is_a_unique_error(client, headers):
    Product.objects.create(name="Lamp", slug="lamp")

    result = run(client, CREATE_PRODUCT, {"input": {"name": "Lamp"}}, headers)

    assert errors(result) == [("slug", "unique")]
    assert Product.objects.count() == 1


def test_create_product_slug_taken_after_validation_is_a_unique_error(client, headers, monkeypatch):
    # Given a concurrent insert between full_clean() and save(): the first unique
    # check passes, the insert hits the constraint.
    Product.objects.create(name="Lamp", slug="lamp")
    real_validate_unique = Product.validate_unique
    calls = []

    def validate_unique_after_race(self, exclude=None):
        calls.append(exclude)
        if len(calls) > 1:
            real_validate_unique(self, exclude)

    monkeypatch.setattr(Product, "validate_unique", validate_unique_after_race)

    result = run(client, CREATE_PRODUCT, {"input": {"name": "Lamp"}}, headers)

    assert errors(result) == [("slug", "unique")]
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    "description",
    [
        ["not", "an", "object"],
        {"blocks": "text"},
        {"blocks": [{"data": {}}]},
    ],
    ids=["list", "blocks-not-a-list", "block-without-type"],
)
def test_create_product_bad_description_is_an_invalid_field(client, headers, description):
    result = run(
        client, CREATE_PRODUCT, {"input": {"name": "Lamp", "description": description}}, headers
    )

    assert errors(result) == [("description", "invalid")]
    assert not Product.objects.exists()


def test_create_product_unknown_category_is_not_found(client, headers):
    result = run(
        client,
        CREATE_PRODUCT,
        {"input": {"name": "Lamp", "categoryId": to_base64("Category", 999)}},
        headers,
    )

    assert errors(result) == [("categoryId", "not_found")]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "category_id",
    [to_base64("Product", 1), to_base64("Category", "abc")],
    ids=["other-type", "malformed-key"],
)
def test_create_product_bad_category_id_is_invalid(client, headers, category_id):
    result = run(
        client, CREATE_PRODUCT, {"input": {"name": "Lamp", "categoryId": category_id}}, headers
    )

    assert errors(result) == [("categoryId", "invalid")]
    assert not Product.objects.exists()


def test_create_product_anonymous_is_refused(client):
    result = run(client, CREATE_PRODUCT, {"input": {"name": "Lamp"}})

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert not Product.objects.exists()


def test_create_product_without_permission_is_refused(client, django_user_model):
    user = user_with(django_user_model, "change_product", "delete_product")

    result = run(client, CREATE_PRODUCT, {"input": {"name": "Lamp"}}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert "catalog.add_product" in result["messages"][0]["message"]
    assert not Product.objects.exists()


def test_update_product_changes_only_given_fields(client, headers):
    category = Category.objects.create(name="Lights", slug="lights")
    product = Product.objects.create(
        name="Lamp", slug="lamp", summary="Old", description={"blocks": []}, category=category
    )

    result = run(client, UPDATE_PRODUCT, {"id": gid(product), "input": {"summary": "New"}}, headers)

    assert (result["summary"], result["name"], result["category"]) == (
        "New",
        "Lamp",
        {"slug": "lights"},
    )
    product.refresh_from_db()
    assert (product.name, product.slug, product.summary, product.category) == (
        "Lamp",
        "lamp",
        "New",
        category,
    )


def test_update_product_null_category_id_clears_category(client, headers):
    category = Category.objects.create(name="Lights", slug="lights")
    product = Product.objects.create(name="Lamp", slug="lamp", category=category)

    result = run(
        client, UPDATE_PRODUCT, {"id": gid(product), "input": {"categoryId": None}}, headers
    )

    assert result["category"] is None
    product.refresh_from_db()
    assert product.category is None


@pytest.mark.parametrize("field", ["name", "summary", "description"])
def test_update_product_null_for_a_required_column_is_a_null_error(client, headers, field):
    product = Product.objects.create(name="Lamp", slug="lamp", summary="Kept")

    result = run(client, UPDATE_PRODUCT, {"id": gid(product), "input": {field: None}}, headers)

    assert errors(result) == [(field, "null")]
    product.refresh_from_db()
    assert (product.name, product.summary) == ("Lamp", "Kept")


def test_update_product_slug_taken_is_a_unique_error(client, headers):
    Product.objects.create(name="Chair", slug="chair")
    product = Product.objects.create(name="Lamp", slug="lamp")

    result = run(client, UPDATE_PRODUCT, {"id": gid(product), "input": {"slug": "chair"}}, headers)

    assert errors(result) == [("slug", "unique")]
    product.refresh_from_db()
    assert product.slug == "lamp"


def test_update_product_unknown_id_is_not_found(client, headers):
    result = run(
        client,
        UPDATE_PRODUCT,
        {"id": to_base64("Product", 999), "input": {"name": "X"}},
        headers,
    )

    assert errors(result) == [("id", "not_found")]


def test_update_product_without_permission_is_refused(client, django_user_model):
    product = Product.objects.create(name="Lamp", slug="lamp")
    user = user_with(django_user_model, "add_product")

    result = run(client, UPDATE_PRODUCT, {"id": gid(product), "input": {"name": "X"}}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    product.refresh_from_db()
    assert product.name == "Lamp"


def test_delete_product_returns_its_id_and_keeps_its_images(client, headers):
    product = product_with_images(1, images=2)
    product_id = gid(product)

    result = run(client, DELETE_PRODUCT, {"id": product_id}, headers)

    assert result == {"__typename": "DeletedNode", "id": product_id}
    assert not Product.objects.exists()
    assert not ProductVariant.objects.exists()
    assert not ProductImage.objects.exists()
    assert Image.objects.count() == 2


def test_delete_product_wrong_type_id_is_invalid(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    category = Category.objects.create(name="Lights", slug="lights")

    result = run(client, DELETE_PRODUCT, {"id": gid(category)}, headers)

    assert errors(result) == [("id", "invalid")]
    assert Product.objects.filter(pk=product.pk).exists()


def test_delete_product_without_permission_is_refused(client, django_user_model):
    product = Product.objects.create(name="Lamp", slug="lamp")
    user = user_with(django_user_model, "add_product", "change_product")

    result = run(client, DELETE_PRODUCT, {"id": gid(product)}, auth(user))

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert Product.objects.filter(pk=product.pk).exists()


def test_add_product_images_appends_after_existing_ones(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    stored_image("first", product=product)
    second, third = stored_image("second"), stored_image("third")

    result = run(
        client,
        ADD_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(second), gid(third)]},
        headers,
    )

    assert [i["name"] for i in result["images"]] == ["first", "second", "third"]
    assert image_names(product) == ["first", "second", "third"]


def test_add_product_images_skips_images_already_linked(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    first, second = stored_image("first", product=product), stored_image("second")

    result = run(
        client,
        ADD_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(second), gid(first), gid(second)]},
        headers,
    )

    assert [i["name"] for i in result["images"]] == ["first", "second"]
    assert image_names(product) == ["first", "second"]


def test_add_product_images_unknown_image_adds_none(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    image = stored_image("photo")
    unknown = to_base64("Image", "00000000-0000-0000-0000-000000000000")

    result = run(
        client,
        ADD_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(image), unknown]},
        headers,
    )

    assert errors(result) == [("imageIds", "not_found")]
    assert not product.product_images.exists()


def test_add_product_images_unknown_product_is_not_found(client, headers):
    image = stored_image("photo")

    result = run(
        client,
        ADD_PRODUCT_IMAGES,
        {"productId": to_base64("Product", 999), "imageIds": [gid(image)]},
        headers,
    )

    assert errors(result) == [("productId", "not_found")]


def test_add_product_images_without_change_permission_is_refused(client, django_user_model):
    product = Product.objects.create(name="Lamp", slug="lamp")
    image = stored_image("photo")
    user = user_with(django_user_model, "add_product", "add_image")

    result = run(
        client,
        ADD_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(image)]},
        auth(user),
    )

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert not product.product_images.exists()


def test_reorder_product_images_sets_the_given_order(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    a, b, c = (stored_image(name, product=product) for name in "abc")

    result = run(
        client,
        REORDER_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(c), gid(a), gid(b)]},
        headers,
    )

    assert [i["name"] for i in result["images"]] == ["c", "a", "b"]
    assert image_names(product) == ["c", "a", "b"]
    assert [link.sort_order for link in product.product_images.all()] == [0, 1, 2]


@pytest.mark.parametrize(
    "order",
    [["a"], ["a", "b", "b"], ["a", "b", "other"], ["a", "a"], ["b", "other"]],
    ids=["missing", "duplicate-extra", "foreign-image", "duplicate-instead", "foreign-instead"],
)
def test_reorder_product_images_not_a_permutation_is_invalid_order(client, headers, order):
    product = Product.objects.create(name="Lamp", slug="lamp")
    images = {name: stored_image(name, product=product) for name in "ab"}
    images["other"] = stored_image("other")

    result = run(
        client,
        REORDER_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(images[name]) for name in order]},
        headers,
    )

    assert errors(result) == [("imageIds", "invalid_order")]
    assert image_names(product) == ["a", "b"]


def test_reorder_product_images_wrong_type_id_is_invalid(client, headers):
    product = product_with_images(1, images=1)

    result = run(
        client,
        REORDER_PRODUCT_IMAGES,
        {"productId": gid(product), "imageIds": [gid(product)]},
        headers,
    )

    assert errors(result) == [("imageIds", "invalid")]


def test_remove_product_image_unlinks_it_and_keeps_the_image(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    front, side = stored_image("front", product=product), stored_image("side", product=product)

    result = run(
        client, REMOVE_PRODUCT_IMAGE, {"productId": gid(product), "imageId": gid(front)}, headers
    )

    assert [i["name"] for i in result["images"]] == ["side"]
    assert image_names(product) == ["side"]
    assert Image.objects.filter(pk=front.pk).exists()
    assert side.pk in {i.pk for i in product.images.all()}


def test_remove_product_image_clears_variant_image(client, headers):
    product = product_with_images(1, images=2)  # its variant shows the first image
    variant = product.variants.get()
    first = variant.image

    result = run(
        client, REMOVE_PRODUCT_IMAGE, {"productId": gid(product), "imageId": gid(first)}, headers
    )

    assert result["variants"] == [{"sku": "SKU-1", "image": None}]
    variant.refresh_from_db()
    assert variant.image is None


def test_remove_product_image_keeps_other_products_variant_images(client, headers):
    shared = stored_image("shared")
    lamp, chair = (Product.objects.create(name=n, slug=n) for n in ("lamp", "chair"))
    for product in (lamp, chair):
        product.append_image(shared)
    chair_variant = ProductVariant.objects.create(
        product=chair, name="Default", sku="CHAIR", price="1.00", image=shared
    )

    run(client, REMOVE_PRODUCT_IMAGE, {"productId": gid(lamp), "imageId": gid(shared)}, headers)

    chair_variant.refresh_from_db()
    assert chair_variant.image == shared
    assert image_names(chair) == ["shared"]


def test_remove_product_image_not_linked_is_a_field_error(client, headers):
    product = Product.objects.create(name="Lamp", slug="lamp")
    image = stored_image("elsewhere")

    result = run(
        client, REMOVE_PRODUCT_IMAGE, {"productId": gid(product), "imageId": gid(image)}, headers
    )

    assert errors(result) == [("imageId", "not_product_image")]


def test_remove_product_image_anonymous_is_refused(client):
    product = product_with_images(1, images=1)
    image = product.images.get()

    result = run(client, REMOVE_PRODUCT_IMAGE, {"productId": gid(product), "imageId": gid(image)})

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
    assert product.product_images.count() == 1
