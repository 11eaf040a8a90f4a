"""Give the memory of freed images back to the operating system at once (glibc only).

glibc serves a malloc above its mmap threshold with its own mapping and unmaps it on
free, but it raises that threshold (up to 32 MiB on 64-bit) whenever such a block is
freed. After the first render, Pillow's image blocks (up to 16 MiB each) therefore
come from the arenas of the threads that render, and stay in the process when freed;
a threaded server renders on many threads, so its resident size creeps towards one
render's peak per arena. Measured with runserver and 8 concurrent renders under the
limiter (bench/bench_render_budget.py): peak RSS 404 MB, 165 MB still held afterwards;
with a fixed 1 MiB threshold 276-285 MB and 90 MB, at no measurable cost per render.
Setting the threshold with mallopt() also stops the adjustment.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os

logger = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 2**20


@functools.cache
def return_freed_images_to_the_os() -> bool:
    """Fix glibc's mmap threshold at 1 MiB for this process; True if it was set.

    Does nothing where the operator set MALLOC_MMAP_THRESHOLD_ (their choice wins)
    or the C library has no mallopt (musl's is a stub returning 0, macOS has none).
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if done:
        logger.debug("glibc mmap threshold fixed at %d bytes for rendering", MMAP_THRESHOLD)
    return done
