"""Disk changes outside the editor (git checkout, code generation, formatters): watchdog events are
collected into a set (O(1) per event, so a burst of thousands never blocks the observer thread) and handed
over in one batch after a quiet period, or after ``max_delay_s`` of continuous churn at the latest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("roost.context.index")

# How often a watcher whose workspace folder was deleted looks for it to be back.
_ROOT_POLL_S = 0.5
# How often the workspace is rescanned where it cannot be watched (inotify's limits reached).
RESCAN_S = 10.0


class _Collector(FileSystemEventHandler):
    def __init__(self, watcher: DiskWatcher):
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(dest)
        for path in paths:
            self._watcher.notify(path.decode() if isinstance(path, bytes) else path)


class DiskWatcher:
    """Watches ``root`` recursively and calls ``apply(paths)`` with debounced batches of changed paths."""

    def __init__(
        self,
        root: Path,
        apply: Callable[[list[str]], object],
        debounce_s: float = 0.3,
        max_delay_s: float = 2.0,
        is_relevant: Callable[[str], bool] | None = None,
    ):
        self.root = root
        self._apply = apply
        self._debounce_s = debounce_s
        self._max_delay_s = max_delay_s
        self._is_relevant = is_relevant or (lambda _p: True)
        self._pending: set[str] = set()
        self._first_at = 0.0
        self._last_at = 0.0
        self._condition = threading.Condition()
        self._stopping = False
        self._observer = Observer()
        self._thread = threading.Thread(target=self._run, name="roost-index-watch", daemon=True)
        self.batches_applied = 0
        self.rescanning = False  # True where the tree cannot be watched: it is rescanned every RESCAN_S

    def start(self) -> None:
        self._schedule()
        self._observer.start()
        self._thread.start()

    def _schedule(self) -> None:
        try:
            self._observer.schedule(_Collector(self), str(self.root), recursive=True)
            self.rescanning = False
        except OSError as error:
            # inotify's limits (fs.inotify.max_user_watches, max_user_instances) reached: without this, no
            # change on disk would reach the index again. A rescan reads only what changed.
            log.warning("cannot watch %s (%s); rescanning it every %g s instead", self.root, error, RESCAN_S)
            self._observer.unschedule_all()
            self.rescanning = True

    def _watch_lost(self) -> bool:
        """The workspace folder is gone, or was deleted and made again (``rm -rf`` and a fresh clone): its
        watch died with the old folder (watchdog's emitter stops), so no change would be heard again."""
        return not self.root.is_dir() or not all(emitter.is_alive() for emitter in self._observer.emitters)

    def _watch_again(self) -> None:
        """Wait for the workspace folder to be back, watch it again, and have it rescanned whole (what
        happened in between was not heard)."""
        log.warning(
            "the workspace folder %s was deleted or replaced; waiting for it to watch it again", self.root
        )
        with self._condition:
            while not self._stopping and not self.root.is_dir():
                self._condition.wait(_ROOT_POLL_S)
            if self._stopping:
                return
        try:
            self._observer.unschedule_all()
            self._schedule()
            self._apply([str(self.root)])  # after the watch is set up: nothing falls in between
        except Exception:
            log.exception("watching %s again failed", self.root)

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        try:
            self._observer.stop()
            self._observer.join(timeout=5)
        except Exception:  # pragma: no cover - observer already gone
            pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def notify(self, path: str) -> None:
        now = time.monotonic()
        with self._condition:
            if not self._pending:
                self._first_at = now
            self._pending.add(path)
            self._last_at = now
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._stopping:
                    if not self._condition.wait(RESCAN_S if self.rescanning else None):
                        self._first_at = self._last_at = time.monotonic()
                        self._pending.add(str(self.root))  # not watched: the whole tree is rescanned
                if self._stopping:
                    return
                # Wait for a quiet period, but never longer than max_delay after the first event.
                while not self._stopping:
                    now = time.monotonic()
                    quiet_left = self._last_at + self._debounce_s - now
                    hard_left = self._first_at + self._max_delay_s - now
                    wait = min(quiet_left, hard_left)
                    if wait <= 0:
                        break
                    self._condition.wait(wait)
                if self._stopping:
                    return
                batch, self._pending = self._pending, set()
            relevant = [path for path in batch if self._safe_relevant(path)]
            if relevant:
                try:
                    self._apply(relevant)
                    self.batches_applied += 1
                except Exception:  # the watcher must survive anything a batch throws
                    log.exception("applying %d disk changes failed", len(relevant))
            if self._watch_lost():
                self._watch_again()

    def _safe_relevant(self, path: str) -> bool:
        try:
            return self._is_relevant(path)
        except Exception:
            return False
