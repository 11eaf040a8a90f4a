"""The render limiter, with real threads: slots, memory, timeouts, release on errors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from media_store.limiter import RETRY_AFTER, RenderBusyError, RenderLimiter, limiter

MB = 2**20


def test_slot_more_renders_than_slots_are_refused_after_the_timeout():
    # Given a limiter of 2 slots and 6 renders that each hold a slot for 0.3 s
    gate = RenderLimiter(slots=2, memory=200 * MB)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()
    most = 0

    def work() -> None:
        nonlocal most
        barrier.wait()
        try:
            with gate.slot(10 * MB, timeout=0.05):
                with lock:
                    most = max(most, gate.running)
                time.sleep(0.3)
        except RenderBusyError as e:
            with lock:
                outcomes.append(f"busy {e.retry_after}")
            return
        with lock:
            outcomes.append("ran")

    # When they all start at once
    with ThreadPoolExecutor(6) as pool:
        for future in [pool.submit(work) for _ in range(6)]:
            future.result()

    # Then two ran, the others were refused with a Retry-After, and none ran beside them
    assert sorted(outcomes) == ["busy 1"] * 4 + ["ran"] * 2
    assert most == 2
    assert gate.running == 0
    assert RETRY_AFTER == 1


def test_slot_waits_for_one_to_free_within_the_timeout():
    gate = RenderLimiter(slots=1, memory=100 * MB)
    started = threading.Event()

    def hold() -> None:
        with gate.slot(0, timeout=1):
            started.set()
            time.sleep(0.1)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait()
    begun = time.monotonic()

    with gate.slot(0, timeout=2):
        waited = time.monotonic() - begun

    holder.join()
    assert 0.02 < waited < 1


def test_slot_is_released_when_the_render_raises():
    gate = RenderLimiter(slots=1, memory=100 * MB)

    with pytest.raises(ZeroDivisionError), gate.slot(50 * MB, timeout=0.1):
        raise ZeroDivisionError

    assert gate.running == 0
    with gate.slot(100 * MB, timeout=0.01):
        assert gate.running == 1


def test_slot_memory_is_shared_between_renders():
    # Two slots, but only 100 MB: a 70 MB render and a 40 MB one cannot run together.
    gate = RenderLimiter(slots=2, memory=100 * MB)

    with gate.slot(70 * MB, timeout=0.1):
        with pytest.raises(RenderBusyError), gate.slot(40 * MB, timeout=0.05):
            pass
        with gate.slot(30 * MB, timeout=0.05):
            running = gate.running

    assert running == 2


def test_slot_over_the_whole_memory_runs_alone_rather_than_never():
    gate = RenderLimiter(slots=2, memory=100 * MB)

    with (
        gate.slot(500 * MB, timeout=0.05),
        pytest.raises(RenderBusyError),
        gate.slot(1, timeout=0.05),
    ):
        pass


def test_limiter_follows_the_settings(settings):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "MAX_CONCURRENT_RENDERS": 3,
        "MAX_RENDER_MEMORY": 10 * MB,
    }

    current = limiter()

    assert (current.slots, current.memory) == (3, 30 * MB)
    assert limiter() is current
