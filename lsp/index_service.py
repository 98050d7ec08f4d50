"""The workspace index as the server uses it: :class:`roost.context.index.WorkspaceIndex` started in the
background after ``initialized`` (queries answer with what is known meanwhile), fed the open buffers,
watching the disk, closed on shutdown. Adds only what the LSP needs on top (progress mapping, top-level
definition lookup) and never lets an index failure escape into a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from roost.context.facts import Definition, FileFacts, Import, ResolvedImport

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]  # (done, total, message)


class IndexService:
    def __init__(self, root: Path, options: Any, watch: bool = True) -> None:
        from roost.context.index import WorkspaceIndex

        self.root = root
        self.index = WorkspaceIndex(root, options)
        self.watch_disk = watch
        self.ready = threading.Event()
        self.error: str | None = None
        self.seconds = 0.0
        self.report: Any = None
        # Told of each batch of files changed on disk (after the index took it in).
        self.disk_listeners: list[Callable[[list[str]], None]] = []

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, progress: ProgressCallback, done: Callable[[IndexService], None]) -> None:
        started = time.perf_counter()

        def on_progress(update: Any) -> None:
            progress(update.done, update.total, update.message or update.phase)

        def finished(future: Any) -> None:
            self.seconds = time.perf_counter() - started
            error = future.exception()
            if error is not None:
                self.error = str(error) or type(error).__name__
            else:
                self.report = future.result()
                if self.watch_disk:
                    try:
                        self.index.watch(self._disk_changed)
                    except Exception:  # watching is a convenience; the index still answers
                        log.exception("cannot watch %s for changes", self.root)
            self.ready.set()
            done(self)

        self.index.start(on_progress).add_done_callback(finished)

    def _disk_changed(self, paths: list[str]) -> None:
        for listener in list(self.disk_listeners):
            try:
                listener(paths)
            except Exception:
                log.exception("disk-change listener failed")

    def close(self) -> None:
        try:
            self.index.close()
        except Exception:
            log.exception("closing the index failed")

    # -- buffers ---------------------------------------------------------------------------------
    def update_buffer(self, path: str, text: str) -> None:
        try:
            self.index.update_buffer(path, text)
        except Exception:
            log.exception("index update of %s failed", path)

    def apply_changes(self, path: str, previous_text: str | None, changes: Sequence[Any], text: str) -> None:
        """One didChange: its content changes (LSP ranges) become byte-column edits the index applies
        incrementally; ``text`` (the editor's text after them) lets the index re-sync if it drifted. A
        whole-document change, or no known previous text, is a full-text update."""
        from roost.lsp.buffer_edits import buffer_edits

        try:
            edits = buffer_edits(previous_text, changes) if previous_text is not None else None
            self.index.update_buffer(path, text, edits=edits)
        except Exception:
            log.exception("index update of %s failed", path)

    def close_buffer(self, path: str) -> None:
        try:
            self.index.close_buffer(path)
        except Exception:
            log.exception("closing the buffer %s in the index failed", path)

    # -- the retrieval CodeWorkspace protocol ------------------------------------------------------
    def file_facts(self, path: str) -> FileFacts | None:
        return self.index.file_facts(path)

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        return self.index.resolve_import(importer, imp)

    def file_text(self, path: str) -> str | None:
        return self.index.file_text(path)

    def paths(self) -> Iterable[str]:
        return self.index.paths()

    # -- graph queries the refactors need ---------------------------------------------------------
    def dependents(self, path: str) -> list[str]:
        return list(self.index.dependents(path))

    def imports(self, path: str) -> list[Any]:
        return list(self.index.imports(path))

    def find_definitions(self, name: str) -> list[tuple[str, Definition]]:
        """(path, Definition) of top-level definitions named ``name`` anywhere in the workspace."""
        found = []
        for location in self.index.find_symbols(name):
            definition = getattr(location, "definition", None)
            if definition is not None and definition.parent is None:
                found.append((location.path, definition))
        return found
