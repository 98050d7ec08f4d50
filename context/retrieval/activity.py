"""What the editor tells retrieval beyond the index: recently edited regions and open documents.

The LSP layer feeds it (``didChange`` → :meth:`note_edit`, ``didOpen``/``didClose``); retrieval reads it.
Thread-safe because the server's request and notification handlers may run on different threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecentEdit:
    path: str
    line: int  # 0-based, the edited line
    at: float  # time.monotonic()


class WorkspaceActivity:
    def __init__(self, max_edits: int = 32, max_open: int = 64) -> None:
        self._lock = threading.Lock()
        self._edits: OrderedDict[tuple[str, int], RecentEdit] = OrderedDict()
        self._open: OrderedDict[str, str] = OrderedDict()
        self._max_edits = max_edits
        self._max_open = max_open

    def note_edit(self, path: str, line: int, at: float | None = None) -> None:
        """An edit at ``line`` of ``path``; nearby edits (same 10-line block) collapse into one region."""
        stamp = time.monotonic() if at is None else at
        key = (path, line // 10)
        with self._lock:
            self._edits.pop(key, None)
            self._edits[key] = RecentEdit(path, line, stamp)
            while len(self._edits) > self._max_edits:
                self._edits.popitem(last=False)

    def open_document(self, path: str, text: str) -> None:
        with self._lock:
            self._open.pop(path, None)
            self._open[path] = text
            while len(self._open) > self._max_open:
                self._open.popitem(last=False)

    def close_document(self, path: str) -> None:
        with self._lock:
            self._open.pop(path, None)

    def forget(self, path: str) -> None:
        """The file was deleted: nothing of it may be offered any more."""
        with self._lock:
            self._open.pop(path, None)
            for key in [k for k in self._edits if k[0] == path]:
                del self._edits[key]

    def recent_edits(self) -> list[RecentEdit]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._edits.values()))

    def open_documents(self) -> dict[str, str]:
        with self._lock:
            return dict(self._open)

    def document_text(self, path: str) -> str | None:
        with self._lock:
            return self._open.get(path)
