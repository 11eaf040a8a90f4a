"""Which stored names the database still points at, and from which rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from django.apps import apps
from django.core.files.storage import default_storage, storages
from django.db import models


class Reference(NamedTuple):
    """One FileField value: which row holds which stored name."""

    model: str  # app_label.ModelName
    pk: Any
    field: str
    name: str


def _resolve(storage):
    # FileFields hold the lazy default_storage; compare the backend behind it.
    return storages["default"] if storage is default_storage else storage


def references(storage) -> Iterator[Reference]:
    """Every non-empty FileField value, across all models, that uses ``storage``."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField) or _resolve(field.storage) is not storage:
                continue
            rows = model._default_manager.exclude(**{field.name: ""}).values_list("pk", field.name)
            for pk, name in rows.order_by("pk").iterator():
                if name:
                    yield Reference(model._meta.label, pk, field.name, name)


def referenced_names(storage) -> set[str]:
    """The stored names some row points at (see ``references``)."""
    return {reference.name for reference in references(storage)}
