"""The catalog admin, server side: lists with previews in a fixed number of queries,
the image page's previews and placeholder, privacy moves files, uploads in a product's
inline go through the upload service."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Image, Product, ProductImage
from tests.catalog.factories import product_with_images, stored_image
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(user)
    return client


def inline_data(product: Product, rows: list[dict], *, variants: int = 0) -> dict:
    """The product change form's POST data: the product as is, ``rows`` as image rows."""
    data = {
        "name": product.name,
        "slug": product.slug,
        "summary": product.summary,
        "description": "{}",
        "category": "",
        "product_images-TOTAL_FORMS": str(len(rows)),
        "product_images-INITIAL_FORMS": str(sum("id" in row for row in rows)),
        "product_images-MIN_NUM_FORMS": "0",
        "product_images-MAX_NUM_FORMS": "1000",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": str(variants),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"product_images-{index}-{key}"] = value
        data[f"product_images-{index}-product"] = str(product.pk)
    return data


def test_product_list_shows_first_thumbnail_and_count_in_fixed_queries(
    admin_client, django_assert_num_queries
):
    products = [product_with_images(i, images=i + 1) for i in range(3)]
    first = products[2].product_images.first().image

    # session, user, two counts, the page (thumbnail and count annotated), the category
    # filter's choices: none per row
    with django_assert_num_queries(6):
        response = admin_client.get("/admin/catalog/product/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'src="{first.image_xs.url}"' in html
    assert '<td class="field-image_count">3</td>' in html
    assert '<td class="field-image_count">1</td>' in html


def test_image_list_shows_usage_and_filters_in_fixed_queries(
    admin_client, django_assert_num_queries
):
    product = product_with_images(1, images=2)
    stored_image("loose", is_private=True)

    # session, user, two counts, the page, its products and variants (prefetched), the
    # date hierarchy's range and days, the format filter's choices: none per row
    with django_assert_num_queries(10):
        response = admin_client.get("/admin/catalog/image/")
    private = admin_client.get("/admin/catalog/image/?is_private__exact=1")
    jpeg = admin_client.get("/admin/catalog/image/?mime_type=image%2Fjpeg")

    html = response.content.decode()
    assert f">{product.name}</a>" in html
    assert "Product 001 – Default (variant)" in html
    assert "64×48" in html
    assert ">JPEG<" in html
    assert private.context["cl"].result_count == 1
    assert jpeg.context["cl"].result_count == 3


def test_image_page_shows_transformed_preview_small_variant_and_placeholder(admin_client):
    image = stored_image("harbour", size=(400, 300))

    response = admin_client.get(f"/admin/catalog/image/{image.pk}/change/")

    html = response.content.decode()
    assert "/media/tr:w-640,h-480,c-at_max/" in html
    assert f'src="{image.image_xs.url}"' in html
    assert f"background:{image.dominant_color}" in html
    assert 'src="data:image/png;base64,' in html
    assert image.blurhash in html
    assert "Not used by any product or variant." in html


def test_image_page_private_toggle_moves_the_files(
    admin_client, media_root, django_capture_on_commit_callbacks
):
    image = stored_image("harbour")
    public = image.stored_names()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/catalog/image/{image.pk}/change/",
            {"name": "", "alt_text": "Harbour", "is_private": "on"},
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    image.refresh_from_db()
    assert image.is_private is True
    assert image.name == "harbour", "an empty name keeps the current one"
    assert all(name.startswith("private/") for name in image.stored_names())
    assert all((media_root / name).exists() for name in image.stored_names())
    assert not any((media_root / name).exists() for name in public)


def test_image_page_replacing_the_file_with_a_bad_one_is_the_apis_error(admin_client):
    image = stored_image("harbour")

    response = admin_client.post(
        f"/admin/catalog/image/{image.pk}/change/",
        {
            "name": "harbour",
            "alt_text": "",
            "file": SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg"),
        },
    )

    errors = response.context["adminform"].form.errors
    assert errors["file"] == ["The file is not an image that can be read."]
    assert Image.objects.get().stored_names() == image.stored_names()


def test_product_inline_uploads_a_new_image_in_place(admin_client, media_root):
    product = product_with_images(1, images=1)
    link = product.product_images.get()
    content = make_image_bytes((500, 400), color="#d9480f")

    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/change/",
        inline_data(
            product,
            [
                {"id": str(link.pk), "image": str(link.image_id), "sort_order": "2"},
                {"upload": SimpleUploadedFile("ember.jpg", content), "sort_order": "1"},
            ],
            variants=1,
        )
        | {"variants-TOTAL_FORMS": "1", **_variant(product)},
    )

    assert response.status_code == 302, _errors(response)
    new = Image.objects.get(name="ember")
    assert new.checksum == hashlib.sha256(content).hexdigest()
    assert list(product.product_images.values_list("image_id", flat=True)) == [
        new.pk,
        link.image_id,
    ]


def test_product_inline_bad_upload_is_the_apis_error_with_nothing_stored(admin_client, media_root):
    product = Product.objects.create(name="Tote", slug="tote")
    before = sorted(media_root.rglob("*")) if media_root.exists() else []

    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/change/",
        inline_data(
            product,
            [
                {
                    "upload": SimpleUploadedFile("x.jpg", make_image_bytes(fmt="BMP")),
                    "sort_order": "1",
                }
            ],
        ),
    )

    assert response.status_code == 200
    (formset, *_) = response.context["inline_admin_formsets"]
    assert formset.formset.errors[0]["upload"] == [
        "BMP images are not accepted; upload JPEG, PNG, WebP, GIF or AVIF."
    ]
    assert Image.objects.count() == 0
    assert ProductImage.objects.count() == 0
    assert (sorted(media_root.rglob("*")) if media_root.exists() else []) == before


def test_view_site_opens_graphiql(admin_client):
    response = admin_client.get("/admin/")

    assert 'href="/graphql/">View site</a>' in response.content.decode()


def _variant(product: Product) -> dict:
    variant = product.variants.get()
    return {
        "variants-0-id": str(variant.pk),
        "variants-0-product": str(product.pk),
        "variants-0-name": variant.name,
        "variants-0-sku": variant.sku,
        "variants-0-price": str(variant.price),
        "variants-0-image": str(variant.image_id),
    }


def _errors(response) -> list:
    if response.status_code != 200:
        return [response.status_code]
    return [response.context["adminform"].form.errors] + [
        f.formset.errors for f in response.context["inline_admin_formsets"]
    ]
