"""Which stored names the database still points at."""

from __future__ import annotations

from django.apps import apps
from django.core.files.storage import default_storage, storages
from django.db import models


def _resolve(storage):
    # FileFields hold the lazy default_storage; compare the backend behind it.
    return storages["default"] if storage is default_storage else storage


def referenced_names(storage) -> set[str]:
    """Every non-empty FileField value, across all models, that uses ``storage``."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField) or _resolve(field.storage) is not storage:
                continue
            values = model._default_manager.exclude(**{field.name: ""}).values_list(
                field.name, flat=True
            )
            names.update(value for value in values.iterator() if value)
    return names
