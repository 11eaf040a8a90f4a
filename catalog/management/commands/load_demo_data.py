from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw

from catalog.models import Category, Product, ProductVariant
from catalog.uploads import NewFile, add_image
from media_store.progress import progress

# slug: (name, category slug, summary, colours of its images, variants (name, sku, price))
PRODUCTS = {
    "trail-runner": (
        "Trail Runner",
        "shoes",
        "A light shoe for rough paths.",
        ["#d9480f", "#1c7ed6", "#2b8a3e"],
        [("Ember / 42", "TR-EMB-42", "119.00"), ("Lake / 43", "TR-LAK-43", "119.00")],
    ),
    "city-sneaker": (
        "City Sneaker",
        "shoes",
        "Everyday comfort in canvas.",
        ["#f8f9fa", "#212529"],
        [("Chalk / 40", "CS-CHK-40", "79.90"), ("Ink / 41", "CS-INK-41", "79.90")],
    ),
    "weekender-bag": (
        "Weekender Bag",
        "bags",
        "Room for two days away.",
        ["#845ef7", "#5f3dc4", "#e599f7"],
        [("Violet", "WB-VIO", "149.00")],
    ),
    "canvas-tote": (
        "Canvas Tote",
        "bags",
        "Carries the market home.",
        ["#fab005", "#e67700"],
        [("Sun", "CT-SUN", "29.00"), ("Amber", "CT-AMB", "29.00")],
    ),
    "wool-beanie": (
        "Wool Beanie",
        "accessories",
        "Merino, soft and warm.",
        ["#0ca678", "#087f5b"],
        [("Teal", "WBN-TEA", "35.00")],
    ),
    "leather-belt": (
        "Leather Belt",
        "accessories",
        "Full-grain, made to last.",
        ["#795548", "#3e2723"],
        [("Brown / 90", "LB-BRN-90", "59.00"), ("Dark / 95", "LB-DRK-95", "59.00")],
    ),
}

CATEGORIES = {"shoes": "Shoes", "bags": "Bags", "accessories": "Accessories"}


def draw_image(title: str, colour: str, index: int) -> ContentFile:
    """A 1200×900 JPEG: a coloured field, a shape and the product's name."""
    img = PILImage.new("RGB", (1200, 900), colour)
    draw = ImageDraw.Draw(img)
    inset = 150 + 40 * index
    shape = (inset, inset, 1200 - inset, 900 - inset)
    fill = "#ffffff" if colour.lower() < "#888888" else "#222222"
    (draw.ellipse if index % 2 else draw.rectangle)(shape, outline=fill, width=12)
    draw.text((60, 60), title, fill=fill, font_size=72)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return ContentFile(buffer.getvalue(), name=f"{title.lower().replace(' ', '-')}-{index}.jpg")


class Command(BaseCommand):
    help = "Create demo categories, products, variants and drawn images. Safe to run twice."

    def handle(self, *args, **options):
        categories = {
            slug: Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in CATEGORIES.items()
        }
        created = 0
        with progress(self.stderr, total=len(PRODUCTS), desc="products", unit="product") as bar:
            for slug, product in PRODUCTS.items():
                created += self._load(slug, *product, categories=categories)
                bar.update()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created} product(s) created, "
                f"{len(PRODUCTS) - created} already present."
            )
        )

    @transaction.atomic
    def _load(self, slug, name, category, summary, colours, variants, *, categories) -> bool:
        """Create one product with its images and variants; False if it exists."""
        product, is_new = Product.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "category": categories[category],
                "summary": summary,
                "description": {"blocks": [{"type": "paragraph", "data": {"text": summary}}]},
            },
        )
        if not is_new:
            return False
        images = [
            add_image(
                NewFile(draw_image(name, colour, i)),
                created_by=None,
                alt_text=f"{name}, view {i + 1}",
                product=product,
            )
            for i, colour in enumerate(colours)
        ]
        for i, (variant_name, sku, price) in enumerate(variants):
            ProductVariant.objects.create(
                product=product,
                name=variant_name,
                sku=sku,
                price=Decimal(price),
                image=images[i % len(images)],
            )
        return True
