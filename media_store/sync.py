"""Copy stored files from one storage to another under the same names, verified.

``plan`` decides from one listing of each side which names need copying (a file
already at the destination with the source's size is skipped, so a run can be
repeated or resumed). ``copy_one`` runs in worker threads and touches no database:
it reads the source, checks that it decodes as an image, writes it under the
same name, and reads it back to check size and bytes. The caller, in its own
thread, records a copy (``destination.record``) or discards one that did not
verify (``destination.discard``).
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import File
from PIL import Image as PILImage

from media_store.exceptions import RemoteStorageError
from media_store.storage.interface import Listed, MediaStorage, Stored

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024


class Outcome(enum.StrEnum):
    COPIED = "copied"
    PRESENT = "already there"
    MISSING = "missing at the source"
    UNREADABLE = "not a readable image"
    FAILED = "failed"


# Outcomes that leave the destination without the file.
FAILURES = frozenset({Outcome.MISSING, Outcome.UNREADABLE, Outcome.FAILED})


@dataclass(frozen=True, slots=True)
class Task:
    """One name to copy: its size at the source (None: not listed there) and destination."""

    name: str
    source_size: int | None
    destination_size: int | None

    @property
    def present(self) -> bool:
        return self.source_size is not None and self.source_size == self.destination_size


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one name. ``stored`` is the copy: to record when COPIED, to
    discard when FAILED (it did not verify)."""

    name: str
    outcome: Outcome
    detail: str = ""
    stored: Stored | None = None


def plan(names: Iterable[str], source: MediaStorage, destination: MediaStorage) -> list[Task]:
    """A task per name, from one listing of each storage. Raises RemoteStorageError."""
    at_source = _sizes(source.iter_files())
    at_destination = _sizes(destination.iter_files())
    return [
        Task(name, at_source.get(name), at_destination.get(name)) for name in sorted(set(names))
    ]


def copy_one(task: Task, source: MediaStorage, destination: MediaStorage) -> Result:
    """Copy ``task.name`` and verify the copy; never raises for one file's trouble."""
    name = task.name
    try:
        with source.open(name) as handle:
            digest, size = _digest(handle)
            problem = _not_an_image(handle)
            if problem:
                return Result(name, Outcome.UNREADABLE, problem)
            stored = destination.put(name, handle)
        if stored.name != name:
            problem = f"the destination stored it as {stored.name!r}"
        else:
            try:
                problem = _differs(destination, stored, digest, size)
            except OSError as e:  # RemoteStorageError and FileNotFoundError included
                problem = f"it could not be read back ({e})"
        if problem:
            return Result(name, Outcome.FAILED, f"the copy did not verify: {problem}", stored)
    except FileNotFoundError:
        return Result(name, Outcome.MISSING)
    except RemoteStorageError as e:
        return Result(name, Outcome.FAILED, str(e))
    except Exception as e:
        # One file's unexpected trouble is reported, and the batch goes on.
        logger.exception("Copying %s failed", name)
        return Result(name, Outcome.FAILED, f"{type(e).__name__}: {e}")
    return Result(name, Outcome.COPIED, f"{size} bytes", stored)


def _sizes(listing: Iterable[Listed]) -> dict[str, int]:
    return {entry.name: entry.size for entry in listing}


def _digest(handle: File) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


def _not_an_image(handle: File) -> str:
    """Why the file does not decode as an image, or "" when it does.

    The workers run this in threads: the header's pixel count is checked here rather
    than by turning Pillow's DecompressionBombWarning into an error, because
    ``warnings.catch_warnings`` swaps the process's filter list, and concurrent
    workers could drop each other's filters (and a bomb be decoded).
    """
    handle.seek(0)
    try:
        with PILImage.open(handle) as img:
            limit = PILImage.MAX_IMAGE_PIXELS
            if limit is not None and img.width * img.height > limit:
                return (
                    f"it claims {img.width}×{img.height} pixels, more than Pillow decodes"
                    f" safely ({limit})"
                )
            if img.format == "JPEG":
                # Every byte is still decoded, at an eighth of the size.
                img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
    except Exception as e:
        return f"it does not decode ({type(e).__name__}: {e})"
    finally:
        handle.seek(0)
    return ""


def _differs(destination: MediaStorage, stored: Stored, digest: str, size: int) -> str:
    """How the stored copy differs from the source's bytes, or "" when it does not."""
    if stored.size != size:
        return f"{stored.size} bytes stored, {size} at the source"
    with destination.open(stored.name) as copy_handle:
        copied_digest, copied_size = _digest(copy_handle)
    if copied_size != size:
        return f"{copied_size} bytes read back, {size} at the source"
    if copied_digest != digest:
        return "the bytes read back differ from the source's"
    return ""
