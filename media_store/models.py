from __future__ import annotations

from django.db import models


class StoredFile(models.Model):
    """What a remote storage holds under one name, recorded at upload.

    ``ImageKitStorage`` answers ``exists()``, ``size()`` and dimension reads
    from here without a network call, and deletes by the recorded fileId.
    A row with ``delete_failed_at`` set is a deletion that still has to
    happen; ``media_gc`` retries it.
    """

    name = models.CharField("name", max_length=1024, unique=True)
    file_id = models.CharField("ImageKit fileId", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("size in bytes")
    width = models.PositiveIntegerField("width", null=True, blank=True)
    height = models.PositiveIntegerField("height", null=True, blank=True)
    mime = models.CharField("MIME type", max_length=100, blank=True)
    is_private = models.BooleanField("private", default=False)
    uploaded_at = models.DateTimeField("uploaded at")
    delete_failed_at = models.DateTimeField("deletion failed at", null=True, blank=True)
    last_error = models.TextField("last error", blank=True)

    class Meta:
        verbose_name = "stored file"
        verbose_name_plural = "stored files"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
