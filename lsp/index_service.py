"""The workspace index as the server uses it: started in the background after ``initialized``, answering
with what is known while it runs, fed the open buffers, closed on shutdown.

This is an adapter: it drives the index of :mod:`roost.context` (the facade ``roost.context.index`` when it
is installed, else the in-memory :class:`~roost.context.retrieval.standalone.ParsedWorkspace`) and exposes
the few queries the LSP features need (facts, import resolution, dependents, file text).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from roost.context.facts import FileFacts, Import, ResolvedImport

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]  # (done, total, message)


class IndexService:
    """Thread-safe view of the index; every query is answered at any time (empty before indexing)."""

    def __init__(self, root: Path, options: Any) -> None:
        self.root = root
        self.options = options
        self._lock = threading.Lock()
        self._backend: Any = None  # the context index (facade or ParsedWorkspace)
        self._buffers: dict[str, str] = {}
        self.ready = threading.Event()
        self.error: str | None = None
        self.seconds = 0.0
        self._thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, progress: ProgressCallback, done: Callable[[IndexService], None]) -> None:
        def work() -> None:
            started = time.perf_counter()
            try:
                self._backend = self._build(progress)
            except Exception as error:  # the index never takes the server down
                log.exception("indexing failed")
                self.error = str(error)
            self.seconds = time.perf_counter() - started
            self.ready.set()
            done(self)

        self._thread = threading.Thread(target=work, name="roost-index", daemon=True)
        self._thread.start()

    def _build(self, progress: ProgressCallback) -> Any:
        try:
            from roost.context import index as context_index  # the persistent graph, when available
        except ImportError:
            context_index = None
        if context_index is not None and hasattr(context_index, "open_index"):
            index = context_index.open_index(self.root, self.options)
            index.index(progress=lambda done, total: progress(done, total, "indexing"))
            return index
        from roost.context.retrieval.standalone import ParsedWorkspace
        from roost.context.scanning import scan_workspace

        files = sorted(scan_workspace(self.root, self.options))
        progress(0, len(files), f"parsing {len(files)} files")
        workspace = ParsedWorkspace(self.root, self.options, files)
        progress(len(files), len(files), "indexed")
        return workspace

    def close(self) -> None:
        backend = self._backend
        close = getattr(backend, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing the index failed")

    # -- buffers ---------------------------------------------------------------------------------
    def update_buffer(self, path: str, text: str) -> None:
        with self._lock:
            self._buffers[path] = text
        update = getattr(self._backend, "update_buffer", None)
        if callable(update):
            try:
                update(path, text)
            except Exception:
                log.exception("incremental index update of %s failed", path)

    def close_buffer(self, path: str) -> None:
        with self._lock:
            self._buffers.pop(path, None)

    # -- queries (CodeWorkspace protocol, for retrieval) -------------------------------------------
    def file_facts(self, path: str) -> FileFacts | None:
        backend = self._backend
        return backend.file_facts(path) if backend is not None else None

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        backend = self._backend
        return backend.resolve_import(importer, imp) if backend is not None else ResolvedImport()

    def file_text(self, path: str) -> str | None:
        with self._lock:
            text = self._buffers.get(path)
        if text is not None:
            return text
        backend = self._backend
        return backend.file_text(path) if backend is not None else None

    def paths(self) -> Iterable[str]:
        backend = self._backend
        return list(backend.paths()) if backend is not None else []

    # -- graph queries the refactors need ---------------------------------------------------------
    def dependents(self, path: str) -> list[str]:
        """Files whose imports resolve to ``path``."""
        backend = self._backend
        if backend is None:
            return []
        graph_dependents = getattr(backend, "dependents", None)
        if callable(graph_dependents):
            return list(graph_dependents(path))
        found = []
        for other in backend.paths():
            facts = backend.file_facts(other)
            if facts is None or other == path:
                continue
            if any(path in backend.resolve_import(other, imp).paths for imp in facts.imports):
                found.append(other)
        return sorted(found)

    def find_definitions(self, name: str) -> list[tuple[str, Any]]:
        """(path, Definition) of top-level definitions named ``name`` anywhere in the workspace."""
        backend = self._backend
        if backend is None:
            return []
        found = []
        for path in backend.paths():
            facts = backend.file_facts(path)
            if facts is None:
                continue
            found.extend((path, d) for d in facts.definitions if d.name == name and d.parent is None)
        return found
