"""What a field's selection asks for, read from strawberry's ``Info.selected_fields``."""

from __future__ import annotations

from strawberry.types.nodes import SelectedField, Selection


def selects(fields: list[SelectedField], name: str) -> bool:
    """Whether ``name`` is selected right under one of ``fields`` (fragments included)."""
    return any(_selected_in(field.selections, name) for field in fields)


def _selected_in(selections: list[Selection], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        elif _selected_in(selection.selections, name):  # a fragment's own selections
            return True
    return False
