"""Imports as refactors read and write them: names an import binds, a file's import statements, names a
range uses without importing them, and the statement that adds an import (written by the language module).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roost.context.facts import Definition, FileFacts, Import, ImportedName, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts


class RefactorError(ValueError):
    """A refactor that cannot be computed (unsupported language, name not found); the message says why."""


@dataclass(frozen=True)
class TextReplacement:
    """Replace ``text[start:end]`` (character offsets in the file's current text) by ``new_text``."""

    start: int
    end: int
    new_text: str


def writes_imports(path: str) -> bool:
    """Whether the language of ``path`` can write import statements (so import refactors are offered)."""
    language = language_for_path(path)
    return language is not None and (
        language.moves_between_modules or language.render_import("m", [ImportedName("n")]) is not None
    )


def local_names(imp: Import) -> list[str]:
    """The names an import binds in the importing file."""
    if imp.names:
        return [n.local_name for n in imp.names]
    if imp.alias:
        return [imp.alias]
    return [imp.module.split(".")[0]] if not imp.module.startswith(".") else []


def _byte_to_char(line_text: str, byte_col: int) -> int:
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def span_offsets(text: str, span: Span) -> tuple[int, int]:
    """Character offsets in ``text`` of a facts span (lines and UTF-8 byte columns)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    start_line = min(span.start_line, len(lines) - 1)
    end_line = min(span.end_line, len(lines) - 1)
    return (
        starts[start_line] + _byte_to_char(lines[start_line], span.start_col),
        starts[end_line] + _byte_to_char(lines[end_line], span.end_col),
    )


def import_statements(path: str, text: str) -> str:
    """The file's import statements as written (from its facts), one per line; empty when none are known."""
    facts = parse_facts(path, text)
    if facts is None:
        return ""
    return "\n".join(text[slice(*span_offsets(text, imp.span))] for imp in facts.imports)


def unimported_names(
    path: str, facts: FileFacts, first_line: int, last_line: int, text: str | None = None
) -> list[str]:
    """Names used (without a receiver) on lines ``first_line..last_line`` that the file neither defines,
    imports nor gets from the language's builtins, in order of first use. With the file's ``text``, names
    it binds locally (parameters, variables) are left out too."""
    language = language_for_path(path)
    known = {d.name for d in facts.definitions} | (language.builtin_names() if language else frozenset())
    if language is not None and text is not None:
        known |= language.local_names(path, text)
    for imp in facts.imports:
        known.update(local_names(imp))
    found: dict[str, None] = {}
    for ref in facts.references:
        if ref.receiver or ref.name in known:
            continue
        if first_line <= ref.span.start_line <= last_line:
            found.setdefault(ref.name)
    return list(found)


def insertion_offset(text: str, line: int) -> int:
    """Character offset of the start of 0-based ``line`` (the end of the text past its last line)."""
    lines = text.split("\n")
    return min(len(text), sum(len(line_text) + 1 for line_text in lines[:line]))


def add_import(
    path: str,
    text: str,
    name: str,
    from_path: str,
    exists: Callable[[str], bool],
    export_name: str | None = None,
    type_only: bool = False,
) -> TextReplacement:
    """The replacement that makes ``path`` (current ``text``) import ``name`` from the workspace file
    ``from_path`` (which exports it as ``export_name``: ``"default"`` for a default export): in the file's
    own style, merged into an import of that module (or, in JS/TS, its uses written ``ns.name`` through the
    file's ``import * as ns`` of it) when the language does that, else relative when the
    file already uses relative imports, placed where the language puts new imports. ``type_only``: a
    TypeScript type, imported by ``import type``."""
    language = language_for_path(path)
    if language is None:
        raise RefactorError(f"{path}: no language module handles this file")
    module_name = language.import_specifier(path, text, from_path, exists)
    if module_name is not None:
        imported = ImportedName("default", name) if export_name == "default" else ImportedName(name)
        try:
            like = "import type {}" if type_only else None  # the statement the new import is written like
            new_text = language.with_import_names(path, text, module_name, [imported], like)
        except ValueError as error:
            raise RefactorError(f"{path}: {error}") from error
        if new_text is None or new_text == text:
            raise RefactorError(f"{path} already imports {name!r}" if new_text else "cannot write the import")
        return single_replacement(text, new_text)
    facts = parse_facts(path, text)
    relative = bool(facts and any(imp.module.startswith(".") for imp in facts.imports))
    module = language.import_module_name(path, from_path, relative, exists)
    statement = language.render_import(module, [ImportedName(name)]) if module is not None else None
    line = language.import_insertion_line(facts, text.split("\n"))
    if statement is None or line is None:
        raise RefactorError(f"writing imports is not implemented for {language.name}")
    offset = insertion_offset(text, line)
    return TextReplacement(offset, offset, statement + "\n")


def single_replacement(old: str, new: str) -> TextReplacement:
    """One replacement of whole lines turning ``old`` into ``new`` (an import is one place, or one
    statement rewritten)."""
    replacements = replacements_between(old, new)
    if not replacements:
        return TextReplacement(0, 0, "")
    start, end = replacements[0].start, replacements[-1].end
    return TextReplacement(start, end, new[start : len(new) - (len(old) - end)])


def replacements_between(old: str, new: str) -> list[TextReplacement]:
    """Line-level replacements (character offsets in ``old``) that turn ``old`` into ``new``: small edits
    where the text changed, so an editor keeps its cursor and folds elsewhere."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    return [
        TextReplacement(starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def is_type_only(importer: str, source: str, found: Sequence[tuple[str, Definition]]) -> bool:
    """Whether what ``importer`` (TypeScript) imports from ``source`` under its name is only types and
    interfaces (``found``: the top-level definitions of the name), so ``import type`` brings it."""
    language = language_for_path(importer)
    kinds = {d.kind for path, d in found if path == source and d.parent is None}
    return (
        language is not None
        and language.name == "typescript"
        and bool(kinds)
        and kinds <= {SymbolKind.TYPE, SymbolKind.INTERFACE}
    )


def import_sources(
    importer: str,
    name: str,
    found: Sequence[tuple[str, Definition]],
    facts_of: Callable[[str], FileFacts | None],
) -> list[tuple[str, str]]:
    """``(file, exported name)`` for each top-level definition of ``name`` in ``found`` (other files) that
    ``importer`` can import: anything for Python; for languages whose files export names (JS/TS, Rust) only
    what the file exports (``"default"`` for a default export)."""
    language = language_for_path(importer)
    sources: list[tuple[str, str]] = []
    for path, definition in found:
        if path == importer or definition.parent is not None or language_for_path(path) is not language:
            continue
        if language is None or not language.exports_gate_imports:
            sources.append((path, name))
            continue
        facts = facts_of(path)
        for export in facts.exports if facts else []:
            if export.from_module is not None:
                continue
            if export.name == name and export.original_name in (None, name):
                sources.append((path, name))
                break
            if export.name == "default" and export.original_name == name:
                sources.append((path, "default"))
                break
    # One definition per declaration: a TS function merged with an interface of its name is two.
    return list(dict.fromkeys(sources))
