from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.management.commands.load_demo_data import PRODUCTS
from catalog.models import Category, Image, Product, ProductVariant

pytestmark = pytest.mark.django_db


def test_load_demo_data_creates_catalog_and_is_idempotent(media_root):
    out, err = StringIO(), StringIO()
    call_command("load_demo_data", stdout=out, stderr=err)
    counts = (
        Category.objects.count(),
        Product.objects.count(),
        ProductVariant.objects.count(),
        Image.objects.count(),
    )
    files = sorted(media_root.rglob("*.jpg"))

    call_command("load_demo_data", stdout=out, stderr=StringIO())

    variants = sum(len(product[4]) for product in PRODUCTS.values())
    images = sum(len(product[3]) for product in PRODUCTS.values())
    assert counts == (3, len(PRODUCTS), variants, images)
    assert (
        Category.objects.count(),
        Product.objects.count(),
        ProductVariant.objects.count(),
        Image.objects.count(),
    ) == counts
    assert sorted(media_root.rglob("*.jpg")) == files
    assert len(files) == 2 * counts[3]
    assert "6 product(s) created" in out.getvalue()
    assert err.getvalue().splitlines()[-1].startswith("products: 6/6 (100%)")
    assert "0 product(s) created, 6 already present" in out.getvalue()
    for variant in ProductVariant.objects.select_related("image"):
        assert variant.image.product_links.filter(product=variant.product_id).exists()
