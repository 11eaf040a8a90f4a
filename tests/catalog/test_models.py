from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Category, Image, Product, ProductImage, ProductVariant
from tests.catalog.factories import stored_image

pytestmark = pytest.mark.django_db


def test_product_slug_is_unique():
    Product.objects.create(name="A", slug="same")

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(name="B", slug="same")


def test_variant_sku_is_unique():
    product = Product.objects.create(name="A", slug="a")
    ProductVariant.objects.create(product=product, name="1", sku="SKU", price=Decimal(1))

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.create(product=product, name="2", sku="SKU", price=Decimal(2))


def test_variant_price_cannot_be_negative_in_the_database():
    product = Product.objects.create(name="A", slug="a")

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.create(product=product, name="1", sku="S", price=Decimal("-1"))


def test_product_image_link_is_unique():
    product = Product.objects.create(name="A", slug="a")
    image = stored_image()
    ProductImage.objects.create(product=product, image=image, sort_order=0)

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductImage.objects.create(product=product, image=image, sort_order=1)


def test_append_image_puts_images_after_existing_ones():
    product = Product.objects.create(name="A", slug="a")
    first, second, third = (stored_image(f"i{i}") for i in range(3))
    ProductImage.objects.create(product=product, image=first, sort_order=5)

    product.append_image(second)
    product.append_image(third)

    assert list(product.product_images.values_list("image__name", "sort_order")) == [
        ("i0", 5),
        ("i1", 6),
        ("i2", 7),
    ]


def test_variant_image_must_belong_to_its_product():
    product = Product.objects.create(name="A", slug="a")
    foreign = stored_image("foreign")
    variant = ProductVariant(product=product, name="1", sku="S", price=Decimal(1), image=foreign)

    with pytest.raises(ValidationError) as excinfo:
        variant.full_clean()

    assert excinfo.value.error_dict["image"][0].code == "not_product_image"
    product.append_image(foreign)
    variant.full_clean()


def test_category_cannot_be_its_own_ancestor():
    root = Category.objects.create(name="Root", slug="root")
    child = Category.objects.create(name="Child", slug="child", parent=root)
    root.parent = child

    with pytest.raises(ValidationError) as excinfo:
        root.full_clean()

    assert excinfo.value.error_dict["parent"][0].code == "cycle"


def test_product_description_must_be_editorjs_blocks():
    product = Product(name="A", slug="a", description={"blocks": [{"no": "type"}]})

    with pytest.raises(ValidationError) as excinfo:
        product.full_clean()

    assert "description" in excinfo.value.error_dict


def test_image_storage_names_are_server_generated():
    image = stored_image("Holiday photo")

    assert image.image.name == f"images/{image.id.hex}.jpg"
    assert image.image_xs.name == f"images/xs/{image.id.hex}.jpg"


@pytest.mark.django_db(transaction=True)
def test_deleting_image_removes_its_files_after_commit(media_root):
    image = stored_image()
    paths = [media_root / name for name in image.stored_names()]
    assert all(path.exists() for path in paths)

    with transaction.atomic():
        image.delete()
        assert all(path.exists() for path in paths), "deleted before commit"

    assert not any(path.exists() for path in paths)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_image_delete_keeps_its_files(media_root):
    image = stored_image()
    paths = [media_root / name for name in image.stored_names()]

    def delete_then_fail():
        with transaction.atomic():
            Image.objects.filter(pk=image.pk).delete()
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        delete_then_fail()

    assert Image.objects.filter(pk=image.pk).exists()
    assert all(path.exists() for path in paths)
