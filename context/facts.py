"""What the indexer extracts from one file: the language-agnostic contract between the per-language
modules (``roost.context.languages.*``) and the graph, the store and retrieval.

Positions: lines are 0-based; columns are UTF-8 byte offsets within the line (tree-sitter points), so the
extractor never converts per node. The LSP layer converts to UTF-16 at the protocol edge.
Paths: POSIX-style, relative to the workspace root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Span:
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        if line < self.start_line or line > self.end_line:
            return False
        if line == self.start_line and col < self.start_col:
            return False
        return not (line == self.end_line and col > self.end_col)


def text_rows(text: str) -> list[str]:
    """``text``'s lines as a :class:`Span`'s lines count them: tree-sitter ends a row at ``"\n"`` alone (the
    ``"\r"`` of a ``"\r\n"`` dropped). ``str.splitlines`` also breaks at form feeds, ``"\x85"``, U+2028 and
    a lone ``"\r"``: after one, every row it gives is another line of the file."""
    return text.replace("\r\n", "\n").split("\n")


class SymbolKind(StrEnum):
    MODULE = "module"
    CLASS = "class"
    INTERFACE = "interface"
    STRUCT = "struct"
    ENUM = "enum"
    TRAIT = "trait"
    TYPE = "type"
    FUNCTION = "function"
    METHOD = "method"
    CONSTRUCTOR = "constructor"
    FIELD = "field"
    VARIABLE = "variable"
    CONSTANT = "constant"
    MACRO = "macro"


# The kinds that have members (a receiver of this type reaches them; bases extend them).
CLASS_LIKE_KINDS = frozenset(
    {SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.STRUCT, SymbolKind.ENUM, SymbolKind.TRAIT}
)


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    # Dotted path inside the file: ``Outer.method``. Stable across edits that do not rename.
    qualified_name: str
    kind: SymbolKind
    span: Span  # the whole definition, body included
    name_span: Span
    # The declaration line(s) up to the body, e.g. ``def area(self, scale: float = 1.0) -> float:``.
    signature: str
    doc: str | None = None  # docstring or leading comment, stripped of comment markers
    parent: str | None = None  # qualified name of the enclosing definition, None at top level


# A span as a plain tuple, (start_line, start_col, end_line, end_col): how the codec stores it, and what
# concatenating two tree-sitter points gives.
SpanTuple = tuple[int, int, int, int]
# A definition in record form, the layout the codec stores: (name, qualified name, kind value, span,
# name span, signature, doc, parent). The cold index builds these rather than Definition objects.
DefinitionRecord = tuple[str, str, str, SpanTuple, SpanTuple, str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Reference:
    name: str  # the identifier as used
    span: Span
    # For attribute uses ``obj.attr`` the receiver text (``obj``); lets retrieval resolve methods on
    # constructor-typed variables. None for bare names.
    receiver: str | None = None


@dataclass(frozen=True, slots=True)
class ImportedName:
    name: str  # name in the target module (``path`` in ``from os import path as p``)
    alias: str | None = None  # local name when renamed (``p``)

    @property
    def local_name(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class Import:
    # The module as written: ``os.path``, ``.models``, ``./util``, ``github.com/x/y/pkg``, ``crate::a::b``.
    module: str
    span: Span
    names: tuple[ImportedName, ...] = ()  # empty for ``import x`` / side-effect imports
    alias: str | None = None  # ``import numpy as np`` → ``np``; a default/namespace import in JS
    is_star: bool = False


@dataclass(frozen=True, slots=True)
class Export:
    name: str  # name exported from this file
    # When re-exported from another module (``export { a } from './b'``, Python ``__init__`` re-export),
    # the module and the name there.
    from_module: str | None = None
    original_name: str | None = None


@dataclass(slots=True)
class FileFacts:
    path: str
    language: str
    definitions: list[Definition] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    # Languages whose files belong to a named unit that is not the path (Go package, Java package).
    package: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedImport:
    """Where an import points inside the workspace. ``paths`` empty means external (stdlib, third-party)."""

    paths: tuple[str, ...] = ()
    external: bool = False
    # Optional, for ``from pkg import name`` where ``name`` is itself a module (Python submodule, Go
    # sub-package...): imported name → the file it resolved to. Lets "go to definition" on ``name`` land on
    # the module rather than search ``pkg`` for a symbol. Empty when the language has no such form.
    name_paths: tuple[tuple[str, str], ...] = ()

    @property
    def resolved(self) -> bool:
        return bool(self.paths)

    def path_for_name(self, name: str) -> str | None:
        return next((path for imported, path in self.name_paths if imported == name), None)
