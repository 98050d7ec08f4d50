"""Handing freed heap memory back to the operating system (glibc's ``malloc_trim``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    return trim


def release_freed_memory(*, collect: bool = False) -> None:
    """Give freed blocks back to the OS. glibc keeps them in its arenas (one per thread that allocated:
    the loader's pool, the engine's worker), so a process otherwise keeps its peak as RSS: the float32
    copies of a model load, a long prefill's activations. ``collect``: run the garbage collector first
    (it holds the GIL, so not from a thread that shares the process with a latency-sensitive loop);
    the trim itself runs in C without the GIL (ctypes releases it)."""
    if collect:
        gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
