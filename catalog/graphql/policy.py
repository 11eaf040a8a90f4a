"""``CATALOG["ANONYMOUS_PRESETS_ONLY"]``: anonymous viewers get presets, nothing else.

Like ImageKit's "restrict unnamed transformations": every rendition an
anonymous client can ask for is one of the presets, so their number, and the
work and cache space they take, is fixed by the operator. Checked once per
document as a validation rule, so the listing's thousands of URL fields pay
nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule, get_named_type
from strawberry.extensions import SchemaExtension

from catalog.conf import catalog_setting

# (type, field) -> the arguments that make a transformation other than a preset.
UNNAMED = {("Image", "url"): ("transform", "transforms"), ("Image", "srcset"): None}
CODE = "PRESETS_ONLY"


class PresetsOnlyRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = get_named_type(self.context.get_parent_type())
        key = (getattr(parent, "name", None), node.name.value)
        if key not in UNNAMED:
            return
        arguments = UNNAMED[key]
        given = {argument.name.value for argument in node.arguments or ()}
        if arguments is None or given & set(arguments):
            self.report_error(
                GraphQLError(
                    f"Anonymous clients get presets only (CATALOG_ANONYMOUS_PRESETS_ONLY): "
                    f"ask for url(preset: ...) or small instead of {key[1]} with "
                    f"{', '.join(arguments or ('widths',))}, or sign in.",
                    node,
                    extensions={"code": CODE},
                )
            )


class AnonymousPresetsOnly(SchemaExtension):
    """Adds :class:`PresetsOnlyRule` to anonymous requests when the setting is on."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        user = getattr(request, "user", None)
        if catalog_setting("ANONYMOUS_PRESETS_ONLY") and not getattr(
            user, "is_authenticated", False
        ):
            context.validation_rules = (*context.validation_rules, PresetsOnlyRule)
        yield
