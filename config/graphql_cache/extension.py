"""A schema extension that tells the view which operation ran."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class RecordOperationType(SchemaExtension):
    """Sets ``operation_type`` on the request's context once the operation is about to run.

    ``on_execute`` runs only after the document has passed the limits and
    validation, so a recorded type also means the document was valid: a persisted
    query may then be stored, and a query's result cached.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if hasattr(context.context, "operation_type"):
            context.context.operation_type = context.operation_type
        yield
