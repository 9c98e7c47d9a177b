"""Handing memory back to the system after a call.

A call decodes and encodes hundreds of pictures a second on several threads (aiortc encodes in
the event loop's executor, decodes on a thread of its own). glibc's allocator gives each thread
an arena of its own (up to eight per core) and keeps what is freed there for later; pictures
freed on one thread and allocated on another leave the arenas fragmented, so the process grew
by ~210 MiB of resident memory over 200 calls at 1280x720, most of it free memory the allocator
kept (``bench/soak.py``, see docs/performance.md). Two arenas, and the free pages handed back
after each call, keep it within a few MiB of where it started.
"""

from __future__ import annotations

import ctypes
import logging
import time

log = logging.getLogger("kiosk.call.memory")
M_ARENA_MAX = -8  # mallopt(3) parameter number, from glibc's malloc.h
ARENAS = 2

try:
    _libc = ctypes.CDLL(None)  # the process's own C library
    _malloc_trim = _libc.malloc_trim  # glibc only; other C libraries do without
    _malloc_trim.argtypes = [ctypes.c_size_t]
    _mallopt = _libc.mallopt
    _mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
except (OSError, AttributeError):
    _malloc_trim = _mallopt = None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Let the threads share ``arenas`` allocator arenas (counts only for arenas not made yet,
    so call it early, before the calls' threads start). False where it cannot be done."""
    return _mallopt is not None and _mallopt(M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Give the allocator's free pages back to the system (after a call); False where there is
    nothing to do it with."""
    if _malloc_trim is None:
        return False
    started = time.perf_counter()
    _malloc_trim(0)
    log.debug("free memory handed back in %.1f ms", (time.perf_counter() - started) * 1000)
    return True
