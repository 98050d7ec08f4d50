"""Add missing import for languages whose files belong to packages (Go, Java), where what is missing is
not a bare name the file uses but a package qualifier (Go ``pkg.Name``) or a class of another package (Java
``Foo``): the language module finds the candidates through the workspace index and writes the statement
(:meth:`LanguageSupport.missing_import_candidates`, :meth:`LanguageSupport.with_import`)."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Protocol

from roost.context.facts import Definition, FileFacts
from roost.context.graph import SymbolLocation
from roost.context.languages import language_for_path
from roost.context.languages.base import ImportCandidate
from roost.context.refactor.imports import RefactorError, TextReplacement
from roost.context.retrieval.retriever import parse_facts


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
    replacements = text_replacements(text, new_text)
    if not replacements:
        raise RefactorError(f"{path} already imports {module}")
    start = replacements[0].start
    end = replacements[-1].end
    # One replacement covering the changed region (an import is one place, or a block rewritten).
    merged = new_text[start : len(new_text) - (len(text) - end)]
    return TextReplacement(start, end, merged)


def text_replacements(old: str, new: str) -> tuple[TextReplacement, ...]:
    """Line-level replacements (character offsets in ``old``) that turn ``old`` into ``new``: small edits
    where the text changed, so the editor keeps its cursor and folds elsewhere."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    return tuple(
        TextReplacement(starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


def apply_replacements(text: str, replacements: tuple[TextReplacement, ...] | list[TextReplacement]) -> str:
    """``text`` with non-overlapping ``replacements`` applied (what an editor does with the edits)."""
    for replacement in sorted(replacements, key=lambda r: r.start, reverse=True):
        text = text[: replacement.start] + replacement.new_text + text[replacement.end :]
    return text
