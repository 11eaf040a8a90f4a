from __future__ import annotations

from django.apps import AppConfig


class MediaStoreConfig(AppConfig):
    """Image storage: the embedded local backend and its ImageKit-style delivery view."""

    name = "media_store"
    verbose_name = "Media store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from media_store import checks  # noqa: F401  (registers the system checks)
        from media_store.jwt_keys import hide_short_hmac_key_warning

        hide_short_hmac_key_warning()
