"""The contract every language module fulfils. The graph code only ever talks to this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tree_sitter

from roost.context.facts import Definition, FileFacts, Import, ImportedName, Reference, ResolvedImport


@dataclass(frozen=True, slots=True)
class TextChange:
    """One edit of a buffer, as given to ``tree_sitter.Tree.edit`` (points are (row, byte column))."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


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

    def extract_outline_encoded(
        self, path: str, source: bytes, tree: tree_sitter.Tree
    ) -> tuple[bytes, list[Import], int]:
        """``(encode_facts(outline), outline imports, number of definitions)``: what a cold-index worker
        needs. Override to skip building objects; the default goes through :meth:`extract_outline`."""
        from roost.context.codec import encode_facts

        facts = self.extract_outline(path, source, tree)
        return encode_facts(facts), facts.imports, len(facts.definitions)

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        """Identifier uses of one parsed file (on demand). Default: :meth:`extract`'s references."""
        return self.extract(path, source, tree).references

    def update_outline(
        self,
        path: str,
        source: bytes,
        tree: tree_sitter.Tree,
        state: dict,
        old_tree: tree_sitter.Tree | None = None,
        change: TextChange | None = None,
    ) -> FileFacts:
        """The outline of an open buffer after an edit (called on every keystroke).

        ``state`` is a dict private to the language, kept per buffer between calls. With ``old_tree`` (the
        previous tree, already edited) and ``change`` (the one edit since the last call) a language can
        re-extract only the edited region. The result must equal :meth:`extract_outline` on the same
        tree. Default: a full :meth:`extract_outline`.
        """
        return self.extract_outline(path, source, tree)

    def bound_name(self, imp: Import) -> str | None:
        """The local name a whole-module import binds (``import numpy as np`` → ``np``), None if none.

        Only consulted for imports without ``names``. Default: the alias. Python binds the first dotted
        segment (``import os.path`` → ``os``); Go binds the package name; override accordingly.
        """
        return imp.alias

    def self_names(self) -> tuple[str, ...]:
        """Receivers that mean "the enclosing class/type" (``self``, ``cls``, ``this``)."""
        return ("self", "this")

    def method_receiver(self, method: Definition) -> str | None:
        """The variable naming the receiver inside ``method`` when each method chooses it (Go's
        ``func (w *Warehouse) Add()`` → ``w``); it then means the type named by ``method.parent``. None
        (the default) when only :meth:`self_names` apply."""
        return None

    def package_dirs(self, path: str, package: str, directories: Iterable[str]) -> list[str]:
        """Directories (among the workspace's ``directories``) whose files of the same ``package`` see the
        top-level names of ``path`` without an import (Go: the file's own directory; Java: every source
        root's folder for the package). Default: none, names cross files only through imports."""
        return []

    def sees_package_file(self, path: str, other: str) -> bool:
        """Whether ``path`` sees ``other``, a file of its package (Go: ``_test.go`` files only see, and are
        only seen by, each other's package when ``path`` is a test too)."""
        return True

    def module_binding_export(self, imp: Import, statement: str) -> str | None:
        """What a whole-module binding (``imp.names`` empty) takes from its module: an export's name
        (ESM ``import D from 'm'`` and CommonJS ``require`` → ``"default"``), or None when it binds the
        module itself (``import * as ns``, Python ``import m``). ``statement`` is the import's source text."""
        return None

    def builtin_names(self) -> frozenset[str]:
        """Names every file sees without a definition or an import (Python's builtins); a reference to
        one is never "missing an import". Default: none."""
        return frozenset()

    # -- writing imports (refactors: move symbol, add missing import) ---------------------------------
    # None means the language cannot write imports, and the refactors are not offered for its files.

    def import_module_name(
        self, importer: str, target: str, relative: bool, exists: Callable[[str], bool]
    ) -> str | None:
        """How the file ``importer`` names the module of the workspace file ``target`` in an import
        (relative when ``relative`` and possible); ``exists(path)`` tells whether a workspace file exists."""
        return None

    def render_import(self, module: str, names: Sequence[ImportedName]) -> str | None:
        """The import statement taking ``names`` from ``module`` (as :meth:`import_module_name` gives it)."""
        return None

    def render_module_import(self, module: str, alias: str | None = None) -> str | None:
        """The statement importing the whole ``module`` (absolute, as :meth:`import_module_name` gives it),
        bound to ``alias`` when given; None when the language has no such form."""
        return None

    def import_insertion_line(self, facts: FileFacts | None, lines: Sequence[str]) -> int | None:
        """0-based line where a new import statement goes in a file of ``lines`` with ``facts``."""
        return None
