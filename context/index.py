"""The workspace index: the facade retrieval, refactors and the LSP server use.

    index = WorkspaceIndex(root, IndexOptions())
    future = index.start(progress=callback)       # background thread; queries work meanwhile
    index.definitions_at("pkg/mod.py", line, col)  # 0-based line, UTF-8 byte column
    index.set_buffer("pkg/mod.py", text); index.update_buffer("pkg/mod.py", text, edits)
    index.watch()                                  # follow disk changes (watchdog, debounced)
    index.close()

Cold indexing: scan (gitignore, excludes, secrets, size) → compare with the SQLite store (size/mtime, then
content hash) → parse what changed in worker processes (facts + import resolution done there) → write a
transaction per batch and link the graph as batches arrive. Warm start: load rows, no parsing. The parts
of a run that hold no state of the index (reuse, parsing in workers) are in :mod:`roost.context.indexing`;
one open buffer's edits and outline updates in :mod:`roost.context.open_buffers`.

Paths given to the API may be absolute or workspace-relative; answers use workspace-relative POSIX paths.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path, PurePosixPath

from roost.context.buffers import Buffer, BufferEdit
from roost.context.codec import decode_resolutions, encode_resolutions
from roost.context.disk_rereads import DiskRereads
from roost.context.facts import Definition, FileFacts, Import, Reference, ResolvedImport
from roost.context.graph import CodeGraph, Direction, GraphStats, ImportEdge, SymbolLocation
from roost.context.indexing import POOL_THRESHOLD as _POOL_THRESHOLD  # also read by tests/reliability
from roost.context.indexing import (
    IndexProgress,
    IndexReport,
    ProgressCallback,
    adapt_progress,
    load_stored_rows,
    parse_files,
    plan_reuse,
)
from roost.context.languages import language_for_path, language_named
from roost.context.languages.base import LanguageSupport
from roost.context.layout import FileSetLayout
from roost.context.navigation import FileView, Navigator, ReferenceLocation
from roost.context.open_buffers import OpenBuffer
from roost.context.options import IndexOptions, default_cache_dir
from roost.context.parser_cache import parser_for
from roost.context.parsing import (
    ParsedRecord,
    check_utf8,
    content_hash,
    index_one,
    resolve_all,
)
from roost.context.scanning import FileStat, WorkspaceFilter, read_source, scan_workspace, stat_file
from roost.context.store import IndexStore, StoredFile, fileset_fingerprint, store_path_for
from roost.context.watching import DiskWatcher

# The index's API; the progress and report types are defined in :mod:`roost.context.indexing`.
__all__ = ["IndexProgress", "IndexReport", "ProgressCallback", "WorkspaceIndex", "open_index"]

log = logging.getLogger("roost.context.index")

_VIEW_CACHE_SIZE = 64


class WorkspaceIndex:
    """Files, symbols and import edges of one workspace, kept current and persisted. Thread-safe."""

    def __init__(self, root: str | os.PathLike[str], options: IndexOptions | None = None):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace root is not a directory: {self.root}")
        self.options = options or IndexOptions()
        self._index_lock = threading.Lock()  # one (re)index at a time
        # Closed buffers, and files whose stored record is damaged, are read from disk again.
        self._rereads = DiskRereads(self._index_lock, self._disk_is_the_truth_again)
        self.graph = CodeGraph(on_damaged=self._rereads.now_or_after_index)
        self._filter = WorkspaceFilter(self.root, self.options)
        self._layout = FileSetLayout(self.root, (), self.options)
        self._stats: dict[str, FileStat] = {}
        self._skipped: set[str] = set()
        self._buffers: dict[str, OpenBuffer] = {}
        self._views: OrderedDict[str, tuple[bytes, FileView]] = OrderedDict()
        self._lock = threading.RLock()  # guards layout/stats/buffers/views (the graph has its own)
        self._store: IndexStore | None = None
        self._future: Future[IndexReport] | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._closed = False
        self._watcher: DiskWatcher | None = None
        self._navigator = Navigator(self.graph, self._view, self.source_bytes)
        self.last_report: IndexReport | None = None
        # CPU seconds the worker processes spent in the last index (diagnostics, benchmark).
        self._worker_cpu_s = 0.0

    # ===================================================================== lifecycle ==================

    def index(self, progress: ProgressCallback | None = None) -> IndexReport:
        """Bring the index up to date with the disk (cold or warm), blocking. Safe to call again."""
        with self._index_lock:
            report = self._run_index(adapt_progress(progress))
        self.last_report = report
        self._ready.set()
        return report

    def start(
        self,
        progress: ProgressCallback | None = None,
        watch: bool = False,
        on_refreshed: Callable[[list[str]], None] | None = None,
    ) -> Future[IndexReport]:
        """:meth:`index` in a background thread. Queries answer with what is known so far meanwhile.

        With ``watch``, the thread first starts :meth:`watch` (``on_refreshed`` as its listener), before
        the scan: what changes on disk while the cold index runs is applied as soon as it ends (each batch
        waits for it), instead of being lost until a restart. Setting up the watches walks the tree, which is
        why it happens on this thread and not the caller's."""
        future: Future[IndexReport] = Future()

        def run() -> None:
            if watch:
                try:
                    self.watch(on_refreshed)
                except Exception:  # watching is a convenience; the index still answers
                    log.exception("cannot watch %s for changes", self.root)
            try:
                report = self.index(progress)
            except BaseException as error:  # reported through the future, never lost
                log.exception("indexing %s failed", self.root)
                future.set_exception(error)
                self._ready.set()
                return
            future.set_result(report)
            # Build the name → files index now, off the request path: the first "members named m"
            # lookup (an untyped receiver) would otherwise pay for decoding every file.
            try:
                self.graph.find_symbols("")
            except Exception:
                log.exception("building the symbol name index failed")

        self._future = future
        self._thread = threading.Thread(target=run, name="roost-index", daemon=True)
        self._thread.start()
        return future

    @property
    def ready(self) -> bool:
        """True once a full (re)index has finished."""
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the first index finished; False on timeout."""
        return self._ready.wait(timeout)

    def close(self) -> None:
        """Stop watching, wait for a running index, close the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.stop_watching()
        on_index_thread = self._thread is threading.current_thread()
        if self._thread is not None and not on_index_thread:
            self._thread.join()
            self.stop_watching()  # one the index thread may have started meanwhile
        self._rereads.shutdown(wait=not on_index_thread)  # deferred re-reads wait for the index thread
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store_path(self) -> Path | None:
        return self._store.db_path if self._store else None

    # ===================================================================== paths ======================

    def rel_path(self, path: str | os.PathLike[str]) -> str:
        """Workspace-relative POSIX path for an absolute or relative path (``ValueError`` if outside)."""
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                return candidate.resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
                return candidate.relative_to(self.root).as_posix()
        return candidate.as_posix().removeprefix("./")

    def abs_path(self, rel_path: str) -> Path:
        return self.root / rel_path

    # ===================================================================== indexing ===================

    def _open_store(self) -> IndexStore | None:
        if not self.options.persist:
            return None
        if self._store is None:
            cache = Path(self.options.cache_dir) if self.options.cache_dir else default_cache_dir()
            store = IndexStore(store_path_for(self.root, cache), self.root)
            try:
                store.open()
            except Exception as error:  # no cache dir, read-only disk...: index in memory only
                log.warning("index store unavailable (%s); indexing without persistence", error)
                return None
            self._store = store
        return self._store

    @property
    def worker_cpu_seconds(self) -> float:
        """CPU time the worker processes of the last (re)index spent (0 when parsed in-process)."""
        return self._worker_cpu_s

    def _run_index(self, progress: ProgressCallback) -> IndexReport:
        started = time.perf_counter()
        self._worker_cpu_s = 0.0
        progress(IndexProgress("scanning", 0, 0, str(self.root)))
        scanned = scan_workspace(self.root, self.options, self._filter)
        fileset = fileset_fingerprint(scanned)
        store = self._open_store()
        stored, stored_fileset = store.load() if store else ({}, None)
        rebuilt = bool(store and store.rebuilt)  # after load: it discards a store whose rows are damaged

        with self._lock:
            for path in list(self._layout.files()):
                if path not in scanned:
                    self._layout.remove(path)
            for path in scanned:
                self._layout.add(path)
            self._stats = dict(scanned)

        removed = [path for path in stored if path not in scanned]
        removed += [path for path in self.graph.files() if path not in scanned and path not in stored]
        for path in removed:
            if path not in self._buffers:  # an open, unsaved buffer stays until the editor closes it
                self.graph.remove(path)

        progress(IndexProgress("loading", 0, len(scanned)))
        reused, to_parse, touched_stats = plan_reuse(scanned, stored, self._same_content)
        if store and touched_stats:
            store.update_stats(touched_stats)

        try:
            refreshed = load_stored_rows(
                reused, self.graph, stored_fileset != fileset, self._buffers, self._resolve_locked
            )
        except ValueError:
            # A damaged record: trust nothing from this store.
            if store:
                store.discard_all()
                rebuilt = True
            return self._run_index_fresh(progress, scanned, started, rebuilt)
        if store:
            store.write(refreshed, removed, fileset=fileset)
        skipped = {row.path for row in reused if row.facts is None}

        total = len(to_parse)
        progress(IndexProgress("parsing", 0, total))
        skipped |= self._parse_paths(to_parse, scanned, store, progress)
        with self._lock:
            self._skipped = skipped
        report = IndexReport(
            files=len(scanned),
            parsed=total,
            reused=len(reused),
            skipped=len(skipped),
            removed=len(removed),
            seconds=time.perf_counter() - started,
            stats=self.graph.stats(),
            store_rebuilt=rebuilt,
        )
        progress(IndexProgress("done", total, total))
        return report

    def _run_index_fresh(
        self, progress: ProgressCallback, scanned: dict[str, FileStat], started: float, rebuilt: bool
    ) -> IndexReport:
        for path in self.graph.files():
            if path not in self._buffers:
                self.graph.remove(path)
        store = self._store
        if store:
            store.write((), (), fileset=fileset_fingerprint(scanned))
        paths = sorted(scanned)
        skipped = self._parse_paths(paths, scanned, store, progress)
        with self._lock:
            self._skipped = skipped
        return IndexReport(
            files=len(scanned),
            parsed=len(paths),
            reused=0,
            skipped=len(skipped),
            removed=0,
            seconds=time.perf_counter() - started,
            stats=self.graph.stats(),
            store_rebuilt=rebuilt,
        )

    def _same_content(self, path: str, digest: bytes) -> bool:
        source = read_source(self.root / path, self.options.max_file_bytes, path)
        return source is not None and content_hash(source) == digest

    def _resolve_locked(self, language: LanguageSupport, facts: FileFacts) -> tuple[ResolvedImport, ...]:
        with self._lock:
            return resolve_all(language, facts, self._layout)

    def _parse_paths(
        self,
        paths: list[str],
        scanned: dict[str, FileStat],
        store: IndexStore | None,
        progress: ProgressCallback,
    ) -> set[str]:
        """Parse ``paths`` (in worker processes when there are many) and link them. Returns skipped."""
        skipped: set[str] = set()
        total = len(paths)
        done = 0

        def absorb(records: list[ParsedRecord]) -> None:
            nonlocal done
            rows: list[StoredFile] = []
            for record in records:
                rows.append(self._absorb(record))
                if record.facts is None:
                    skipped.add(record.path)
            if store:
                store.write(rows)
            done += len(records)
            progress(IndexProgress("parsing", done, total))

        with self._lock:
            layout = self._layout
        parsed_cpu_s = parse_files(
            self.root, paths, scanned, layout, self.options, absorb, lambda: self._closed
        )
        self._worker_cpu_s += parsed_cpu_s
        return skipped

    def _absorb(self, record: ParsedRecord) -> StoredFile:
        with self._lock:
            self._stats[record.path] = FileStat(record.size, record.mtime_ns)
            if record.facts is None:
                self._skipped.add(record.path)
            else:
                self._skipped.discard(record.path)
        row = StoredFile.of(record)
        if record.path in self._buffers:
            return row  # the open buffer is the truth for this file
        if record.facts is None:
            self.graph.remove(record.path)
            return row
        # The blob goes into the graph as is: decoded only when a query needs this file.
        resolutions = decode_resolutions(record.resolutions or b"")
        self.graph.put(
            record.path, record.language, resolutions, blob=record.facts, definitions_count=record.definitions
        )
        return row

    # ===================================================================== disk changes ===============

    def refresh_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Re-read these files (changed, created or deleted on disk) and update the graph and store.

        Directories are rescanned. Returns how many files changed in the graph. Open buffers are left
        alone (the editor's text is the truth until the buffer is closed).
        """
        rel_paths: set[str] = set()
        for path in paths:
            try:
                rel = self.rel_path(path)
            except ValueError:
                continue
            if rel.startswith("../"):
                continue
            rel_paths.add(rel)
        ignore_files = {rel for rel in rel_paths if PurePosixPath(rel).name == ".gitignore"}
        if ignore_files:
            # Rules may have gone as well as come (a checkout): a filter with none of the old ones, and the
            # folders they govern rescanned: what they now let in is read, what they keep out is dropped.
            self._filter = WorkspaceFilter(self.root, self.options)
            rel_paths |= {PurePosixPath(rel).parent.as_posix() for rel in ignore_files}
        # Ordered sets: a file can come both as itself and inside a rescanned directory.
        changed: dict[str, None] = {}
        gone: dict[str, None] = {}
        for rel in sorted(rel_paths):
            # os.path.isdir, not Path.is_dir: it says False instead of raising where a parent cannot be searched.
            if os.path.isdir(self.root / rel):
                directory_changed, directory_gone = self._directory_changes(rel)
                changed.update(dict.fromkeys(directory_changed))
                gone.update(dict.fromkeys(directory_gone))
                continue
            self._filter.load_gitignores_for(rel)
            if not self._filter.accepts_file(rel):
                continue
            stat = stat_file(self.root, rel, self.options)
            if stat is None:
                gone[rel] = None
            else:
                with self._lock:
                    known_stat = self._stats.get(rel)
                if known_stat != stat:
                    changed[rel] = None
        return self._apply_disk_changes(list(changed), [path for path in gone if path not in changed])

    def _directory_changes(self, rel_dir: str) -> tuple[list[str], list[str]]:
        """Rescan a directory (``.`` or '' is the workspace root): its files that are new or differ from what
        the index knows, and the known files under it that are gone (or now excluded)."""
        prefix = "" if rel_dir in ("", ".") else f"{rel_dir}/"
        self._filter.load_gitignores_for(f"{prefix}x")
        if prefix and self._filter.is_excluded(rel_dir, is_dir=True):
            return [], []
        found = {
            f"{prefix}{path}": stat
            for path, stat in scan_workspace(
                self.root / rel_dir, self.options, log_prefix=prefix, workspace_root=self.root
            ).items()
            if self._filter.accepts_file(f"{prefix}{path}")
        }
        with self._lock:
            known = {path: stat for path, stat in self._stats.items() if path.startswith(prefix)}
        # Only what differs is re-read: an event on the root directory must not re-parse the workspace.
        changed = [path for path, stat in found.items() if known.get(path) != stat]
        return changed, [path for path in known if path not in found]

    def _apply_disk_changes(self, changed: list[str], gone: list[str]) -> int:
        with self._index_lock:
            return self._apply_disk_changes_locked(changed, gone)

    def _apply_disk_changes_locked(self, changed: list[str], gone: list[str]) -> int:
        with self._lock:
            before = set(self._layout.files())
            for path in gone:
                self._layout.remove(path)
                self._stats.pop(path, None)
                self._views.pop(path, None)
            for path in changed:
                self._layout.add(path)
                self._views.pop(path, None)
            after = set(self._layout.files())
            layout = self._layout
        store = self._store
        for path in gone:
            if path not in self._buffers:
                self.graph.remove(path)
        fileset = fileset_fingerprint(after) if after != before else None
        if store and gone:
            store.write((), gone)
        if len(changed) >= _POOL_THRESHOLD:
            # A checkout or a code generator: thousands of files go through the worker pool like a
            # cold index, in batches, while queries keep being answered.
            with self._lock:
                sizes = {path: self._stats.get(path, FileStat(0, 0)) for path in after}
            self._parse_paths(changed, sizes, store, lambda _update: None)
        else:
            rows = []
            for path in changed:
                record = index_one(self.root, path, layout, self.options)
                if record is not None:
                    rows.append(self._absorb(record))
            if store:
                store.write(rows)
        if fileset is not None:
            self._re_resolve(skip=set(changed), fileset=fileset)
        return len(changed) + len(gone)

    def _re_resolve(self, skip: set[str], fileset: str) -> None:
        """The file set changed: imports elsewhere may now resolve differently."""
        updates: list[tuple[str, bytes]] = []
        with self._lock:
            layout = self._layout
            buffers = dict(self._buffers)
        for path in self.graph.files():
            if path in skip:
                continue
            language = language_named(self.graph.language_of(path) or "")
            facts = self.graph.facts(path)
            if language is None or facts is None:
                continue
            with self._lock:
                fresh = resolve_all(language, facts, layout)
            if fresh != self.graph.resolutions(path):
                self.graph.set_resolutions(path, fresh)
                if path in buffers:
                    buffers[path].resolutions = fresh
                else:
                    updates.append((path, encode_resolutions(fresh)))
        if self._store:
            self._store.update_resolutions(updates, fileset)

    def watch(self, on_refreshed: Callable[[list[str]], None] | None = None) -> None:
        """Follow disk changes (watchdog), debounced and batched. Idempotent.

        ``on_refreshed`` gets each batch of workspace-relative paths after the graph took it in, so
        layers with caches of their own (retrieval's lexical index) can follow the same changes.
        """
        if self._watcher is not None or self._closed:
            return

        def refresh(paths: Iterable[str | os.PathLike[str]]) -> int:
            batch = list(paths)
            changed = self.refresh_paths(batch)
            if on_refreshed is not None:
                try:
                    on_refreshed([self.rel_path(path) for path in batch])
                except Exception:  # a listener's failure must not stop the watcher
                    log.exception("disk-change listener failed")
            return changed

        self._watcher = DiskWatcher(
            self.root,
            refresh,
            debounce_s=self.options.watch_debounce_s,
            max_delay_s=self.options.watch_max_delay_s,
            is_relevant=self._is_relevant_event,
        )
        self._watcher.start()

    def stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _is_relevant_event(self, abs_path: str) -> bool:
        rel = os.path.relpath(abs_path, self.root).replace(os.sep, "/")
        if rel.startswith("../"):
            return False
        return not self._filter.is_excluded(rel, is_dir=False) or os.path.isdir(abs_path)

    # ===================================================================== open buffers ===============

    def set_buffer(self, path: str | os.PathLike[str], text: str) -> None:
        """Open (or fully replace) an editor buffer: its text wins over the disk until closed."""
        rel = self.rel_path(path)
        language = language_for_path(rel)
        if language is None or self._filter.is_secret(rel):
            return
        source = text.encode("utf-8", "surrogatepass")
        with self._lock:
            state = self._buffers.get(rel)
            if state is None:
                buffer = Buffer(parser_for(language.ts_language(rel)), source)
                state = OpenBuffer(buffer, FileFacts(rel, language.name))
                self._buffers[rel] = state
            else:
                # Editors that sync full text (and the server's didChange with full content) still get
                # the incremental path: the change is the span between common prefix and suffix.
                state.buffer.replace_with_diff(source)
            self._refresh_buffer(rel, state, imports_may_change=False)

    def update_buffer(
        self, path: str | os.PathLike[str], text: str | None, edits: Sequence[BufferEdit] | None = None
    ) -> None:
        """Apply editor edits incrementally (tree-sitter edits + incremental re-parse).

        ``edits`` use byte columns against the text before each edit (in order, like LSP
        ``contentChanges``). ``text``, when given, is the editor's full text after the edits: if the
        buffer disagrees (a missed change), it is re-synced from ``text``. Unknown buffers are opened.
        """
        rel = self.rel_path(path)
        if edits is None:  # full-text sync
            if text is not None:
                self.set_buffer(rel, text)
            return
        with self._lock:
            state = self._buffers.get(rel)
            if state is None:
                if text is not None:
                    self.set_buffer(rel, text)
                return
            language = language_for_path(rel)
            # A language that can re-parse the edited statement alone gets the buffer with its whole-file
            # re-parse deferred (done when the tree is next needed: references, a failed local update).
            state.apply_edits(rel, edits, text, language is not None and language.updates_outline_locally)
            self._refresh_buffer(rel, state, imports_may_change=False)

    def close_buffer(self, path: str | os.PathLike[str]) -> None:
        """The editor closed the file: the disk is the truth again."""
        rel = self.rel_path(path)
        with self._lock:
            state = self._buffers.pop(rel, None)
            self._views.pop(rel, None)
        if state is not None:
            # Not behind a running (re)index: the editor's next buffer updates would queue behind it.
            self._rereads.now_or_after_index(rel)

    def _disk_is_the_truth_again(self, rel: str) -> None:
        """Read ``rel`` from disk again, whatever its stat says (under ``_index_lock``)."""
        with self._lock:
            if rel in self._buffers:  # opened again meanwhile
                return
        # A buffer never saved leaves the file set as well: imports must stop resolving to it.
        on_disk = (self.root / rel).is_file()
        self._apply_disk_changes_locked([rel] if on_disk else [], [] if on_disk else [rel])

    def buffer_text(self, path: str | os.PathLike[str]) -> str | None:
        rel = self.rel_path(path)
        with self._lock:
            state = self._buffers.get(rel)
            return state.buffer.source.decode("utf-8", errors="replace") if state else None

    def _refresh_buffer(self, rel: str, state: OpenBuffer, imports_may_change: bool) -> None:
        language = language_for_path(rel)
        assert language is not None
        facts = state.extract_outline(rel, language)
        if facts is None:
            return
        if rel not in self._layout.files():
            self._layout.add(rel)
        state.take_facts(facts, language, self._layout, imports_may_change)
        self._views.pop(rel, None)
        self.graph.put(rel, language.name, state.resolutions, facts=facts, pinned=True)

    # ===================================================================== views (sources on demand) ==

    def source_bytes(self, path: str | os.PathLike[str]) -> bytes | None:
        """The text of a file: the open buffer, else the disk. None for secrets, binaries, unreadable."""
        rel = self.rel_path(path)
        if self._filter.is_secret(rel):
            return None
        with self._lock:
            state = self._buffers.get(rel)
            if state is not None:
                return state.buffer.source
        return read_source(self.root / rel, self.options.max_file_bytes, rel)

    def source(self, path: str | os.PathLike[str]) -> str | None:
        data = self.source_bytes(path)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def _view(self, rel: str) -> FileView | None:
        language = language_for_path(rel)
        if language is None:
            return None
        with self._lock:
            state = self._buffers.get(rel)
            if state is not None:
                if state.references is None:
                    state.references = language.extract_references(
                        rel, state.buffer.source, state.buffer.tree
                    )
                return FileView(state.facts, state.references, state.buffer.source)
        source = self.source_bytes(rel)
        if source is None:
            return None
        digest = content_hash(source)
        with self._lock:
            cached = self._views.get(rel)
            if cached is not None and cached[0] == digest:
                self._views.move_to_end(rel)
                return cached[1]
        check_utf8(source, rel)
        tree = parser_for(language.ts_language(rel)).parse(source)
        facts = self.graph.facts(rel)
        if facts is None:
            facts = language.extract_outline(rel, source, tree)
        view = FileView(facts, language.extract_references(rel, source, tree), source)
        with self._lock:
            self._views[rel] = (digest, view)
            if len(self._views) > _VIEW_CACHE_SIZE:
                self._views.popitem(last=False)
        return view

    # ===================================================================== queries ====================

    def files(self) -> list[str]:
        """Every indexed file (workspace-relative), sorted."""
        return self.graph.files()

    def facts(self, path: str | os.PathLike[str]) -> FileFacts | None:
        """Outline facts of a file (definitions, imports, exports; no references)."""
        return self.graph.facts(self.rel_path(path))

    def symbols(self, path: str | os.PathLike[str]) -> list[Definition]:
        """Definitions in a file, source order."""
        return self.graph.symbols(self.rel_path(path))

    def imports(self, path: str | os.PathLike[str]) -> list[ImportEdge]:
        """Imports of a file with their resolution."""
        return self.graph.imports(self.rel_path(path))

    def dependencies(self, path: str | os.PathLike[str]) -> list[str]:
        """Workspace files the file imports."""
        return self.graph.dependencies(self.rel_path(path))

    def dependents(self, path: str | os.PathLike[str]) -> list[str]:
        """Workspace files importing the file."""
        return self.graph.dependents(self.rel_path(path))

    def neighbourhood(
        self, path: str | os.PathLike[str], depth: int = 1, direction: Direction = "both"
    ) -> dict[str, int]:
        """Files within ``depth`` import hops → distance (the file itself at 0)."""
        return self.graph.neighbourhood(self.rel_path(path), depth, direction)

    def find_symbols(self, name: str) -> list[SymbolLocation]:
        """Definitions named exactly ``name`` anywhere in the workspace."""
        return self.graph.find_symbols(name)

    def package_peers(self, path: str | os.PathLike[str]) -> list[str]:
        """The other files of the file's package that see its top-level names without an import (Go: same
        directory and package clause, ``_test.go`` only for tests; Java: same ``package`` in any source
        root). Empty for languages without packages spanning files."""
        return list(self._navigator.package_peers(self.rel_path(path)))

    def references_in(self, path: str | os.PathLike[str]) -> list[Reference]:
        """Every identifier use in a file (extracted on demand; buffers use their current text)."""
        view = self._view(self.rel_path(path))
        return list(view.references) if view else []

    def definitions_at(self, path: str | os.PathLike[str], line: int, col: int) -> list[SymbolLocation]:
        """Definition(s) of the name at 0-based ``line`` / UTF-8 byte ``col``, following imports, aliases,
        re-exports (``__init__``, ``export … from``), JS/TS default exports, star imports, the other files of
        a Go/Java package, ``self.`` and Go method receivers, module attributes and ``x = Cls()`` receivers.
        A :class:`SymbolLocation` with ``definition`` None is a whole module (``path`` is the file)."""
        return self._navigator.definitions_at(self.rel_path(path), line, col)

    def references_to(
        self, path: str | os.PathLike[str], qualified_name: str | None, include_declaration: bool = True
    ) -> list[ReferenceLocation]:
        """Uses of the symbol ``qualified_name`` defined in ``path`` (None: uses of the module itself),
        in that file, its package peers and the files that import it (three hops, for re-exports)."""
        return self._navigator.references_to(self.rel_path(path), qualified_name, include_declaration)

    def references_at(self, path: str | os.PathLike[str], line: int, col: int) -> list[ReferenceLocation]:
        """References to whatever the name at the position defines or refers to."""
        results: list[ReferenceLocation] = []
        for location in self.definitions_at(path, line, col):
            results.extend(self.references_to(location.path, location.qualified_name))
        return results

    def stats(self) -> GraphStats:
        return self.graph.stats()

    # -- the retrieval CodeWorkspace protocol (roost.context.retrieval.workspace) -----------------------

    def file_facts(self, path: str) -> FileFacts | None:
        """Outline facts; for an open buffer also its references (current text)."""
        rel = self.rel_path(path)
        with self._lock:
            state = self._buffers.get(rel)
        if state is not None:
            view = self._view(rel)
            if view is not None:
                facts = view.facts
                return FileFacts(
                    facts.path,
                    facts.language,
                    facts.definitions,
                    view.references,
                    facts.imports,
                    facts.exports,
                    facts.package,
                )
        return self.graph.facts(rel)

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        """The stored resolution of one of ``importer``'s imports (resolved now if not indexed)."""
        rel = self.rel_path(importer)
        for edge in self.graph.imports(rel):
            if edge.imp == imp:
                return edge.resolved
        language = language_for_path(rel)
        if language is None:
            return ResolvedImport()
        with self._lock:
            return language.resolve_import(imp, rel, self._layout)

    def file_text(self, path: str) -> str | None:
        rel = self.rel_path(path)
        if rel not in self.graph and rel not in self._buffers:
            return None
        return self.source(rel)

    def paths(self) -> list[str]:
        return self.graph.files()

    def is_secret(self, path: str | os.PathLike[str]) -> bool:
        """True for files never read for context (see :func:`roost.context.scanning.is_secret_path`)."""
        return self._filter.is_secret(self.rel_path(path))


def open_index(root: str | os.PathLike[str], options: IndexOptions | None = None) -> WorkspaceIndex:
    """A :class:`WorkspaceIndex` for ``root`` (not yet indexed: call ``index()`` or ``start()``)."""
    return WorkspaceIndex(root, options)
