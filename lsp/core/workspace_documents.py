"""The current text of workspace files, as the edit use cases see it: the editor's buffer when the file is
open, else the file on disk (read, never written). Files are named by workspace-relative POSIX paths; the
handlers turn URIs into such paths (and refuse the ones outside the workspace) before calling the core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from roost.context.languages import language_name_for_path
from roost.lsp.core.text_edits import EditError, is_inside


class OutsideWorkspace(ValueError):
    """A command named a file outside the workspace; refused."""


@dataclass(frozen=True)
class OpenDocument:
    """What the editor has in a buffer."""

    text: str
    version: int | None
    language: str  # the editor's language id; "" when it gave none


@dataclass
class Snapshot:
    path: str  # workspace-relative
    text: str
    version: int | None  # the open document's version; None when read from disk
    language: str


# The editor's buffer of a file (its absolute path), or None when the file is not open.
OpenDocumentLookup = Callable[[Path], OpenDocument | None]


class Documents:
    """Workspace files by workspace-relative path: open buffers first, then the disk."""

    def __init__(self, root: Path | None, open_document: OpenDocumentLookup) -> None:
        self.root = root
        self._open_document = open_document

    def folder(self) -> Path:
        """The workspace folder (as the editor named it); refused when none is open."""
        if self.root is None:
            raise OutsideWorkspace("no workspace folder is open")
        return self.root

    def relative(self, path: Path) -> str:
        """The workspace path of ``path`` (absolute; a symlink is judged by where it points)."""
        root = self.root
        if root is None or not is_inside(root, path):
            raise OutsideWorkspace(
                f"{path} is outside the workspace {root}; Roost only edits workspace files"
            )
        return path.resolve().relative_to(root.resolve()).as_posix()

    def absolute(self, relative: str) -> Path:
        """The file a workspace path names; refused when it leads outside the workspace."""
        root = self.folder()
        path = (root / relative).resolve()
        if not is_inside(root, path):
            raise OutsideWorkspace(f"{relative} is outside the workspace")
        return path

    def workspace_path(self, named: str) -> str:
        """The workspace path of a file a model's edit block names (``./pkg/../m.py`` → ``m.py``)."""
        return self.relative(self.absolute(named))

    def open_document(self, relative: str) -> OpenDocument | None:
        return self._open_document(self.folder() / relative)

    def on_disk(self, relative: str) -> bool:
        return (self.folder() / relative).exists()

    def exists(self, relative: str) -> bool:
        """Whether the file is open in the editor or on disk (a module a move may create is neither)."""
        return self.open_document(relative) is not None or self.on_disk(relative)

    def snapshot(self, relative: str) -> Snapshot:
        path = self.absolute(relative)
        relative = path.relative_to(self.folder().resolve()).as_posix()
        document = self.open_document(relative)
        if document is not None:
            return Snapshot(relative, document.text, document.version, document.language)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise EditError(f"{relative} cannot be read: {error}") from error
        return Snapshot(relative, text, None, language_name_for_path(relative))
