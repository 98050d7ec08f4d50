"""The contract every language module fulfils. The graph code only ever talks to this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

import tree_sitter
from roost.context.facts import FileFacts, Import, Reference, ResolvedImport


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

    # -- optional hooks with working defaults (override when the language can do better) -------------

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        """Definitions, imports and exports without references: what the index persists for every file.

        References are the bulk of the per-node work and are only needed for the few files a query
        touches, so the index asks for them on demand (:meth:`extract_references`). The default runs
        :meth:`extract` and drops them; override to skip the reference pass entirely.
        """
        facts = self.extract(path, source, tree)
        facts.references = []
        return facts

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        """Identifier uses of one parsed file (on demand). Default: :meth:`extract`'s references."""
        return self.extract(path, source, tree).references

    def bound_name(self, imp: Import) -> str | None:
        """The local name a whole-module import binds (``import numpy as np`` → ``np``), None if none.

        Only consulted for imports without ``names``. Default: the alias. Python binds the first dotted
        segment (``import os.path`` → ``os``); Go binds the package name; override accordingly.
        """
        return imp.alias

    def self_names(self) -> tuple[str, ...]:
        """Receivers that mean "the enclosing class/type" (``self``, ``cls``, ``this``)."""
        return ("self", "this")
