"""Stored files made from other stored files, so ``media_check --fix`` can re-make them.

An app registers each one with the code that made it at upload (the catalog:
``Image.image_xs`` from ``Image.image``), so media_store never imports the app::

    register("catalog.Image", "image_xs", source="image", render=render_small_variant)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.apps import apps
from django.core.files.base import File

from media_store.references import Reference
from media_store.storage.interface import MediaStorage, Stored


@dataclass(frozen=True, slots=True)
class Derivative:
    """``model.field`` is rendered from the file in ``model.source``."""

    model: str  # app_label.ModelName
    field: str
    source: str
    render: Callable[[File], File]


_registry: dict[tuple[str, str], Derivative] = {}


def register(model: str, field: str, *, source: str, render: Callable[[File], File]) -> None:
    """Declare that ``model.field`` is made from ``model.source`` by ``render``."""
    _registry[(model, field)] = Derivative(model, field, source, render)


def derivative(reference: Reference) -> Derivative | None:
    """How the file of ``reference`` is made, or None when it is an original."""
    return _registry.get((reference.model, reference.field))


def source_name(reference: Reference, made: Derivative) -> str:
    """The stored name the row holds in the derivative's source field."""
    model = apps.get_model(made.model)
    return model._default_manager.filter(pk=reference.pk).values_list(made.source, flat=True).get()


def remake(storage: MediaStorage, reference: Reference, made: Derivative, source: str) -> Stored:
    """Render the file of ``reference`` again from ``source`` and store it under its name.

    The row keeps its name. Raises FileNotFoundError when the source is missing
    too, and ValueError when the rendered file would need another extension.
    """
    with storage.open(source) as original:
        rendered = made.render(original)
    wanted, got = PurePosixPath(reference.name).suffix, PurePosixPath(rendered.name or "").suffix
    if wanted.lower() != got.lower():
        raise ValueError(
            f"it renders as a {got or 'nameless'} file, not {wanted}; replace the image's "
            "file to make a new one"
        )
    stored = storage.put(reference.name, rendered)
    storage.record(stored)
    return stored
