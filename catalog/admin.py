from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from catalog.models import Category, Image, Product, ProductImage, ProductVariant
from catalog.uploads import inspect_image, save_new_image


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")


class ImageAddForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ("image", "name", "alt_text")

    def clean_image(self):
        file = self.cleaned_data["image"]
        inspect_image(file)  # same rules as the API, with the same messages
        return file


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
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ImageAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj: Image, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.created_by = request.user
        save_new_image(obj, form.cleaned_data["image"])


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
