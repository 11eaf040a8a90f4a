from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from catalog.models import Category, Image, Product, ProductImage, ProductVariant
from catalog.uploads import NewFile, add_image


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")


class ImageAddForm(forms.ModelForm):
    """Adds an image through the same upload service as the API.

    The file is validated, stored (original and small variant) and the row
    inserted while the form is cleaned, so every refusal, a storage outage
    included, comes back as a form error with the API's message.
    """

    file = forms.FileField(
        label="Image file",
        help_text="JPEG, PNG, WebP, GIF or AVIF; the small variant and placeholder are made "
        "from it.",
    )
    # Set per request by ImageAdmin.get_form.
    uploader = None

    class Meta:
        model = Image
        fields = ("file", "name", "alt_text")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Defaults to the file name."

    def clean(self):
        cleaned = super().clean()
        file = cleaned.get("file")
        if file is None or self.errors:
            return cleaned
        try:
            image = self.instance = add_image(
                NewFile(file),
                created_by=self.uploader,
                name=cleaned.get("name") or "",
                alt_text=cleaned.get("alt_text") or "",
            )
        except ValidationError as e:
            for field, errors in e.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return cleaned
        # The model form copies cleaned values onto the instance next: keep the name made.
        cleaned["name"] = image.name
        return cleaned


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("preview", "name", "width", "height", "mime_type", "created_by", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("name", "alt_text")
    readonly_fields = (
        "preview",
        "image",
        "image_xs",
        "width",
        "height",
        "size",
        "mime_type",
        "created_by",
        "created_at",
    )
    fields = ("preview", "name", "alt_text", *readonly_fields[1:])

    @admin.display(description="Preview")
    def preview(self, obj: Image) -> str:
        if not obj.image_xs:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-height:80px">', obj.image_xs.url, obj.alt_text
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ImageAddForm
            kwargs["fields"] = ImageAddForm.Meta.fields
            form = super().get_form(request, obj, change=change, **kwargs)
            form.uploader = request.user  # a fresh class per request (modelform_factory)
            return form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ImageAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj: Image, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # Added images were stored and saved by ImageAddForm.clean().


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    autocomplete_fields = ("image",)
    ordering = ("sort_order", "pk")


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    autocomplete_fields = ("image",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category", "updated_at")
    list_select_related = ("category",)
    list_filter = ("category",)
    search_fields = ("name", "slug", "variants__sku")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ProductImageInline, ProductVariantInline)
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "product", "price")
    list_select_related = ("product",)
    search_fields = ("sku", "name", "product__name")
    autocomplete_fields = ("product", "image")
