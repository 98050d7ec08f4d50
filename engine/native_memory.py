"""Handing memory back to the operating system: freed heap blocks (glibc's ``malloc_trim``) and the
pages of a memory-mapped checkpoint that a load has finished reading (``madvise(MADV_DONTNEED)``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import mmap
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

# Linux's MADV_DONTNEED: the process's page-table entries for the range go; a file-backed page is read
# again from the file (the page cache) if it is ever touched again, so the mapping's contents stay.
_MADV_DONTNEED = 4


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    if libc is None:
        return None
    try:
        trim: Callable[[int], int] = libc.malloc_trim
    except AttributeError:  # not glibc (musl, macOS): nothing to trim
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


@dataclass(frozen=True)
class FileMapping:
    """A memory-mapped regular file's region of this process: addresses ``[start, end)`` hold the file's
    bytes from ``offset`` on."""

    start: int
    end: int
    offset: int
    path: str


def mapped_files() -> list[FileMapping]:
    """This process's memory-mapped regular files, from /proc/self/maps (Linux; elsewhere none)."""
    if not sys.platform.startswith("linux"):
        return []
    regions = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                # A mapped file names its path; anonymous memory, the heap and the stack do not (or name a
                # [pseudo-file]). Only a file on disk qualifies: its pages come back from the file. Device
                # and memfd mappings (a private /dev/zero is anonymous memory) never do.
                path = fields[5].rstrip("\n") if len(fields) == 6 else ""
                if (
                    path.startswith("/")
                    and not path.startswith(("/dev/", "/memfd:", "/SYSV"))
                    and not path.endswith("(deleted)")
                    and fields[4] != "0"
                ):
                    start, end = fields[0].split("-")
                    regions.append(FileMapping(int(start, 16), int(end, 16), int(fields[2], 16), path))
    except OSError:
        return []
    return regions


def file_mappings() -> list[tuple[int, int]]:
    """``(start, end)`` of this process's memory-mapped regular files (Linux; elsewhere none)."""
    return [(mapping.start, mapping.end) for mapping in mapped_files()]


def mapped_file_location(address: int, length: int) -> tuple[str, int] | None:
    """``(path, byte offset)`` of the file whose mapping holds the bytes ``[address, address + length)``
    (a tensor that is a view of a memory-mapped checkpoint), or None when they are not one file's."""
    for mapping in mapped_files():
        if mapping.start <= address and address + length <= mapping.end:
            return mapping.path, mapping.offset + (address - mapping.start)
    return None


def release_mapped_pages(spans: Iterable[tuple[int, int]], mappings: list[tuple[int, int]]) -> int:
    """Drop this process's resident pages of memory-mapped files wholly inside the byte ranges ``spans``
    (``(address, length)``, e.g. the weights a lazy checkpoint load gave and that were just converted);
    returns the bytes released. Only ranges inside one of ``mappings`` (:func:`file_mappings`) are
    touched, never the heap: a dropped page of a mapped file reads back from the file, so the mapping
    keeps its contents (a private mapping's page written since would revert: release only what was
    only read). Pages shared with a neighbouring range stay. Without Linux's madvise: nothing, 0."""
    libc = _libc()
    if libc is None or not mappings:
        return 0
    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    page = mmap.PAGESIZE
    released = 0
    for address, length in spans:
        if not any(start <= address and address + length <= end for start, end in mappings):
            continue
        first = -(-address // page) * page  # whole pages only: the edges may hold another tensor's bytes
        last = (address + length) // page * page
        if last > first and madvise(first, last - first, _MADV_DONTNEED) == 0:
            released += last - first
    return released
