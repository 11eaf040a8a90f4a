"""Small builders for catalog rows with real stored files."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.base import ContentFile

from catalog.models import Category, Image, Product, ProductVariant
from catalog.uploads import NewFile, add_image
from tests.conftest import make_image_bytes


def stored_image(name: str = "img", size=(64, 48), **kwargs) -> Image:
    return add_image(
        NewFile(ContentFile(make_image_bytes(size), name=f"{name}.jpg")),
        created_by=None,
        name=name,
        **kwargs,
    )


def product_with_images(
    index: int, *, images: int = 2, category: Category | None = None
) -> Product:
    product = Product.objects.create(
        name=f"Product {index:03d}", slug=f"product-{index}", category=category
    )
    made = [stored_image(f"p{index}-img{i}", product=product) for i in range(images)]
    ProductVariant.objects.create(
        product=product, name="Default", sku=f"SKU-{index}", price=Decimal("9.99"), image=made[0]
    )
    return product
