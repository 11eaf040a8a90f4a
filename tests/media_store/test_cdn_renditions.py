"""The rendition cache: keys, hits, atomic writes, and LRU eviction under a size cap."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from media_store.cdn import renditions
from media_store.grammar import parse

KB = 1024


@pytest.fixture
def cache_dir(settings, tmp_path) -> Path:
    folder = tmp_path / "renditions"
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "RENDITION_CACHE_DIR": folder,
        "RENDITION_CACHE_MAX_BYTES": 100 * KB,
    }
    return folder


def key(number: int) -> str:
    return f"{number:064x}"


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def total(folder: Path) -> int:
    return sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def age(folder: Path, number: int, seconds: float) -> None:
    path = renditions.path_for(key(number))
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_rendition_key_changes_with_source_chain_variant_and_quality(settings, tmp_path):
    source = tmp_path / "x.jpg"
    source.write_bytes(b"x")
    stat = source.stat()
    base = renditions.rendition_key("x.jpg", stat, parse("w-10"), "webp")

    assert renditions.rendition_key("x.jpg", stat, parse("w-10"), "webp") == base
    assert renditions.rendition_key("y.jpg", stat, parse("w-10"), "webp") != base
    assert renditions.rendition_key("x.jpg", stat, parse("w-11"), "webp") != base
    assert renditions.rendition_key("x.jpg", stat, parse("w-10"), "orig") != base
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "DEFAULT_QUALITY": 50}
    assert renditions.rendition_key("x.jpg", stat, parse("w-10"), "webp") != base


def test_store_then_open_cached_returns_the_bytes(cache_dir):
    renditions.store(key(1), b"rendition")

    cached = renditions.open_cached(key(1))

    assert cached is not None
    with cached.handle:
        assert cached.handle.read() == b"rendition"
    assert cached.size == 9
    assert renditions.open_cached(key(2)) is None


def test_store_keeps_the_total_under_the_cap_evicting_least_recently_used(cache_dir):
    # Given nine 10 KB renditions, the oldest first, and the first one used recently
    for number in range(9):
        renditions.store(key(number), b"x" * 10 * KB)
        age(cache_dir, number, 10_000 - number)
    age(cache_dir, 0, 0)

    # When two more writes push the total over 100 KB
    renditions.store(key(9), b"x" * 10 * KB)
    renditions.store(key(10), b"x" * 10 * KB)

    # Then the least recently used went first, down to 90 % of the cap
    assert files(cache_dir) == {key(n) for n in (0, 4, 5, 6, 7, 8, 9, 10)} or files(cache_dir) == {
        key(n) for n in (0, 3, 4, 5, 6, 7, 8, 9, 10)
    }
    assert total(cache_dir) <= 100 * KB
    assert int((cache_dir / ".usage").read_text()) == total(cache_dir)


def test_open_cached_touches_an_old_rendition_so_it_is_kept(cache_dir):
    renditions.store(key(1), b"x")
    age(cache_dir, 1, renditions.TOUCH_INTERVAL + 60)
    before = renditions.path_for(key(1)).stat().st_mtime

    renditions.open_cached(key(1)).handle.close()

    assert renditions.path_for(key(1)).stat().st_mtime > before + 60


def test_open_cached_leaves_a_recent_rendition_untouched(cache_dir):
    renditions.store(key(1), b"x")
    age(cache_dir, 1, 10)
    before = renditions.path_for(key(1)).stat().st_mtime_ns

    renditions.open_cached(key(1)).handle.close()

    assert renditions.path_for(key(1)).stat().st_mtime_ns == before


def test_evict_never_removes_a_file_being_written(cache_dir):
    renditions.store(key(1), b"x" * 50 * KB)
    writing = renditions.path_for(key(1)).parent / ".tmp-inflight"
    writing.write_bytes(b"y" * 200 * KB)

    renditions.store(key(2), b"x" * 60 * KB)

    assert writing.exists()
    assert files(cache_dir) == {key(2)}


def test_evict_removes_temporary_files_a_crashed_writer_left(cache_dir):
    renditions.store(key(1), b"x")
    stale = renditions.path_for(key(1)).parent / ".tmp-stale"
    stale.write_bytes(b"y")
    then = time.time() - renditions.STALE_TEMPORARY - 10
    os.utime(stale, (then, then))

    renditions.evict(cache_dir, 0)

    assert not stale.exists()


def test_store_never_evicts_the_rendition_it_just_wrote(cache_dir):
    renditions.store(key(1), b"x" * 150 * KB)

    assert files(cache_dir) == {key(1)}


def test_store_recounts_when_the_usage_file_is_missing_or_wrong(cache_dir):
    renditions.store(key(1), b"x" * 30 * KB)
    (cache_dir / ".usage").write_text("garbage")

    renditions.store(key(2), b"x" * 30 * KB)

    assert int((cache_dir / ".usage").read_text()) == 60 * KB


def test_store_by_concurrent_threads_respects_the_cap(cache_dir):
    def write(number: int) -> None:
        renditions.store(key(number), b"x" * 7 * KB)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(64)))

    assert total(cache_dir) <= 100 * KB
    assert int((cache_dir / ".usage").read_text()) == total(cache_dir)


def _write_many(folder: str, start: int) -> None:
    """In another process: 20 renditions under a 100 KB cap."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        django.setup()
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "RENDITION_CACHE_DIR": folder,
        "RENDITION_CACHE_MAX_BYTES": 100 * KB,
    }
    for number in range(start, start + 20):
        renditions.store(key(number), b"x" * 9 * KB)


def test_store_by_concurrent_processes_sharing_the_folder_respects_the_cap(cache_dir):
    context = get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=context) as pool:
        for future in [pool.submit(_write_many, str(cache_dir), 100 * n) for n in range(3)]:
            future.result()

    assert total(cache_dir) <= 100 * KB
    assert int((cache_dir / ".usage").read_text()) == total(cache_dir)


def test_store_into_an_unwritable_folder_is_logged_not_raised(settings, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDITION_CACHE_DIR": blocker}

    renditions.store(key(1), b"x")

    assert "Cannot write rendition cache" in caplog.text
