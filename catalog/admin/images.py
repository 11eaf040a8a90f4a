from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from catalog.admin.previews import large_preview, placeholder, thumbnail
from catalog.models import Image, ProductVariant
from catalog.uploads import NewFile, add_image, default_name, replace_image_file, set_private

FILE_HELP = "JPEG, PNG, WebP, GIF or AVIF; the small variant and placeholder are made from it."


def form_errors(form: forms.Form, error: ValidationError, *, file_field: str) -> None:
    """Put the upload service's errors on the form's fields (the file's on ``file_field``)."""
    for field, errors in error.error_dict.items():
        target = file_field if field in ("file", "file_id") else field
        form.add_error(target if target in form.fields else None, errors)


class ImageAddForm(forms.ModelForm):
    """Adds an image through the same upload service as the API.

    The file is checked, stored (original and small variant) and the row
    inserted while the form is cleaned, so every refusal, a storage outage
    included, comes back as a form error with the API's message.
    """

    file = forms.FileField(label="Image file", help_text=FILE_HELP)
    # Set per request by ImageAdmin.get_form.
    uploader = None

    class Meta:
        model = Image
        fields = ("file", "name", "alt_text", "is_private")

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
                is_private=bool(cleaned.get("is_private")),
            )
        except ValidationError as e:
            form_errors(self, e, file_field="file")
            return cleaned
        # The model form copies cleaned values onto the instance next: keep the name made.
        cleaned["name"] = image.name
        return cleaned


class ImageChangeForm(forms.ModelForm):
    """Edits an image; a new file or a privacy change goes through the upload service.

    Both happen while the form is cleaned, so a refused file or a storage outage
    is a form error; the old files are deleted after the transaction commits.
    """

    file = forms.FileField(
        label="Replace file",
        required=False,
        help_text=f"Optional. {FILE_HELP} The old files are deleted after saving.",
    )

    class Meta:
        model = Image
        fields = ("name", "alt_text", "is_private", "file")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Empty: the new file's name, or the current name."
        self.fields["is_private"].help_text = (
            "Only staff see it; its URLs are signed and expire. Changing it moves the files "
            "to (or from) the private names."
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        image = self.instance
        file = cleaned.get("file")
        if not cleaned.get("name"):
            cleaned["name"] = default_name(file.name) if file else image.name
        try:
            if file is not None:
                replace_image_file(image, file)
            if "is_private" in self.changed_data:
                set_private(image, bool(cleaned.get("is_private")))
        except ValidationError as e:
            form_errors(self, e, file_field="file")
        return cleaned


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = (
        "list_thumbnail",
        "name",
        "dimensions",
        "file_size",
        "format",
        "is_private",
        "used_in",
        "created_at",
    )
    list_display_links = ("list_thumbnail", "name")
    list_filter = ("is_private", ("mime_type", admin.AllValuesFieldListFilter), "created_at")
    search_fields = ("name", "alt_text")
    date_hierarchy = "created_at"
    list_per_page = 50
    readonly_fields = (
        "large_preview",
        "small_variant",
        "placeholder",
        "usage",
        "dimensions",
        "file_size",
        "mime_type",
        "image",
        "image_xs",
        "checksum",
        "created_by",
        "created_at",
    )
    fieldsets = (
        (None, {"fields": ("large_preview", "name", "alt_text", "is_private", "file")}),
        ("Previews", {"fields": ("small_variant", "placeholder")}),
        ("Used in", {"fields": ("usage",)}),
        (
            "File",
            {
                "fields": (
                    "dimensions",
                    "file_size",
                    "mime_type",
                    "image",
                    "image_xs",
                    "checksum",
                    "created_by",
                    "created_at",
                )
            },
        ),
    )

    class Media:
        css = {"all": ("catalog/admin.css",)}

    def get_queryset(self, request):
        # Where each image is used, for the whole page in two queries.
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .prefetch_related(
                "products",
                Prefetch("variants", queryset=ProductVariant.objects.select_related("product")),
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ImageAddForm
            form = super().get_form(request, obj, change=change, **kwargs)
            form.uploader = request.user  # a fresh class per request (modelform_factory)
            return form
        kwargs["form"] = ImageChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ImageAddForm.Meta.fields}),)
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj: Image, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # Added images were stored and saved by ImageAddForm.clean().

    @admin.display(description="Preview")
    def list_thumbnail(self, obj: Image):
        return thumbnail(obj)

    @admin.display(description="Preview (transformed: w-640,h-480,c-at_max)")
    def large_preview(self, obj: Image):
        return large_preview(obj)

    @admin.display(description="Small variant")
    def small_variant(self, obj: Image):
        return thumbnail(obj, height=None)  # its own size

    @admin.display(description="Placeholder")
    def placeholder(self, obj: Image):
        return placeholder(obj)

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: Image) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="Dimensions", ordering="width")
    def dimensions(self, obj: Image) -> str:
        return f"{obj.width}×{obj.height}"

    @admin.display(description="Format", ordering="mime_type")
    def format(self, obj: Image) -> str:
        return obj.mime_type.removeprefix("image/").upper()

    @admin.display(description="Used in")
    def used_in(self, obj: Image):
        return _usage(obj, separator=", ") or "—"

    @admin.display(description="Products and variants")
    def usage(self, obj: Image):
        return _usage(obj, separator="<br>") or "Not used by any product or variant."


def _usage(image: Image, *, separator: str):
    products = [
        (reverse("admin:catalog_product_change", args=[p.pk]), p.name) for p in image.products.all()
    ]
    variants = [
        (reverse("admin:catalog_product_change", args=[v.product_id]), f"{v} (variant)")
        for v in image.variants.all()
    ]
    # separator is one of our constants (", " or "<br>"), never user text.
    return format_html_join(mark_safe(separator), '<a href="{}">{}</a>', products + variants)
