"""Add missing import for languages whose files belong to packages (Go, Java), where what is missing is
not a bare name the file uses but a package qualifier (Go ``pkg.Name``) or a class of another package (Java
``Foo``): the language module finds the candidates through the workspace index and writes the statement
(:meth:`LanguageSupport.missing_import_candidates`, :meth:`LanguageSupport.with_import`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from roost.context.facts import Definition, FileFacts
from roost.context.graph import SymbolLocation
from roost.context.languages import language_for_path
from roost.context.languages.base import ImportCandidate
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError, TextReplacement, single_replacement


class PackageIndex(Protocol):
    """What this module asks of :class:`roost.context.index.WorkspaceIndex`."""

    root: Path

    def definitions_at(self, path: str, line: int, col: int) -> list[SymbolLocation]: ...

    def find_symbols(self, name: str) -> list[SymbolLocation]: ...

    def facts(self, path: str) -> FileFacts | None: ...


class _IndexWorkspace:
    """:class:`~roost.context.languages.base.PackageWorkspace` over the workspace index."""

    def __init__(self, index: PackageIndex) -> None:
        self._index = index

    def resolves(self, path: str, line: int, col: int) -> bool:
        return bool(self._index.definitions_at(path, line, col))

    def top_level(self, name: str) -> list[tuple[str, Definition]]:
        return [
            (location.path, location.definition)
            for location in self._index.find_symbols(name)
            if location.definition is not None and location.definition.parent is None
        ]

    def facts(self, path: str) -> FileFacts | None:
        return self._index.facts(path)

    def read_text(self, rel_path: str) -> str | None:
        try:
            return (self._index.root / rel_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def missing_package_imports(
    index: PackageIndex, path: str, text: str, first_line: int, last_line: int
) -> list[ImportCandidate] | None:
    """Imports that make names used on lines ``first_line..last_line`` of ``path`` (current ``text``, which
    the index must know as its buffer) resolve; None when the language leaves missing imports to
    :func:`roost.context.refactor.imports.unimported_names`."""
    language = language_for_path(path)
    if language is None:
        return None
    facts = parse_facts(path, text)
    if facts is None:
        return None
    return language.missing_import_candidates(
        path, text, facts, first_line, last_line, _IndexWorkspace(index)
    )


def add_package_import(path: str, text: str, module: str) -> TextReplacement:
    """The replacement that makes ``path`` (current ``text``) import ``module`` (an
    :class:`ImportCandidate`'s), where and how the language writes it (Go: into the import block)."""
    language = language_for_path(path)
    new_text = language.with_import(text, module) if language is not None else None
    if new_text is None:
        raise RefactorError(f"{path}: writing imports of packages is not implemented for this language")
    if new_text == text:
        raise RefactorError(f"{path} already imports {module}")
    # One replacement covering the changed region (an import is one place, or a block rewritten).
    return single_replacement(text, new_text)
