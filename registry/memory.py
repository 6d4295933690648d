"""Give freed memory back to the operating system after a large computation, and keep the
garbage collector's full passes short (issue 20).

A worker that computes the summary or the map at 100,000 entries allocates and frees some
100 MB each time. glibc keeps freed heap memory for reuse, and after many such rounds a
worker's resident memory had grown to ~370 MB. ``malloc_trim(0)`` returns the free pages;
it takes a few milliseconds. On a C library without it (musl) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
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


_frozen = False


def freeze_startup_objects() -> None:
    """Leave the objects alive once the app is built out of every later garbage collection
    (once per process; ``GC_FREEZE``).

    After start-up a worker holds some 160,000 objects that live as long as it does (modules,
    classes, the app, its extensions). CPython's cyclic collector walks all of them in each
    full pass, and a large computation (the export of all obstacles at 100,000 entries makes
    millions of short-lived dicts and lists) triggers a full pass every few thousand
    records: ~40% of the export's time. ``gc.freeze()`` moves them to a generation no pass
    looks at, as the Python docs advise for a server that forks workers; objects made later
    are collected as usual. Without a collection first: that would run the finalizers of
    whatever garbage happens to exist, in whichever process builds an app."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
