"""ImageKit's answer about a file → what is recorded of it (``media_store.StoredFile``).

One mapping for every answer that describes a file: an upload's, a file's
details, a listing's items.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from media_store.storage.interface import Stored

if TYPE_CHECKING:
    from media_store.models import StoredFile


def from_answer(answer: Any, name: str) -> Stored:
    """What ImageKit says it holds under ``name`` (a checked answer of the API)."""
    mime = getattr(answer, "mime", None)
    created_at = getattr(answer, "created_at", None)
    return Stored(
        name=name,
        size=int(answer.size or 0),
        file_id=answer.file_id,
        width=_int_or_none(answer.width),
        height=_int_or_none(answer.height),
        mime=mime if isinstance(mime, str) and mime else guess_mime(name),
        is_private=bool(answer.is_private_file),
        stored_at=created_at if isinstance(created_at, datetime) else None,
    )


# What a record holds besides its name; recording a name again replaces them.
RECORDED_FIELDS = (
    "file_id",
    "size",
    "width",
    "height",
    "mime",
    "is_private",
    "uploaded_at",
    "delete_failed_at",
    "last_error",
)


def record(*stored: Stored) -> list[StoredFile]:
    """Record each as what ImageKit holds under its name, replacing any record.

    One statement for all (an upload records its original and small variant together).
    """
    from media_store.models import StoredFile

    now = timezone.now()
    return StoredFile.objects.bulk_create(
        [
            StoredFile(
                name=item.name,
                file_id=item.file_id,
                size=item.size,
                width=item.width,
                height=item.height,
                mime=item.mime,
                is_private=item.is_private,
                uploaded_at=item.stored_at or now,
                delete_failed_at=None,
                last_error="",
            )
            for item in stored
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=list(RECORDED_FIELDS),
    )


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
