from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from catalog.error_codes import CatalogErrorCode
from media_store.conf import PRIVATE_PREFIX


def image_upload_to(instance: Image, filename: str) -> str:
    return instance.storage_name(filename, variant="")


def image_xs_upload_to(instance: Image, filename: str) -> str:
    return instance.storage_name(filename, variant="xs")


class Category(models.Model):
    name = models.CharField("name", max_length=200)
    slug = models.SlugField("slug", max_length=200, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="parent",
    )

    class Meta:
        verbose_name = "category"
        verbose_name_plural = "categories"
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError(
                    {
                        "parent": ValidationError(
                            "A category cannot be its own ancestor.", code=CatalogErrorCode.CYCLE
                        )
                    }
                )
            ancestor = ancestor.parent


class Image(models.Model):
    """An uploaded image: the original file and a small variant made at upload.

    Dimensions, size and type are recorded from the upload, so reading them
    never opens the file.
    """

    id = models.UUIDField("ID", primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("name", max_length=255)
    image = models.ImageField("original", upload_to=image_upload_to, max_length=255)
    image_xs = models.ImageField(
        "small variant", upload_to=image_xs_upload_to, max_length=255, blank=True
    )
    alt_text = models.CharField("alt text", max_length=255, blank=True)
    width = models.PositiveIntegerField("width")
    height = models.PositiveIntegerField("height")
    size = models.PositiveBigIntegerField("size in bytes")
    mime_type = models.CharField("MIME type", max_length=50)
    is_private = models.BooleanField(
        "private",
        default=False,
        help_text="Only staff see it; its URLs are signed and expire.",
    )
    checksum = models.CharField(
        "SHA-256",
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text="Of the original's bytes, recorded at upload: imports skip files already stored.",
    )
    blurhash = models.CharField("BlurHash", max_length=64, blank=True)
    dominant_color = models.CharField("dominant colour", max_length=7, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="images",
        verbose_name="created by",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        verbose_name = "image"
        verbose_name_plural = "images"
        ordering = ("-created_at", "pk")
        # No two Images share a file: deleting one would delete the other's.
        constraints = [
            models.UniqueConstraint(fields=("image",), name="catalog_image_unique_image"),
            models.UniqueConstraint(
                fields=("image_xs",),
                condition=~models.Q(image_xs=""),
                name="catalog_image_unique_image_xs",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def storage_name(self, filename: str, *, variant: str, revision: str = "") -> str:
        """Server-chosen storage path: ``images/<uuid>.<ext>`` or ``images/xs/<uuid>.<ext>``.

        A replaced file gets a ``-<revision>`` suffix: a new name, so CDN caches
        never serve the old bytes and the old file can be deleted after commit.

        Private images live under ``private/``, which both storages sign.

        The client's filename only contributes its extension, so names never
        collide and never carry user text into URLs.
        """
        suffix = PurePosixPath(filename).suffix.lower()
        folder = f"images/{variant}" if variant else "images"
        if self.is_private:
            folder = f"{PRIVATE_PREFIX}{folder}"
        stem = f"{self.id.hex}-{revision}" if revision else self.id.hex
        return f"{folder}/{stem}{suffix}"

    def stored_names(self) -> list[str]:
        return [f.name for f in (self.image, self.image_xs) if f]


class Product(models.Model):
    name = models.CharField("name", max_length=255)
    slug = models.SlugField("slug", max_length=255, unique=True)
    summary = models.CharField("summary", max_length=500, blank=True)
    description = models.JSONField(
        "description", default=dict, blank=True, help_text="Editor.js document."
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
        verbose_name="category",
    )
    images = models.ManyToManyField(
        Image, through="ProductImage", related_name="products", blank=True, verbose_name="images"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
        verbose_name="created by",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    class Meta:
        verbose_name = "product"
        verbose_name_plural = "products"
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.description, dict):
            raise ValidationError(
                {
                    "description": ValidationError(
                        "Must be an Editor.js document (a JSON object).",
                        code=CatalogErrorCode.INVALID,
                    )
                }
            )
        blocks = self.description.get("blocks", [])
        if not isinstance(blocks, list) or not all(
            isinstance(block, dict) and isinstance(block.get("type"), str) for block in blocks
        ):
            raise ValidationError(
                {
                    "description": ValidationError(
                        "'blocks' must be a list of objects with a 'type'.",
                        code=CatalogErrorCode.INVALID,
                    )
                }
            )

    def append_image(self, image: Image, *, position: int | None = None) -> ProductImage:
        """Add ``image`` after the product's current images, or at sort order ``position``."""
        if position is None:
            last = self.product_images.aggregate(last=models.Max("sort_order"))["last"]
            position = 0 if last is None else last + 1
        return ProductImage.objects.create(product=self, image=image, sort_order=position)


class ProductImage(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="product_images", verbose_name="product"
    )
    image = models.ForeignKey(
        Image, on_delete=models.CASCADE, related_name="product_links", verbose_name="image"
    )
    sort_order = models.PositiveIntegerField("sort order", default=0)

    class Meta:
        verbose_name = "product image"
        verbose_name_plural = "product images"
        ordering = ("sort_order", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("product", "image"), name="catalog_productimage_unique_image"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} #{self.sort_order}"


class ProductVariant(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name="product"
    )
    name = models.CharField("name", max_length=255)
    sku = models.CharField("SKU", max_length=64, unique=True)
    price = models.DecimalField(
        "price", max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    image = models.ForeignKey(
        Image,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="variants",
        verbose_name="image",
    )

    class Meta:
        verbose_name = "product variant"
        verbose_name_plural = "product variants"
        ordering = ("product", "name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="catalog_productvariant_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} – {self.name}"

    def clean(self) -> None:
        if (
            self.image_id
            and self.product_id
            and not ProductImage.objects.filter(
                product_id=self.product_id, image_id=self.image_id
            ).exists()
        ):
            raise ValidationError(
                {
                    "image": ValidationError(
                        "The variant's image must be one of its product's images.",
                        code=CatalogErrorCode.NOT_PRODUCT_IMAGE,
                    )
                }
            )
