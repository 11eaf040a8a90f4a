from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import signals  # noqa: F401  (connects receivers)
        from catalog.image_files import hide_blurhash_deprecation, render_small_variant
        from media_store.derivatives import register

        # media_check --fix re-makes a missing small variant with the upload's own code.
        register("catalog.Image", "image_xs", source="image", render=render_small_variant)
        hide_blurhash_deprecation()
