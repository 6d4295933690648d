"""Give freed memory back to the operating system after a large computation (issue 20).

A worker that computes the summary or the map at 100,000 entries allocates and frees some
100 MB each time. glibc keeps freed heap memory for reuse, and after many such rounds a
worker's resident memory had grown to ~370 MB. ``malloc_trim(0)`` returns the free pages;
it takes a few milliseconds. On a C library without it (musl) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

_trim: Callable[[int], int] | None = None


def _load() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim)."""
    global _trim
    if _trim is None:
        _trim = _load() or (lambda _pad: 0)
    _trim(0)
