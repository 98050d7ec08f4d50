"""Move a top-level symbol to another module, rewriting the imports of every dependent file.

The graph says who depends on the source module (reverse edges) and where each import points; each file
involved is re-read from its current text (the editor's buffer when open) and its facts re-extracted by
the language module, so positions always match the text the edit is computed against.

Python today (import statements are written by :mod:`roost.lsp.refactor.python_imports`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from roost.context.facts import Definition, FileFacts, Import, ImportedName
from roost.context.retrieval.retriever import parse_facts
from roost.lsp.edits import EditError, FileEdit, TextReplacement
from roost.lsp.model_edits import Snapshot
from roost.lsp.refactor.python_imports import (
    PYTHON_SUFFIXES,
    import_insertion_line,
    local_names,
    module_spec,
    render_from_import,
    span_offsets,
)


@dataclass
class MovePlan:
    edits: list[FileEdit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _FileChange:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.facts: FileFacts = parse_facts(snapshot.path, snapshot.text) or FileFacts(
            snapshot.path, "unknown"
        )
        self.replacements: list[TextReplacement] = []
        self.new_imports: list[str] = []

    def to_edit(self) -> FileEdit | None:
        replacements = list(self.replacements)
        if self.new_imports:
            lines = self.snapshot.text.split("\n")
            line = import_insertion_line(self.facts, lines)
            offset = sum(len(text) + 1 for text in lines[:line])
            offset = min(offset, len(self.snapshot.text))
            block = "".join(f"{statement}\n" for statement in dict.fromkeys(self.new_imports))
            if (
                offset == len(self.snapshot.text)
                and self.snapshot.text
                and not self.snapshot.text.endswith("\n")
            ):
                block = "\n" + block
            replacements.append(TextReplacement(offset, offset, block))
        if not replacements:
            return None
        s = self.snapshot
        return FileEdit(s.uri, s.path, s.version, s.text, tuple(replacements))


def _definition_lines(text: str, definition: Definition) -> tuple[int, int]:
    """Offsets of whole lines of the definition, its decorators and the blank lines after it."""
    lines = text.split("\n")
    first = definition.span.start_line
    while first > 0 and lines[first - 1].lstrip().startswith("@"):
        first -= 1
    last = definition.span.end_line
    while last + 1 < len(lines) and not lines[last + 1].strip() and last + 1 < len(lines) - 1:
        last += 1
    start = sum(len(line) + 1 for line in lines[:first])
    end = min(len(text), sum(len(line) + 1 for line in lines[: last + 1]))
    return start, end


def _is_relative_style(facts: FileFacts) -> bool:
    relative = sum(1 for imp in facts.imports if imp.module.startswith("."))
    return relative > 0 and relative >= sum(1 for imp in facts.imports if not imp.module.startswith("."))


def plan_move(
    symbol: str,
    source: Snapshot,
    target: Snapshot,
    dependents: list[str],
    snapshot_of: Callable[[str], Snapshot],
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
) -> MovePlan:
    """Edits that move top-level ``symbol`` from ``source`` to ``target``; raises EditError when impossible."""
    if not source.path.endswith(PYTHON_SUFFIXES) or not target.path.endswith(PYTHON_SUFFIXES):
        raise EditError("moving symbols is implemented for Python modules only")
    if source.path == target.path:
        raise EditError("the symbol is already in that module")
    plan = MovePlan()
    src = _FileChange(source)
    dst = _FileChange(target)
    definition = next((d for d in src.facts.definitions if d.name == symbol and d.parent is None), None)
    if definition is None:
        raise EditError(f"no top-level definition named {symbol!r} in {source.path}")
    if any(d.name == symbol and d.parent is None for d in dst.facts.definitions):
        raise EditError(f"{target.path} already defines {symbol!r}")
    start, end = _definition_lines(source.text, definition)
    moved_text = source.text[start:end].rstrip("\n") + "\n"
    src.replacements.append(TextReplacement(start, end, ""))

    # What the moved code uses from its old module: its imports and sibling top-level names.
    used = {
        ref.receiver.split(".")[0] if ref.receiver else ref.name
        for ref in src.facts.references
        if definition.span.start_line <= ref.span.start_line <= definition.span.end_line
    }
    used.discard(symbol)
    dst_known = {d.name for d in dst.facts.definitions if d.parent is None}
    for imp in dst.facts.imports:
        dst_known.update(local_names(imp))
    dst_relative = _is_relative_style(dst.facts) or _is_relative_style(src.facts)
    for imp in src.facts.imports:
        needed = [n for n in imp.names if n.local_name in used and n.local_name not in dst_known]
        if imp.is_star or (not imp.names and not any(name in used for name in local_names(imp))):
            continue
        if not imp.names:
            statement = source.text[slice(*span_offsets(source.text, imp.span))]
            if statement not in dst.new_imports and not set(local_names(imp)) <= dst_known:
                dst.new_imports.append(statement)
            continue
        if not needed:
            continue
        resolved = resolve(source.path, imp)
        paths = getattr(resolved, "paths", ())
        if imp.module.startswith(".") and paths:
            module = module_spec(target.path, paths[0], True, exists)
        else:
            module = imp.module
        if paths and paths[0] == target.path:
            continue  # the target's own names need no import
        dst.new_imports.append(render_from_import(module, needed))
    siblings = sorted(
        d.name
        for d in src.facts.definitions
        if d.parent is None and d.name in used and d.name != symbol and d.name not in dst_known
    )
    if siblings:
        dst.new_imports.append(
            render_from_import(
                module_spec(target.path, source.path, dst_relative, exists),
                [ImportedName(n) for n in siblings],
            )
        )

    # The target may have imported the symbol from the source: it is local now.
    _drop_imported_name(dst, symbol, source.path, resolve, plan)
    separator = "" if not target.text.strip() else ("\n\n" if target.text.endswith("\n") else "\n\n\n")
    dst.replacements.append(TextReplacement(len(target.text), len(target.text), separator + moved_text))

    # The source still using the symbol (outside the moved definition) imports it from its new home.
    still_used = any(
        (ref.name == symbol and not ref.receiver)
        and not (definition.span.start_line <= ref.span.start_line <= definition.span.end_line)
        for ref in src.facts.references
    )
    if still_used:
        src.new_imports.append(
            render_from_import(
                module_spec(source.path, target.path, _is_relative_style(src.facts), exists),
                [ImportedName(symbol)],
            )
        )

    # Every dependent importing the symbol from the source imports it from the target instead.
    for path in dependents:
        if path in (source.path, target.path):
            continue
        change = _FileChange(snapshot_of(path))
        _redirect_imports(change, symbol, source.path, target.path, resolve, exists, plan)
        edit = change.to_edit()
        if edit is not None:
            plan.edits.append(edit)
    for change in (src, dst):
        edit = change.to_edit()
        if edit is not None:
            plan.edits.insert(0, edit)
    return plan


def _imports_of_source(
    change: _FileChange, source_path: str, resolve: Callable[[str, Import], Any]
) -> list[Import]:
    found = []
    for imp in change.facts.imports:
        resolved = resolve(change.snapshot.path, imp)
        paths = getattr(resolved, "paths", ())
        name_paths = dict(getattr(resolved, "name_paths", ()) or ())
        if source_path in paths or source_path in name_paths.values():
            found.append(imp)
    return found


def _drop_imported_name(
    change: _FileChange, symbol: str, source_path: str, resolve: Callable[[str, Import], Any], plan: MovePlan
) -> None:
    for imp in _imports_of_source(change, source_path, resolve):
        if not any(n.name == symbol for n in imp.names):
            continue
        rest = [n for n in imp.names if n.name != symbol]
        start, end = span_offsets(change.snapshot.text, imp.span)
        new = render_from_import(imp.module, rest) if rest else ""
        if not rest and change.snapshot.text[end : end + 1] == "\n":
            end += 1
        change.replacements.append(TextReplacement(start, end, new))


def _redirect_imports(
    change: _FileChange,
    symbol: str,
    source_path: str,
    target_path: str,
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
    plan: MovePlan,
) -> None:
    path = change.snapshot.path
    for imp in _imports_of_source(change, source_path, resolve):
        moved = [n for n in imp.names if n.name == symbol]
        if not moved:
            if not imp.names and not imp.is_star:
                uses = [
                    r
                    for r in change.facts.references
                    if r.name == symbol and r.receiver in local_names(imp) + [imp.module]
                ]
                if uses:
                    plan.notes.append(
                        f"{path}: {len(uses)} use(s) of {imp.module}.{symbol} were not rewritten"
                    )
            continue
        rest = [n for n in imp.names if n.name != symbol]
        module = module_spec(path, target_path, imp.module.startswith("."), exists)
        start, end = span_offsets(change.snapshot.text, imp.span)
        statements = []
        if rest:
            statements.append(render_from_import(imp.module, rest))
        statements.append(render_from_import(module, moved))
        change.replacements.append(TextReplacement(start, end, "\n".join(statements)))
