"""Keep stored files in step with Image rows."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from catalog.models import Image

logger = logging.getLogger(__name__)


def delete_files_on_commit(storage, names: list[str]) -> None:
    """Delete ``names`` once the current transaction commits.

    Deleting earlier would lose files of a row that a rollback brings back.
    """

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except Exception:
                # The row is gone either way; log loudly so the file can be
                # collected instead of failing an already-committed request.
                logger.exception("Could not delete stored file %s", name)

    transaction.on_commit(delete)


@receiver(post_delete, sender=Image, dispatch_uid="catalog_image_delete_files")
def delete_image_files(sender, instance: Image, **kwargs) -> None:
    delete_files_on_commit(instance.image.storage, instance.stored_names())
