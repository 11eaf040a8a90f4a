"""updateImage, deleteImage, the ImageKit direct-upload flow, and private images."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from strawberry.relay import to_base64

from accounts.models import ApiToken
from catalog.conf import catalog_setting
from catalog.models import Image, Product
from tests.catalog.factories import stored_image
from tests.conftest import make_image_bytes
from tests.utils import (
    GRAPHQL_URL,
    UPLOAD_AUTH_SELECTION,
    browser_upload,
    graphql,
    graphql_data,
    nodes,
)

pytestmark = pytest.mark.django_db

UPDATE_IMAGE = """
mutation Update($id: ID!, $altText: String, $name: String, $file: Upload) {
  updateImage(id: $id, altText: $altText, name: $name, file: $file) {
    __typename
    ... on Image { id name altText width height placeholder { blurhash dominantColor } }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""

DELETE_IMAGE = """
mutation Delete($id: ID!) {
  deleteImage(id: $id) {
    __typename
    ... on DeletedNode { id }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""

UPLOAD_AUTH = f"""
mutation Auth($fileName: String) {{ imagekitUploadAuth(fileName: $fileName) {{
  __typename
  ... on ImageUploadAuth {{ {UPLOAD_AUTH_SELECTION} }}
  ... on OperationInfo {{ messages {{ kind field code message }} }}
}} }}
"""

REGISTER = """
mutation Register($fileId: String!, $productId: ID) {
  registerUploadedImage(fileId: $fileId, altText: "Direct", productId: $productId) {
    __typename
    ... on Image { id name altText width height url small placeholder { dominantColor } }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("staff", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_image", "change_image", "delete_image"])
    )
    return user


@pytest.fixture
def auth(staff) -> dict:
    return {"Authorization": f"Bearer {ApiToken.objects.create_token(staff)[1]}"}


def gid(image: Image) -> str:
    return to_base64("Image", image.pk)


def stored(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def multipart(client, query: str, variables: dict, content: bytes, **headers):
    operations = {"query": query, "variables": {**variables, "file": None}}
    return client.post(
        GRAPHQL_URL,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
            "0": SimpleUploadedFile("new.png", content, content_type="image/png"),
        },
        headers=headers,
    ).json()


# --- updateImage ---------------------------------------------------------------


def test_update_image_changes_alt_text_and_name(client, auth):
    image = stored_image("old")

    data = graphql_data(
        client, UPDATE_IMAGE, {"id": gid(image), "altText": "New alt", "name": "new"}, **auth
    )

    assert data["updateImage"]["altText"] == "New alt"
    image.refresh_from_db()
    assert (image.name, image.alt_text) == ("new", "New alt")


@pytest.mark.django_db(transaction=True)
def test_update_image_new_file_replaces_files_and_placeholder(client, auth, media_root):
    image = stored_image("photo", size=(64, 48))
    old_names = set(image.stored_names())
    old_placeholder = (image.blurhash, image.dominant_color)

    body = multipart(
        client,
        UPDATE_IMAGE,
        {"id": gid(image)},
        make_image_bytes((200, 100), fmt="PNG", color="#ff0000"),
        **auth,
    )

    result = body["data"]["updateImage"]
    assert (result["width"], result["height"]) == (200, 100)
    assert result["placeholder"]["dominantColor"] == "#ff0000"
    image.refresh_from_db()
    assert (image.blurhash, image.dominant_color) != old_placeholder
    assert image.image.name.startswith(f"images/{image.id.hex}-")
    assert image.image.name.endswith(".png")
    assert stored(media_root) == set(image.stored_names())
    assert not old_names & stored(media_root)


def test_update_image_bad_file_keeps_the_old_one(client, auth, media_root):
    image = stored_image("photo")
    before = stored(media_root)

    body = multipart(client, UPDATE_IMAGE, {"id": gid(image)}, b"not an image", **auth)

    messages = body["data"]["updateImage"]["messages"]
    assert [(m["field"], m["code"]) for m in messages] == [("file", "invalid_image")]
    assert stored(media_root) == before


def test_update_image_needs_change_permission(client, editor_token):
    image = stored_image("photo")

    data = graphql_data(
        client,
        UPDATE_IMAGE,
        {"id": gid(image), "altText": "x"},
        Authorization=f"Bearer {editor_token}",
    )

    assert data["updateImage"]["messages"][0]["kind"] == "PERMISSION"
    image.refresh_from_db()
    assert image.alt_text == ""


def test_update_image_unknown_id_is_a_field_error(client, auth):
    data = graphql_data(
        client, UPDATE_IMAGE, {"id": to_base64("Image", "0" * 32), "altText": "x"}, **auth
    )

    assert [(m["field"], m["code"]) for m in data["updateImage"]["messages"]] == [
        ("id", "not_found")
    ]


# --- deleteImage ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delete_image_removes_row_and_files(client, auth, media_root):
    image = stored_image("photo")
    product = Product.objects.create(name="Lamp", slug="lamp")
    product.append_image(image)

    data = graphql_data(client, DELETE_IMAGE, {"id": gid(image)}, **auth)

    assert data["deleteImage"] == {"__typename": "DeletedNode", "id": gid(image)}
    assert not Image.objects.exists()
    assert product.images.count() == 0
    assert stored(media_root) == set()


def test_delete_image_anonymous_is_refused(client, media_root):
    image = stored_image("photo")

    data = graphql_data(client, DELETE_IMAGE, {"id": gid(image)})

    assert data["deleteImage"]["messages"][0]["kind"] == "PERMISSION"
    assert Image.objects.filter(pk=image.pk).exists()


# --- Private images ------------------------------------------------------------


PRIVATE_LISTING = """
{ products { edges { node { images { name isPrivate url } thumbnail { name } } } } }
"""


def test_private_images_are_hidden_from_the_public(client, staff):
    product = Product.objects.create(name="Lamp", slug="lamp")
    stored_image("public", product=product)
    secret = stored_image("secret", product=product, is_private=True)

    public = nodes(graphql_data(client, PRIVATE_LISTING)["products"])[0]
    client.force_login(staff)
    for_staff = nodes(graphql_data(client, PRIVATE_LISTING)["products"])[0]

    assert [i["name"] for i in public["images"]] == ["public"]
    assert [i["name"] for i in for_staff["images"]] == ["public", "secret"]
    private_url = for_staff["images"][1]["url"]
    assert secret.image.name.startswith("private/images/")
    assert "ik-t=" in private_url
    assert "ik-s=" in private_url


def test_private_original_needs_its_signature(client, staff):
    secret = stored_image("secret", is_private=True)
    client.force_login(staff)
    data = graphql_data(client, "{ images { edges { node { url } } } }")
    url = nodes(data["images"])[0]["url"].removeprefix("http://127.0.0.1:8000")

    assert client.get(url).status_code == 200
    assert client.get(url.split("?")[0]).status_code == 403
    assert client.get(f"/media/{secret.image.name}").status_code == 403


# --- Direct uploads to ImageKit ------------------------------------------------


def test_upload_auth_without_imagekit_is_a_clear_error(client, auth):
    data = graphql_data(client, UPLOAD_AUTH, **auth)

    (message,) = data["imagekitUploadAuth"]["messages"]
    assert message["code"] == "imagekit_not_configured"
    assert "IMAGEKIT_PRIVATE_KEY" in message["message"]


def direct_upload(client, auth, content: bytes, file_name: str = "photo.jpg") -> dict:
    """imagekitUploadAuth, then the browser's POST to ImageKit; ImageKit's answer."""
    params = graphql_data(client, UPLOAD_AUTH, {"fileName": file_name}, **auth)
    response = browser_upload(params["imagekitUploadAuth"], content, filename=file_name)
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_auth_binds_a_server_chosen_name_and_the_upload_folder(client, auth, imagekit):
    data = graphql_data(client, UPLOAD_AUTH, {"fileName": "Holiday Photo.PNG"}, **auth)

    params = data["imagekitUploadAuth"]
    assert params["uploadUrl"] == f"{imagekit.url}/api/v2/files/upload"
    assert params["publicKey"] == "public_test_key"
    assert params["folder"] == "/catalog/uploads/"
    stem, extension = params["fileName"].rsplit(".", 1)
    assert (len(stem), int(stem, 16) >= 0, extension) == (32, True, "png")
    assert (params["useUniqueFileName"], params["overwriteFile"]) == ("false", "false")
    assert f'"file.size" <= {catalog_setting("MAX_UPLOAD_BYTES")}' in params["checks"]
    assert '"file.mime" IN ["image/jpeg"' in params["checks"]
    fields = {field["name"]: field["value"] for field in params["formFields"]}
    assert fields == {
        "fileName": params["fileName"],
        "folder": params["folder"],
        "useUniqueFileName": "false",
        "overwriteFile": "false",
        "checks": params["checks"],
        "token": params["token"],
    }


def test_upload_auth_gives_each_upload_its_own_name(client, auth, imagekit):
    names = {
        graphql_data(client, UPLOAD_AUTH, **auth)["imagekitUploadAuth"]["fileName"]
        for _ in range(3)
    }

    assert len(names) == 3
    assert all(name.endswith(".jpg") for name in names)


def test_upload_auth_refuses_a_file_name_that_is_not_an_image(client, auth, imagekit):
    data = graphql_data(client, UPLOAD_AUTH, {"fileName": "notes.svg"}, **auth)

    (message,) = data["imagekitUploadAuth"]["messages"]
    assert (message["field"], message["code"]) == ("fileName", "unsupported_format")


def test_direct_upload_then_register_creates_the_image(client, auth, imagekit):
    uploaded = direct_upload(client, auth, make_image_bytes((900, 600)))
    product = Product.objects.create(name="Lamp", slug="lamp")

    data = graphql_data(
        client,
        REGISTER,
        {"fileId": uploaded["fileId"], "productId": to_base64("Product", product.pk)},
        **auth,
    )

    result = data["registerUploadedImage"]
    assert result["__typename"] == "Image"
    assert (result["width"], result["height"], result["altText"]) == (900, 600, "Direct")
    assert result["url"] == f"{imagekit.url_endpoint}{uploaded['filePath']}"
    small = PILImage.open(io.BytesIO(httpx.get(result["small"]).content))
    assert small.size == (320, 213)
    assert list(product.images.values_list("name", flat=True)) == [result["name"]]


def test_register_a_file_outside_the_upload_folder_is_refused(client, auth, imagekit):
    # Only the private key can put a file elsewhere: the token binds the folder.
    elsewhere = imagekit.client().files.upload(
        file=make_image_bytes(), file_name="x.jpg", folder="/other/"
    )

    data = graphql_data(client, REGISTER, {"fileId": elsewhere.file_id}, **auth)

    assert [(m["field"], m["code"]) for m in data["registerUploadedImage"]["messages"]] == [
        ("fileId", "invalid")
    ]
    assert Image.objects.count() == 0
    assert imagekit.store.get(elsewhere.file_id) is not None, "a file it did not take is kept"


def test_register_a_damaged_image_deletes_it_and_says_why(client, auth, imagekit):
    whole = make_image_bytes((640, 480))
    uploaded = direct_upload(client, auth, whole[: len(whole) // 2])

    data = graphql_data(client, REGISTER, {"fileId": uploaded["fileId"]}, **auth)

    assert [(m["field"], m["code"]) for m in data["registerUploadedImage"]["messages"]] == [
        ("fileId", "invalid_image")
    ]
    assert imagekit.store.get(uploaded["fileId"]) is None
    assert Image.objects.count() == 0


def test_register_unknown_file_id_is_not_found(client, auth, imagekit):
    data = graphql_data(client, REGISTER, {"fileId": "0" * 24}, **auth)

    assert [(m["field"], m["code"]) for m in data["registerUploadedImage"]["messages"]] == [
        ("fileId", "not_found")
    ]


def test_register_the_same_file_twice_is_refused(client, auth, imagekit):
    uploaded = direct_upload(client, auth, make_image_bytes())
    first = graphql_data(client, REGISTER, {"fileId": uploaded["fileId"]}, **auth)
    assert first["registerUploadedImage"]["__typename"] == "Image"

    again = graphql_data(client, REGISTER, {"fileId": uploaded["fileId"]}, **auth)

    assert [(m["field"], m["code"]) for m in again["registerUploadedImage"]["messages"]] == [
        ("fileId", "already_registered")
    ]
    assert Image.objects.count() == 1


def test_upload_auth_token_is_single_use(client, auth, imagekit):
    params = graphql_data(client, UPLOAD_AUTH, **auth)["imagekitUploadAuth"]
    assert browser_upload(params, make_image_bytes()).status_code == 200

    again = browser_upload(params, make_image_bytes())

    assert again.status_code == 400
    assert len(imagekit.store.files()) == 1


def test_upload_auth_never_returns_the_private_key(client, auth, imagekit):
    body = graphql(client, UPLOAD_AUTH, **auth)

    assert "private_test_key" not in json.dumps(body)


@pytest.mark.parametrize(
    ("document", "variables"),
    [(UPLOAD_AUTH, {}), (REGISTER, {"fileId": "0" * 24})],
    ids=["imagekitUploadAuth", "registerUploadedImage"],
)
def test_direct_upload_mutations_need_add_image(
    client, imagekit, django_user_model, document, variables
):
    outsider = django_user_model.objects.create_user("outsider")
    headers = {"Authorization": f"Bearer {ApiToken.objects.create_token(outsider)[1]}"}

    anonymous = next(iter(graphql_data(client, document, variables).values()))
    without = next(iter(graphql_data(client, document, variables, **headers).values()))

    assert [m["kind"] for m in anonymous["messages"]] == ["PERMISSION"]
    assert [m["kind"] for m in without["messages"]] == ["PERMISSION"]
    assert "catalog.add_image" in without["messages"][0]["message"]
