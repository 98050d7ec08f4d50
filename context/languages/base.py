"""The contract every language module fulfils. The graph code only ever talks to this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

import tree_sitter

from roost.context.facts import FileFacts, Import, ResolvedImport


class WorkspaceLayout(Protocol):
    """What import resolution may ask about the workspace, without touching the graph."""

    root: Path

    def exists(self, rel_path: str) -> bool:
        """True for an indexed (or indexable) file at this workspace-relative POSIX path."""
        ...

    def is_dir(self, rel_path: str) -> bool: ...

    def read_text(self, rel_path: str) -> str | None:
        """Small project files (go.mod, tsconfig.json, Cargo.toml); None when missing/unreadable."""
        ...

    def files_in_dir(self, rel_dir: str) -> list[str]:
        """Indexed files directly inside a directory (workspace-relative)."""
        ...

    def extra_source_roots(self, language: str) -> list[str]:
        """Configured additional roots for a language (e.g. Python ``src``-like roots)."""
        ...


class LanguageSupport(ABC):
    name: str
    extensions: tuple[str, ...]

    @abstractmethod
    def ts_language(self, path: str) -> tree_sitter.Language:
        """The grammar for this path (TypeScript and TSX differ by extension)."""

    @abstractmethod
    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        """Definitions, references, imports and exports of one parsed file."""

    @abstractmethod
    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        """Map an import to workspace files; external when it leaves the workspace."""
