"""Persistence: file bytes in a folder, their records in a SQLite index.

Each version's bytes live in ``blobs/<versionId>`` and are never rewritten, so
an overwrite swaps the record to a new blob and a download streaming the old
one is not corrupted. A single lock serialises index access; that also makes
"is this path taken?" and "insert" one atomic step for concurrent uploads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from media_store.imagekit_server.names import with_unique_suffix

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id TEXT NOT NULL UNIQUE,
    file_path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_folder ON files (folder);
"""

# With a random suffix a clash is already unlikely; this bounds the retry loop.
_MAX_NAME_ATTEMPTS = 100


def new_id() -> str:
    """24 hex chars like ImageKit's ids (MongoDB ObjectIds): 4 bytes of time, 8 random."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class FileRecord:
    """One stored file (its current version), as kept in the index."""

    file_id: str
    name: str
    folder: str
    size: int
    mime: str
    file_type: str  # "image" or "non-image"
    version_id: str
    version_number: int = 1
    width: int | None = None
    height: int | None = None
    has_alpha: bool = False
    tags: list[str] | None = None
    custom_metadata: dict[str, Any] = field(default_factory=dict)
    custom_coordinates: str | None = None
    description: str | None = None
    is_private: bool = False
    is_published: bool = True
    created_at: int = 0  # epoch milliseconds
    updated_at: int = 0
    seq: int = 0  # insertion order, a stable tie-breaker for sorting

    @property
    def file_path(self) -> str:
        return f"{self.folder}{self.name}"


@dataclass(slots=True)
class NewFile:
    """What an upload knows about its file before a name and id are chosen."""

    name: str
    folder: str
    size: int
    mime: str
    file_type: str
    width: int | None = None
    height: int | None = None
    has_alpha: bool = False
    tags: list[str] | None = None
    custom_metadata: dict[str, Any] = field(default_factory=dict)
    custom_coordinates: str | None = None
    description: str | None = None
    is_private: bool = False
    is_published: bool = True


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """ImageKit's upload flags that decide what happens on a name clash (all default true)."""

    use_unique_file_name: bool = True
    overwrite_file: bool = True
    overwrite_tags: bool = True
    overwrite_custom_metadata: bool = True


class PathTakenError(FileExistsError):
    """The path exists and the policy forbids both a suffix and an overwrite."""


class Store:
    """Thread-safe file store under ``root``; a new Store on the same root sees the same files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # One connection shared by the request threads, serialised by _lock.
        self._db = sqlite3.connect(
            self.root / "index.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # No fsync per upload while _lock is held (a burst queued behind the disk):
        # with WAL, NORMAL still survives a crash of this process, not a power cut.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # Uploads interrupted by a crash leave temp files nobody will claim.
        for leftover in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()

    # Reading -----------------------------------------------------------------

    def get(self, file_id: str) -> FileRecord | None:
        return self._one("SELECT seq, data FROM files WHERE file_id = ?", (file_id,))

    def get_by_path(self, file_path: str) -> FileRecord | None:
        return self._one("SELECT seq, data FROM files WHERE file_path = ?", (file_path,))

    def files(self, folder: str | None = None) -> list[FileRecord]:
        """All records in insertion order, or only those directly in ``folder`` (``/a/b/``)."""
        if folder is None:
            return self._many("SELECT seq, data FROM files ORDER BY seq", ())
        return self._many("SELECT seq, data FROM files WHERE folder = ? ORDER BY seq", (folder,))

    def blob_path(self, record: FileRecord) -> Path:
        return self.blob_dir / record.version_id

    # Writing -----------------------------------------------------------------

    def temp_file(self) -> IO[bytes]:
        """A named temp file on the store's disk, so ``put`` can move it in with a rename."""
        return tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="upload-", delete=False)

    def put(self, blob: Path, new: NewFile, policy: UploadPolicy) -> FileRecord:
        """Move ``blob`` in and index it, applying ImageKit's name-clash rules.

        With ``use_unique_file_name`` the name gets a random suffix; otherwise an
        existing path gets a new version (same fileId) unless ``overwrite_file`` is
        false, which raises PathTakenError. The temp ``blob`` is consumed either way.
        """
        try:
            with self._lock:
                existing = None
                name = new.name
                if policy.use_unique_file_name:
                    name = self._free_name(new.folder, new.name)
                else:
                    existing = self.get_by_path(f"{new.folder}{name}")
                    if existing is not None and not policy.overwrite_file:
                        raise PathTakenError(f"{new.folder}{name}")
                if existing is not None:
                    return self._replace(blob, existing, new, policy)
                return self._insert(blob, dataclasses.replace(new, name=name))
        finally:
            with contextlib.suppress(FileNotFoundError):
                blob.unlink()

    def delete(self, file_id: str) -> bool:
        return bool(self.delete_many([file_id]))

    def delete_many(self, file_ids: Iterable[str]) -> list[str]:
        """Delete what exists; return the ids actually deleted, in the order given."""
        deleted: list[str] = []
        with self._lock:
            for file_id in file_ids:
                record = self.get(file_id)
                if record is None:
                    continue
                self._db.execute("DELETE FROM files WHERE file_id = ?", (file_id,))
                self._unlink_blob(record.version_id)
                deleted.append(file_id)
        return deleted

    def clear(self) -> None:
        """Delete every file (tests use it to isolate a shared server)."""
        with self._lock:
            self._db.execute("DELETE FROM files")
            for blob in self.blob_dir.iterdir():
                with contextlib.suppress(OSError):
                    blob.unlink()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Internals ---------------------------------------------------------------

    def _free_name(self, folder: str, name: str) -> str:
        for _ in range(_MAX_NAME_ATTEMPTS):
            candidate = with_unique_suffix(name)
            if self.get_by_path(f"{folder}{candidate}") is None:
                return candidate
        raise RuntimeError(f"no free unique name for {folder}{name}")  # pragma: no cover

    def _insert(self, blob: Path, new: NewFile) -> FileRecord:
        timestamp = now_ms()
        file_id = new_id()
        record = FileRecord(
            **_fields(new),
            file_id=file_id,
            version_id=file_id,
            created_at=timestamp,
            updated_at=timestamp,
        )
        os.replace(blob, self.blob_path(record))
        try:
            cursor = self._db.execute(
                "INSERT INTO files (file_id, file_path, folder, data) VALUES (?, ?, ?, ?)",
                (record.file_id, record.file_path, record.folder, _dump(record)),
            )
        except BaseException:
            self._unlink_blob(record.version_id)
            raise
        record.seq = int(cursor.lastrowid or 0)
        return record

    def _replace(
        self, blob: Path, existing: FileRecord, new: NewFile, policy: UploadPolicy
    ) -> FileRecord:
        # ImageKit keeps the fileId of the path and adds a version (protocol notes, section 2).
        values = _fields(new)
        if not policy.overwrite_tags:
            values["tags"] = existing.tags
        if not policy.overwrite_custom_metadata:
            values["custom_metadata"] = existing.custom_metadata
        record = FileRecord(
            **values,
            file_id=existing.file_id,
            version_id=new_id(),
            version_number=existing.version_number + 1,
            created_at=existing.created_at,
            updated_at=now_ms(),
            seq=existing.seq,
        )
        os.replace(blob, self.blob_path(record))
        self._db.execute(
            "UPDATE files SET data = ? WHERE file_id = ?", (_dump(record), record.file_id)
        )
        self._unlink_blob(existing.version_id)
        return record

    def _unlink_blob(self, version_id: str) -> None:
        # A reader that already opened the blob keeps reading it (POSIX unlink semantics).
        with contextlib.suppress(FileNotFoundError):
            (self.blob_dir / version_id).unlink()

    def _one(self, sql: str, params: tuple[Any, ...]) -> FileRecord | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return None if row is None else _load(row)

    def _many(self, sql: str, params: tuple[Any, ...]) -> list[FileRecord]:
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_load(row) for row in rows]


def _fields(new: NewFile) -> dict[str, Any]:
    return {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}


def _dump(record: FileRecord) -> str:
    data = dataclasses.asdict(record)
    del data["seq"]
    return json.dumps(data, ensure_ascii=False)


def _load(row: tuple[int, str]) -> FileRecord:
    seq, data = row
    return FileRecord(**json.loads(data), seq=seq)
