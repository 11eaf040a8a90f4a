"""What a storage holds against what the rows reference: one listing, one query per field.

Shared by ``media_gc`` (files no row references) and ``media_check`` (rows whose
files are missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from media_store.references import Reference, references
from media_store.storage.interface import Listed, MediaStorage


@dataclass
class Inventory:
    references: list[Reference]
    listed: list[Listed]
    # Recorded as stored though a listing may not show them yet (ImageKit's records).
    recorded: set[str]

    @cached_property
    def present(self) -> set[str]:
        return {entry.name for entry in self.listed} | self.recorded

    @cached_property
    def referenced(self) -> set[str]:
        return {row.name for row in self.references}

    @property
    def missing(self) -> list[Reference]:
        """Row fields whose file the storage does not hold."""
        return [row for row in self.references if row.name not in self.present]

    @property
    def unreferenced(self) -> list[Listed]:
        """Stored files no row references."""
        return [entry for entry in self.listed if entry.name not in self.referenced]


def take_inventory(storage: MediaStorage) -> Inventory:
    """Raises RemoteStorageError when the storage cannot be listed."""
    rows = list(references(storage))
    return Inventory(rows, list(storage.iter_files()), storage.recorded_names())
