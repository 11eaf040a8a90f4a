"""The rendition cache: keys, lookup, atomic writes, and LRU eviction under a size cap.

Files live at ``<RENDITION_CACHE_DIR>/<key[:2]>/<key>``. A rendition's mtime
is its last use: a hit touches it at most every TOUCH_INTERVAL seconds, so a
hit stays one open() and one fstat(). Several processes may share the
folder: the running total is kept in ``.usage``, read and written under an
exclusive flock by each writer; the writer that pushes it over
RENDITION_CACHE_MAX_BYTES scans the folder and deletes the least recently
used files until it is under LOW_WATER of the cap, then writes the true
total (which also corrects drift, e.g. files deleted by hand). Files being
written are ``.tmp-*`` until an atomic rename, and are never evicted; a file
evicted while being served stays readable through the open handle.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from media_store.conf import get, rendition_cache_dir
from media_store.grammar import Transformation
from media_store.rendering import RENDERER_VERSION

logger = logging.getLogger(__name__)

# A hit refreshes the file's mtime (its place in the LRU order) at most this often.
TOUCH_INTERVAL = 300
# Eviction goes down to this fraction of the cap, so it runs once per many writes.
LOW_WATER = 0.9
# Temporary files older than this were left by a crashed writer.
STALE_TEMPORARY = 3600
_TEMPORARY_PREFIX = ".tmp-"
_USAGE = ".usage"


def rendition_key(
    name: str, stat: os.stat_result, transformation: Transformation, variant: str
) -> str:
    """The cache key of a rendition: source name and version, canonical chain, format."""
    material = "\0".join(
        (
            str(RENDERER_VERSION),
            name,
            str(stat.st_mtime_ns),
            str(stat.st_size),
            str(transformation),
            variant,
            str(get("DEFAULT_QUALITY")),
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()


def path_for(key: str) -> Path:
    return rendition_cache_dir() / key[:2] / key


@dataclass(frozen=True, slots=True)
class Cached:
    """An open cached rendition; the caller closes ``handle`` (FileResponse does)."""

    handle: IO[bytes]
    size: int


def open_cached(key: str) -> Cached | None:
    """The cached rendition for ``key``, or None on a miss (or a cache that cannot be read)."""
    path = path_for(key)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError:
        # A broken cache must not break delivery: render instead.
        logger.warning("Cannot read rendition cache at %s", path, exc_info=True)
        return None
    try:
        stat = os.fstat(handle.fileno())
        if stat.st_mtime < time.time() - TOUCH_INTERVAL:
            # A rendition's mtime is its last use, for eviction.
            os.utime(handle.fileno())
    except OSError:
        logger.warning("Cannot touch cached rendition %s", path, exc_info=True)
        stat = None
    return Cached(handle, stat.st_size if stat else 0)


def store(key: str, data: bytes) -> None:
    """Write a rendition atomically, account for it and evict if over the cap.

    The data goes to a temporary file first; the rename into place and the
    accounting happen together under the lock, so an eviction scan never counts
    a file whose writer has not added it yet. Concurrent first requests may
    each write the same key; the last rename wins with identical bytes. A
    failed write is logged, not raised: the response is already in memory.
    """
    path = path_for(key)
    temp = _write_temporary(path, data)
    if temp is None:
        return
    try:
        with _usage(path.parent.parent) as usage:
            try:
                previous = path.stat().st_size
            except FileNotFoundError:
                previous = 0
            os.replace(temp, path)
            _account(usage, len(data) - previous, keep=path)
    except OSError:
        logger.warning("Cannot write rendition cache at %s", path, exc_info=True)
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _write_temporary(path: Path, data: bytes) -> str | None:
    """``data`` in a temporary file next to ``path`` (never counted nor evicted), or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
    except OSError:
        logger.warning("Cannot write rendition cache at %s", path, exc_info=True)
        return None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates 0600; a front server may serve this folder later.
        os.chmod(temp, 0o644)
    except OSError:
        logger.warning("Cannot write rendition cache at %s", path, exc_info=True)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return None
    return temp


def _account(usage: IO[str], added: int, *, keep: Path | None = None) -> int:
    """Add ``added`` bytes to the locked total; evict if it passes the cap. Returns the total."""
    folder = rendition_cache_dir()
    cap = get("RENDITION_CACHE_MAX_BYTES")
    total = _read_total(usage)
    total = usage_total(folder) if total is None else total + added
    if total > cap:
        total = evict(folder, int(cap * LOW_WATER), keep=keep)
    _write_total(usage, total)
    return total


@contextlib.contextmanager
def _usage(folder: Path) -> Iterator[IO[str]]:
    """The ``.usage`` file, locked exclusively (flock: between processes and threads alike)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / _USAGE, "a+", encoding="ascii") as usage:
        fcntl.flock(usage, fcntl.LOCK_EX)
        try:
            yield usage
        finally:
            fcntl.flock(usage, fcntl.LOCK_UN)


def _read_total(usage: IO[str]) -> int | None:
    usage.seek(0)
    text = usage.read().strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _write_total(usage: IO[str], total: int) -> None:
    usage.seek(0)
    usage.truncate()
    usage.write(f"{max(total, 0)}\n")
    usage.flush()


def _renditions(folder: Path) -> Iterator[os.DirEntry[str]]:
    """Every finished rendition file; stale temporary files are removed on the way."""
    now = time.time()
    with contextlib.suppress(FileNotFoundError):
        for shard in os.scandir(folder):
            if not shard.is_dir(follow_symlinks=False) or shard.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(shard.path):
                    if not entry.name.startswith(_TEMPORARY_PREFIX):
                        yield entry
                        continue
                    # Being written: leave it, unless its writer died long ago.
                    with contextlib.suppress(OSError):
                        if entry.stat().st_mtime < now - STALE_TEMPORARY:
                            os.unlink(entry.path)


def usage_total(folder: Path) -> int:
    """Bytes of every rendition in ``folder``, counted from the disk."""
    total = 0
    for entry in _renditions(folder):
        with contextlib.suppress(OSError):
            total += entry.stat().st_size
    return total


def evict(folder: Path, target: int, *, keep: Path | None = None) -> int:
    """Delete least recently used renditions until at most ``target`` bytes remain.

    ``keep`` (the file just written) is never deleted. Returns the bytes left.
    """
    files = []
    for entry in _renditions(folder):
        with contextlib.suppress(OSError):
            stat = entry.stat()
            files.append((stat.st_mtime, entry.path, stat.st_size))
    total = sum(size for _, _, size in files)
    files.sort()
    kept = str(keep) if keep is not None else None
    removed = 0
    for _, path, size in files:
        if total <= target:
            break
        if path == kept:
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # another process evicted it first
        except OSError:
            logger.warning("Cannot evict cached rendition %s", path, exc_info=True)
            continue
        total -= size
        removed += 1
    if removed:
        logger.info("Evicted %d cached renditions; %d bytes remain", removed, total)
    return total
