"""Who may see and change what: one visibility rule for private images in queries
and mutations alike, permissions on every mutation, tokens, and admin logins."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from strawberry.relay import to_base64

from accounts.models import ApiToken
from catalog.models import Image, Product, ProductImage, ProductVariant
from tests.catalog.factories import stored_image
from tests.conftest import make_image_bytes
from tests.utils import GRAPHQL_URL, graphql, multipart_upload

pytestmark = pytest.mark.django_db

CATALOG_PERMISSIONS = (
    "add_image",
    "change_image",
    "delete_image",
    "change_product",
    "add_productvariant",
)
RESULT = "__typename ... on OperationInfo { messages { field code message } }"


@pytest.fixture
def secret():
    """A private image on a product, as staff would have uploaded it."""
    product = Product.objects.create(name="Lamp", slug="lamp")
    image = stored_image("secret", product=product, is_private=True)
    return image


@pytest.fixture
def editor_client(client, django_user_model):
    """A non-staff user holding every catalog permission."""
    user = django_user_model.objects.create_user("editor-not-staff")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog", codename__in=CATALOG_PERMISSIONS
        )
    )
    client.force_login(user)
    return client


def gid(image: Image) -> str:
    return to_base64("Image", image.pk)


def not_found(result: dict, field: str) -> None:
    assert result["__typename"] == "OperationInfo", result
    (message,) = result["messages"]
    assert (message["field"], message["code"]) == (field, "not_found")
    assert message["message"] == "No image has this ID."


def test_update_private_image_by_non_staff_is_not_found(editor_client, secret, nothing_stored):
    query = f'mutation {{ updateImage(id: "{gid(secret)}", altText: "x") {{ {RESULT} }} }}'

    result = graphql(editor_client, query)["data"]["updateImage"]

    not_found(result, "id")
    secret.refresh_from_db()
    assert secret.alt_text == ""


def test_replace_private_image_file_by_non_staff_is_not_found(
    editor_client, secret, nothing_stored
):
    query = f"""mutation($file: Upload) {{
      updateImage(id: "{gid(secret)}", file: $file) {{ {RESULT} }} }}"""

    response = multipart_upload(editor_client, query, content=make_image_bytes())

    not_found(response.json()["data"]["updateImage"], "id")


def test_delete_private_image_by_non_staff_is_not_found(editor_client, secret, nothing_stored):
    query = f'mutation {{ deleteImage(id: "{gid(secret)}") {{ {RESULT} }} }}'

    not_found(graphql(editor_client, query)["data"]["deleteImage"], "id")


@pytest.fixture
def other():
    return Product.objects.create(name="Desk", slug="desk")


def test_link_private_image_by_non_staff_is_not_found(editor_client, secret, other, nothing_stored):
    query = f"""mutation {{ addProductImages(productId: "{to_base64("Product", other.pk)}",
      imageIds: ["{gid(secret)}"]) {{ {RESULT} }} }}"""

    result = graphql(editor_client, query)["data"]["addProductImages"]

    assert result["messages"][0]["code"] == "not_found"
    assert not ProductImage.objects.filter(product=other).exists()


def test_variant_with_private_image_by_non_staff_is_not_found(
    editor_client, secret, nothing_stored
):
    product = secret.products.get()
    query = f"""mutation {{ createVariant(input: {{productId: "{to_base64("Product", product.pk)}",
      name: "Red", sku: "R-1", price: "1.00", imageId: "{gid(secret)}"}}) {{ {RESULT} }} }}"""

    result = graphql(editor_client, query)["data"]["createVariant"]

    assert (result["messages"][0]["field"], result["messages"][0]["code"]) == (
        "imageId",
        "not_found",
    )
    assert not ProductVariant.objects.exists()


def test_private_image_by_id_for_anonymous_is_null(client, secret):
    body = graphql(
        client, f'{{ image(id: "{gid(secret)}") {{ name }} node(id: "{gid(secret)}") {{ id }} }}'
    )

    assert body["data"] == {"image": None, "node": None}


def test_non_staff_may_not_upload_private_images(editor_client, media_root, nothing_stored):
    query = (
        f"mutation($file: Upload!) {{ uploadImage(file: $file, isPrivate: true) {{ {RESULT} }} }}"
    )

    response = multipart_upload(editor_client, query, content=make_image_bytes())

    (message,) = response.json()["data"]["uploadImage"]["messages"]
    assert (message["field"], message["code"]) == ("isPrivate", "private_not_allowed")
    assert "only staff may upload them" in message["message"]


def test_staff_may_do_all_of_it(client, secret, django_user_model):
    staff = django_user_model.objects.create_user("boss", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=CATALOG_PERMISSIONS))
    client.force_login(staff)
    update = f'mutation {{ updateImage(id: "{gid(secret)}", altText: "x") {{ __typename }} }}'
    delete = f'mutation {{ deleteImage(id: "{gid(secret)}") {{ __typename }} }}'

    assert graphql(client, update)["data"]["updateImage"]["__typename"] == "Image"
    assert graphql(client, delete)["data"]["deleteImage"]["__typename"] == "DeletedNode"
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    "mutation",
    [
        'createProduct(input: {name: "X"})',
        'deleteProduct(id: "UHJvZHVjdDox")',
        'createCategory(input: {name: "X"})',
        'updateImage(id: "SW1hZ2U6MQ==", altText: "x")',
        "imagekitUploadAuth",
        'registerUploadedImage(fileId: "abc")',
    ],
)
def test_every_mutation_needs_a_user(client, mutation, nothing_stored):
    result = graphql(client, f"mutation {{ m: {mutation} {{ {RESULT} }} }}")["data"]["m"]

    assert result["__typename"] == "OperationInfo"
    assert "API token" in result["messages"][0]["message"]


def test_revoked_token_is_refused(client, editor, nothing_stored):
    token, raw = ApiToken.objects.create_token(editor)
    token.delete()

    response = client.post(
        GRAPHQL_URL,
        json.dumps({"query": "{ __typename }"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Invalid or revoked API token."


def test_token_of_an_inactive_user_is_refused(client, editor, nothing_stored):
    _, raw = ApiToken.objects.create_token(editor)
    editor.is_active = False
    editor.save()

    response = client.post(
        GRAPHQL_URL,
        json.dumps({"query": "{ __typename }"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.status_code == 401


def test_admin_login_is_throttled(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user("admin", password="right-pass-1", is_staff=True)

    statuses = [
        client.post("/admin/login/", {"username": "admin", "password": f"wrong-{i}"}).status_code
        for i in range(3)
    ]
    locked = client.post("/admin/login/", {"username": "admin", "password": "right-pass-1"})

    assert statuses == [200, 200, 429]  # the form again, then locked out
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_lockout_is_per_username(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 2
    django_user_model.objects.create_user("other", password="other-pass-1", is_staff=True)
    for i in range(2):
        client.post("/admin/login/", {"username": "attacked", "password": f"wrong-{i}"})

    response = client.post("/admin/login/", {"username": "other", "password": "other-pass-1"})

    assert response.status_code == 302
