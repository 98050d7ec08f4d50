"""The workspace index as the server uses it: :class:`roost.context.index.WorkspaceIndex` started in the
background after ``initialized`` (queries answer with what is known meanwhile), fed the open buffers,
watching the disk, closed on shutdown. Adds only what the LSP needs on top (progress mapping, top-level
definition lookup) and never lets an index failure escape into a request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from roost.context.buffers import BufferEdit
from roost.context.facts import Definition, FileFacts, Import, ResolvedImport
from roost.context.graph import ImportEdge
from roost.context.index import WorkspaceIndex
from roost.context.indexing import IndexProgress, IndexReport
from roost.context.options import IndexOptions

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]  # (done, total, message)
# The edits of one change against the buffer's previous text, worked out on the buffer worker (the
# conversion reads the whole text, and keystrokes merged into one update skip it); None: the change
# replaced the whole text, or the previous text is unknown (then only the full text says what it is).
EditsOf = Callable[[], Sequence[BufferEdit] | None]

# How long a query waits for queued buffer edits before answering with the index as it is.
BUFFER_CATCH_UP_S = 10.0
# Set on the buffer worker thread: its own jobs (listeners) must not wait for the queue they are in.
_buffer_worker_flag = threading.local()


@dataclass
class _PendingUpdate:
    """A buffer update waiting for the worker; ``apply`` None means a whole-text update (merged edits)."""

    path: str
    text: str
    apply: Callable[[], None] | None
    started: bool = False


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class IndexService:
    def __init__(self, root: Path, options: IndexOptions, watch: bool = True) -> None:
        self.root = root
        self.workspace_index = WorkspaceIndex(root, options)
        self.watch_disk = watch
        self.ready = threading.Event()
        self.error: str | None = None
        self.seconds = 0.0
        self.report: IndexReport | None = None
        # Told of each batch of files changed on disk (after the index took it in).
        self.disk_listeners: list[Callable[[list[str]], None]] = []
        # Open buffers reach the index through one worker thread, in the order the editor sent them: a
        # re-parse (tree-sitter re-parses a whole Python file with a syntax error, seconds for megabytes)
        # must never run on the event loop, and edits must apply in order.
        self._buffer_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roost-buffers")
        # Jobs queued and done (in order: one worker); readers wait on it to see every earlier edit.
        self._submitted = 0
        self._applied = 0
        self._progress = threading.Condition()
        # The last job queued for each buffer: a query about one file waits for that file's edits only.
        self._last_ticket: dict[str, int] = {}
        self._last_queued: _PendingUpdate | None = None  # the last job queued, if an update not started
        # Open buffers over ``max_file_bytes``: kept out of the index, like such files on disk.
        self._oversized: set[str] = set()

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, progress: ProgressCallback, done: Callable[[IndexService], None]) -> None:
        started = time.perf_counter()

        def on_progress(update: IndexProgress) -> None:
            progress(update.done, update.total, update.message or update.phase)

        def finished(future: Future[IndexReport]) -> None:
            self.seconds = time.perf_counter() - started
            error = future.exception()
            if error is not None:
                self.error = str(error) or type(error).__name__
            else:
                self.report = future.result()
            self.ready.set()
            done(self)

        # Watching starts before the scan, so changes made while the cold index runs are not lost.
        self.workspace_index.start(
            on_progress, watch=self.watch_disk, on_refreshed=self._disk_changed
        ).add_done_callback(finished)

    def _disk_changed(self, paths: list[str]) -> None:
        for listener in list(self.disk_listeners):
            try:
                listener(paths)
            except Exception:
                log.exception("disk-change listener failed")

    def close(self) -> None:
        # Pending buffer updates are moot once the index closes; a running one finishes first.
        self._buffer_worker.shutdown(wait=True, cancel_futures=True)
        with self._progress:
            self._applied = self._submitted  # the cancelled ones: nobody waits for them any more
            self._progress.notify_all()
        try:
            self.workspace_index.close()
        except Exception:
            log.exception("closing the index failed")

    # -- buffers ---------------------------------------------------------------------------------
    def update_buffer(self, path: str, text: str) -> None:
        self._queue(path, text, lambda: self.workspace_index.update_buffer(path, text))

    def apply_changes(self, path: str, text: str, edits: EditsOf) -> None:
        """One didChange: ``edits()`` (byte-column edits against the previous text, or None) are applied
        incrementally; ``text`` (the editor's text after them) lets the index re-sync if it drifted."""

        def apply() -> None:
            # (A buffer back under the limit has no state in the index: the index opens it from ``text``.)
            self.workspace_index.update_buffer(path, text, edits=edits())

        self._queue(path, text, apply)

    def close_buffer(self, path: str) -> None:
        def close() -> None:
            self._oversized.discard(path)
            self.workspace_index.close_buffer(path)

        self._submit(f"closing the buffer {path} in the index", close, path=path)

    def after_buffer_updates(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the buffer worker once every update queued so far is in the index (listeners
        that read the index for the new text, without blocking the event loop)."""
        self._submit("a buffer listener", work)

    def is_oversized(self, path: str) -> bool:
        """True while the open buffer of ``path`` is over ``max_file_bytes`` (not parsed, not indexed)."""
        return path in self._oversized

    def oversized_buffers(self) -> list[str]:
        return list(self._oversized)

    def queued_buffer_updates(self) -> int:
        """Buffer updates not yet applied to the index (for ``roost/debugStats``)."""
        with self._progress:
            return self._submitted - self._applied

    def wait_for_buffer_updates(
        self, path: str | None = None, timeout: float | None = BUFFER_CATCH_UP_S
    ) -> bool:
        """Block until every buffer update queued so far (for ``path``, or for any file) is in the index,
        so that a query sees the text the editor sent before it. Returns at once on the buffer worker
        itself (its listeners read the index) and on an event-loop thread (which must never wait for a
        parse): those read what is there. False if ``timeout`` ran out first."""
        if getattr(_buffer_worker_flag, "active", False) or _on_event_loop():
            return True
        with self._progress:
            target = self._submitted if path is None else self._last_ticket.get(path, 0)
            caught_up = self._progress.wait_for(lambda: self._applied >= target, timeout)
        if not caught_up:
            log.warning("the index is still applying buffer edits; answering with the state it has")
        return caught_up

    def _queue(self, path: str, text: str, apply: Callable[[], None]) -> None:
        """Queue one update of ``path``'s buffer to ``text`` (``apply`` applies it as edits). Keystrokes
        faster than the index parses merge into the update still waiting, as one whole-text update (the
        index applies it as the span between common prefix and suffix): the queue holds one text per file,
        not one per keystroke. Only an update queued last merges, so it never jumps over a close."""
        with self._progress:
            last = self._last_queued
            if last is not None and last.path == path and not last.started:
                last.text, last.apply = text, None
                return
            pending = _PendingUpdate(path, text, apply)
            self._last_queued = pending
        self._submit(f"index update of {path}", lambda: self._run_update(pending), keeps_last=True, path=path)

    def _run_update(self, pending: _PendingUpdate) -> None:
        with self._progress:
            pending.started = True
            if self._last_queued is pending:
                self._last_queued = None
            path, text, apply = pending.path, pending.text, pending.apply
        if self.over_limit(text):
            if path not in self._oversized:
                self._oversized.add(path)
                log.info(
                    "the open buffer %s is over index.max_file_bytes (%d); it is not parsed or indexed",
                    path,
                    self.workspace_index.options.max_file_bytes,
                )
                # What the index held of it (opened smaller) goes; the disk version comes back if it is
                # under the limit.
                self.workspace_index.close_buffer(path)
            return
        if apply is not None:
            apply()
        else:
            self.workspace_index.update_buffer(path, text)
        self._oversized.discard(path)

    def over_limit(self, text: str) -> bool:
        """True for a text over ``index.max_file_bytes`` in UTF-8 (:meth:`IndexOptions.over_limit`)."""
        return self.workspace_index.options.over_limit(text)

    def _submit(
        self, what: str, work: Callable[[], None], keeps_last: bool = False, path: str | None = None
    ) -> Future[None]:
        def run() -> None:
            _buffer_worker_flag.active = True
            try:
                work()
            except Exception:  # an index failure must never escape into a request
                log.exception("%s failed", what)
            finally:
                self._mark_applied(1)

        with self._progress:
            self._submitted += 1
            if path is not None:
                self._last_ticket[path] = self._submitted
            if not keeps_last:
                self._last_queued = None  # a later update must not merge into one queued before this job
        try:
            return self._buffer_worker.submit(run)
        except RuntimeError:  # shut down: the server is closing
            self._mark_applied(1)
            done: Future[None] = Future()
            done.set_result(None)
            return done

    def _mark_applied(self, count: int) -> None:
        with self._progress:
            self._applied += count
            self._progress.notify_all()

    # -- the retrieval CodeWorkspace protocol ------------------------------------------------------
    def file_facts(self, path: str) -> FileFacts | None:
        self.wait_for_buffer_updates(path)
        return self.workspace_index.file_facts(path)

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        self.wait_for_buffer_updates(importer)
        return self.workspace_index.resolve_import(importer, imp)

    def file_text(self, path: str) -> str | None:
        self.wait_for_buffer_updates(path)
        return self.workspace_index.file_text(path)

    def paths(self) -> Iterable[str]:
        self.wait_for_buffer_updates()
        return self.workspace_index.paths()

    # -- graph queries the refactors need ---------------------------------------------------------
    def dependents(self, path: str) -> list[str]:
        self.wait_for_buffer_updates()
        return list(self.workspace_index.dependents(path))

    def imports(self, path: str) -> list[ImportEdge]:
        self.wait_for_buffer_updates(path)
        return list(self.workspace_index.imports(path))

    def find_definitions(self, name: str) -> list[tuple[str, Definition]]:
        """(path, Definition) of top-level definitions named ``name`` anywhere in the workspace."""
        self.wait_for_buffer_updates()
        found: list[tuple[str, Definition]] = []
        for location in self.workspace_index.find_symbols(name):
            definition = location.definition
            if definition is not None and definition.parent is None:
                found.append((location.path, definition))
        return found
