from __future__ import annotations

from adminsortable2.admin import SortableAdminBase, SortableTabularInline
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery

from catalog.admin.images import FILE_HELP, form_errors
from catalog.admin.previews import thumbnail
from catalog.models import Category, Image, Product, ProductImage, ProductVariant
from catalog.uploads import NewFile, add_image


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")


class ProductImageForm(forms.ModelForm):
    """A product's image: one already stored (autocomplete), or a file uploaded here.

    An upload goes through the upload service while the form is cleaned, so a
    refused file is a form error with the API's message; the new image is then
    chosen in the row, so it is not uploaded twice if the page comes back.
    """

    upload = forms.FileField(label="or upload", required=False, help_text=FILE_HELP)
    # Set per request by ProductImageInline.get_formset.
    uploader = None

    class Meta:
        model = ProductImage
        fields = ("image", "upload")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].required = False

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if self.errors:
            return cleaned
        if upload is None:
            if cleaned.get("image") is None:
                self.add_error("image", "Choose an image, or upload a file.")
            return cleaned
        try:
            image = add_image(NewFile(upload), created_by=self.uploader)
        except ValidationError as e:
            form_errors(self, e, file_field="upload")
            return cleaned
        cleaned["image"] = image
        data = self.data.copy()
        data[self.add_prefix("image")] = str(image.pk)
        self.data = data
        return cleaned


class ProductImageInline(SortableTabularInline):
    """The product's images with previews, in the order dragged (``sort_order``)."""

    model = ProductImage
    form = ProductImageForm
    extra = 0
    autocomplete_fields = ("image",)
    fields = ("preview", "image", "upload")
    readonly_fields = ("preview",)
    verbose_name = "image"
    verbose_name_plural = "images (drag to reorder)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("image")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type("ProductImageForm", (formset.form,), {"uploader": request.user})
        return formset

    @admin.display(description="Preview")
    def preview(self, obj: ProductImage):
        return thumbnail(obj.image if obj.pk else None, height=64)


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    autocomplete_fields = ("image",)
    fields = ("name", "sku", "price", "image", "image_preview")
    readonly_fields = ("image_preview",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("image")

    @admin.display(description="Preview")
    def image_preview(self, obj: ProductVariant):
        return thumbnail(obj.image if obj.pk else None)


@admin.register(Product)
class ProductAdmin(SortableAdminBase, admin.ModelAdmin):
    list_display = ("list_thumbnail", "name", "slug", "category", "image_count", "updated_at")
    list_display_links = ("list_thumbnail", "name")
    list_select_related = ("category",)
    list_filter = ("category",)
    search_fields = ("name", "slug", "variants__sku")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ProductImageInline, ProductVariantInline)
    readonly_fields = ("created_by", "created_at", "updated_at")

    class Media:
        css = {"all": ("catalog/admin.css",)}

    def get_queryset(self, request):
        first = ProductImage.objects.filter(product=OuterRef("pk")).order_by("sort_order", "pk")
        # The first image and the count in the list's own query: no query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                image_count=Count("product_images", distinct=True),
                first_image_xs=Subquery(first.values("image__image_xs")[:1]),
                first_image_alt=Subquery(first.values("image__alt_text")[:1]),
            )
        )

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Image")
    def list_thumbnail(self, obj: Product):
        if not obj.first_image_xs:
            return "—"
        return thumbnail(Image(image_xs=obj.first_image_xs, alt_text=obj.first_image_alt))

    @admin.display(description="Images", ordering="image_count")
    def image_count(self, obj: Product) -> int:
        return obj.image_count


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "product", "price")
    list_select_related = ("product",)
    search_fields = ("sku", "name", "product__name")
    autocomplete_fields = ("product", "image")
