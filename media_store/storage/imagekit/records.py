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


def record(stored: Stored) -> StoredFile:
    """Record ``stored`` as what ImageKit holds under its name (replacing any record)."""
    from media_store.models import StoredFile

    return StoredFile.objects.update_or_create(
        name=stored.name,
        defaults={
            "file_id": stored.file_id,
            "size": stored.size,
            "width": stored.width,
            "height": stored.height,
            "mime": stored.mime,
            "is_private": stored.is_private,
            "uploaded_at": stored.stored_at or timezone.now(),
            "delete_failed_at": None,
            "last_error": "",
        },
    )[0]


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
