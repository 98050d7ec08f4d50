"""Reading one file from disk again without making the caller wait for a running (re)index.

A (re)index holds the index lock for as long as it runs, a cold one for minutes, and the callers here are
the editor's requests (a buffer closed, a query that found a file's stored record damaged): each must not
queue behind it, nor the requests after it. So a re-read takes the lock when it is free and runs at once,
and otherwise waits for it on a thread of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("roost.context.index")


class DiskRereads:
    """``reread(path)`` under ``index_lock``: now if it is free, else once the holder lets it go."""

    def __init__(self, index_lock: threading.Lock, reread: Callable[[str], None]):
        self._index_lock = index_lock
        self._reread = reread
        self._later = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roost-index-reread")

    def now_or_after_index(self, path: str) -> None:
        if not self._index_lock.acquire(blocking=False):
            try:
                self._later.submit(self._after_index, path)
            except RuntimeError:  # shut down: the index is closing, and the next start reads the disk
                log.info("index closing; %s is read again on the next start", path)
            return
        try:
            self._reread(path)
        finally:
            self._index_lock.release()

    def _after_index(self, path: str) -> None:
        try:
            with self._index_lock:
                self._reread(path)
        except Exception:  # nobody waits on this thread's result: say it here
            log.exception("re-reading %s from disk failed", path)

    def shutdown(self, wait: bool) -> None:
        """Stop taking re-reads; ``wait`` for those queued (not from the thread holding the lock)."""
        self._later.shutdown(wait=wait)
