from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from PIL import Image as PILImage
from strawberry.relay import to_base64

from catalog.models import Image, Product, ProductImage
from tests.conftest import make_image_bytes
from tests.utils import graphql_data, multipart_upload, product_images_query

pytestmark = pytest.mark.django_db

UPLOAD_IMAGE = """
mutation Upload($file: Upload!, $altText: String, $productId: ID) {
  uploadImage(file: $file, altText: $altText, productId: $productId) {
    __typename
    ... on Image { id name altText width height url }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""


def stored_files(media_root) -> list[str]:
    if not media_root.exists():
        return []
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def upload(client, content: bytes, **kwargs):
    response = multipart_upload(client, UPLOAD_IMAGE, content=content, **kwargs)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["uploadImage"]


def test_upload_image_with_token_stores_original_and_small_variant(
    csrf_client, editor, editor_token, media_root
):
    content = make_image_bytes((1200, 800))

    result = upload(
        csrf_client, content, variables={"altText": "A blue field"}, **auth(editor_token)
    )

    assert result["__typename"] == "Image"
    assert (result["width"], result["height"]) == (1200, 800)
    assert result["altText"] == "A blue field"
    assert result["name"] == "photo"
    image = Image.objects.get()
    assert image.created_by == editor
    assert (image.size, image.mime_type) == (len(content), "image/jpeg")
    assert image.image.name == f"images/{image.id.hex}.jpg"
    assert (media_root / image.image.name).read_bytes() == content
    with PILImage.open(media_root / image.image_xs.name) as small:
        assert max(small.size) == 320
        assert small.size == (320, 213)
    assert stored_files(media_root) == sorted([image.image.name, image.image_xs.name])


def test_upload_image_appends_to_product_in_order(csrf_client, editor_token):
    product = Product.objects.create(name="Shoe", slug="shoe")
    product_id = to_base64("Product", product.pk)

    first = upload(
        csrf_client, make_image_bytes(), variables={"productId": product_id}, **auth(editor_token)
    )
    second = upload(
        csrf_client,
        make_image_bytes(fmt="PNG"),
        filename="b.png",
        content_type="image/png",
        variables={"productId": product_id},
        **auth(editor_token),
    )

    links = list(ProductImage.objects.filter(product=product).order_by("sort_order"))
    assert [link.sort_order for link in links] == [0, 1]
    assert [str(link.image_id) for link in links] == [
        str(Image.objects.get(name="photo").pk),
        str(Image.objects.get(name="b").pk),
    ]
    assert first["__typename"] == second["__typename"] == "Image"


def test_upload_image_unknown_product_is_a_field_error_with_nothing_stored(
    csrf_client, editor_token, media_root
):
    result = upload(
        csrf_client,
        make_image_bytes(),
        variables={"productId": to_base64("Product", 999)},
        **auth(editor_token),
    )

    assert result["__typename"] == "OperationInfo"
    assert result["messages"] == [
        {
            "kind": "VALIDATION",
            "field": "productId",
            "code": "not_found",
            "message": "No product has this ID.",
        }
    ]
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_image_with_session_requires_csrf_token(csrf_client, editor, media_root):
    csrf_client.force_login(editor)

    response = multipart_upload(csrf_client, UPLOAD_IMAGE, content=make_image_bytes())

    assert response.status_code == 403
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_image_with_session_and_csrf_token_succeeds(csrf_client, editor):
    csrf_client.force_login(editor)
    csrf_client.get("/graphql/", headers={"Accept": "text/html"})  # GraphiQL sets the cookie
    token = csrf_client.cookies["csrftoken"].value

    response = multipart_upload(
        csrf_client, UPLOAD_IMAGE, content=make_image_bytes(), **{"X-CSRFToken": token}
    )

    assert response.status_code == 200
    assert response.json()["data"]["uploadImage"]["__typename"] == "Image"
    assert Image.objects.get().created_by == editor


def test_upload_image_anonymous_is_refused_before_reading_with_nothing_stored(
    csrf_client, media_root
):
    response = multipart_upload(csrf_client, UPLOAD_IMAGE, content=make_image_bytes())

    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in error["message"]
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_image_without_permission_is_refused_before_reading_with_nothing_stored(
    csrf_client, editor, editor_token, media_root
):
    editor.user_permissions.remove(Permission.objects.get(codename="add_image"))

    response = multipart_upload(
        csrf_client, UPLOAD_IMAGE, content=make_image_bytes(), **auth(editor_token)
    )

    assert response.status_code == 403
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "catalog.add_image" in error["message"]
    assert stored_files(media_root) == []


def test_upload_image_with_change_but_not_add_permission_is_read_then_refused(
    csrf_client, editor, editor_token, media_root
):
    # May replace files (updateImage), so the body is read; uploadImage still needs add_image.
    editor.user_permissions.remove(Permission.objects.get(codename="add_image"))
    editor.user_permissions.add(Permission.objects.get(codename="change_image"))

    result = upload(csrf_client, make_image_bytes(), **auth(editor_token))

    assert result["__typename"] == "OperationInfo"
    assert result["messages"][0]["kind"] == "PERMISSION"
    assert "catalog.add_image" in result["messages"][0]["message"]
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"%PDF-1.4 not an image at all", "doc.pdf", "invalid_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "invalid_image"),
        (make_image_bytes()[:600], "cut.jpg", "invalid_image"),
        (make_image_bytes(fmt="BMP"), "old.bmp", "unsupported_format"),
        (make_image_bytes(fmt="TIFF"), "scan.tiff", "unsupported_format"),
    ],
    ids=["pdf", "svg", "truncated-jpeg", "bmp", "tiff"],
)
def test_upload_image_rejects_bad_files_with_nothing_stored(
    csrf_client, editor_token, media_root, content, filename, code
):
    result = upload(csrf_client, content, filename=filename, **auth(editor_token))

    assert result["__typename"] == "OperationInfo"
    assert [(m["field"], m["code"]) for m in result["messages"]] == [("file", code)]
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_image_over_byte_limit_is_refused(csrf_client, editor_token, settings, media_root):
    settings.CATALOG = {**settings.CATALOG, "MAX_UPLOAD_BYTES": 1000}

    response = multipart_upload(
        csrf_client, UPLOAD_IMAGE, content=make_image_bytes((800, 800)), **auth(editor_token)
    )

    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BODY_TOO_LARGE"
    assert "1000 bytes" in error["message"]
    assert stored_files(media_root) == []


def test_upload_image_over_pixel_limit_is_refused(csrf_client, editor_token, settings, media_root):
    settings.CATALOG = {**settings.CATALOG, "MAX_UPLOAD_PIXELS": 100 * 100}

    result = upload(
        csrf_client, make_image_bytes((101, 100), fmt="PNG"), filename="a.png", **auth(editor_token)
    )

    assert [(m["field"], m["code"]) for m in result["messages"]] == [("file", "too_many_pixels")]
    assert stored_files(media_root) == []


def test_upload_image_database_failure_removes_stored_files(
    csrf_client, editor_token, media_root, monkeypatch
):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Image, "save", fail)

    response = multipart_upload(
        csrf_client, UPLOAD_IMAGE, content=make_image_bytes(), **auth(editor_token)
    )

    assert response.json()["errors"]
    assert stored_files(media_root) == []


def test_upload_image_url_serves_transformed_webp(csrf_client, client, editor_token):
    upload(csrf_client, make_image_bytes((1200, 800)), **auth(editor_token))
    product = Product.objects.create(name="Lamp", slug="lamp")
    product.append_image(Image.objects.get())

    data = graphql_data(
        client,
        product_images_query("url(transform: {width: 120, format: WEBP})"),
    )

    url = data["products"]["edges"][0]["node"]["images"][0]["url"]
    assert "/tr:w-120,f-webp/" in url
    response = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    with PILImage.open(io.BytesIO(body)) as img:
        assert img.format == "WEBP"
        assert img.size == (120, 80)


def test_upload_image_records_dimensions_after_exif_rotation(csrf_client, editor_token):
    buffer = io.BytesIO()
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    PILImage.new("RGB", (400, 300), "#884422").save(buffer, "JPEG", exif=exif)

    result = upload(csrf_client, buffer.getvalue(), **auth(editor_token))

    assert (result["width"], result["height"]) == (300, 400)
    with PILImage.open(Image.objects.get().image_xs.open()) as small:
        assert small.size == (240, 320)
