"""How much image work one process runs at once, and how much memory it may hold.

Image work is a render of the local CDN or the decode of an upload (checked,
then shrunk to its small variant: catalog.image_files). Both are CPU- and
memory-bound (Pillow releases the GIL, so threads do run in parallel): past
one per core, more at once only makes each slower and adds their images up in
memory. A job takes a slot and its estimated memory
(media_store.rendering.budget); one that cannot get both within its timeout
raises RenderBusyError instead of queueing without bound. Cached renditions
never come here.

Slots also order a burst: uploads decode a few at a time in arrival order, so
the first ones reach ImageKit while the rest decode, instead of every upload
getting a sliver of the cores and all of them reaching ImageKit at the end.

The limit is per process: with several worker processes, each has its own
(MAX_CONCURRENT_RENDERS divides the host's cores among them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from media_store.cdn.memory import return_freed_images_to_the_os
from media_store.conf import get

# Seconds a refused client is asked to wait: about one render at the budget's limit.
RETRY_AFTER = 1


class RenderBusyError(Exception):
    """No slot (or not enough memory) came free in time."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"no image-work slot came free in {waited:.2f} s")
        self.waited = waited
        self.retry_after = RETRY_AFTER


class RenderLimiter:
    """At most ``slots`` renders at once, holding at most ``memory`` estimated bytes together.

    A render estimated above ``memory`` is counted as ``memory``: it runs
    alone rather than never.
    """

    def __init__(self, slots: int, memory: int) -> None:
        self.slots = slots
        self.memory = memory
        self._condition = threading.Condition()
        self._running = 0
        self._reserved = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def reserved(self) -> int:
        """Estimated bytes the running jobs hold."""
        return self._reserved

    @contextmanager
    def slot(self, memory: int, timeout: float) -> Iterator[None]:
        """Hold a slot and ``memory`` bytes; raises RenderBusyError after ``timeout``."""
        memory = max(0, min(memory, self.memory))
        started = time.monotonic()
        deadline = started + timeout
        with self._condition:
            while self._running >= self.slots or self._reserved + memory > self.memory:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RenderBusyError(time.monotonic() - started)
                self._condition.wait(remaining)
            self._running += 1
            self._reserved += memory
        try:
            yield
        finally:
            # Released whatever the render raised, or the slot would leak.
            with self._condition:
                self._running -= 1
                self._reserved -= memory
                self._condition.notify_all()


_lock = threading.Lock()
_limiter: RenderLimiter | None = None


def limiter() -> RenderLimiter:
    """The process's limiter for the current settings (a new one when they change)."""
    global _limiter
    # Once per process, before the first image work: see media_store.cdn.memory.
    return_freed_images_to_the_os()
    slots = get("MAX_CONCURRENT_RENDERS")
    memory = get("MAX_RENDER_MEMORY") * slots
    with _lock:
        if _limiter is None or (_limiter.slots, _limiter.memory) != (slots, memory):
            # Renders holding the old one release into it; it is dropped with them.
            _limiter = RenderLimiter(slots, memory)
        return _limiter
