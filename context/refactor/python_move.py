"""Move a top-level Python symbol to another module, rewriting the imports of every dependent file.

The planner :func:`roost.context.refactor.move.plan_move` dispatches Python to (the language's import hooks:
``import_module_name``, ``render_import``, ``render_module_import``, ``import_insertion_line``). Each file
involved is given with its current text and its facts are re-extracted, so the offsets always match the
text the replacements are computed against; :mod:`.python_placement` puts the moved definition before the
target's first statement that uses it at import time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from roost.context.facts import Definition, FileFacts, Import, ImportedName
from roost.context.languages import language_for_path
from roost.context.languages.base import LanguageSupport
from roost.context.parser_cache import parse
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import (
    RefactorError,
    TextReplacement,
    insertion_offset,
    local_names,
    span_offsets,
)
from roost.context.refactor.move_plan import FileChange, FileText, MovePlan
from roost.context.refactor.python_all import with_export, without_export
from roost.context.refactor.python_cycles import import_cycle
from roost.context.refactor.python_placement import import_time_insertion


class _Writer:
    """The language's import writing, with "not supported" turned into an error once."""

    def __init__(self, language: LanguageSupport, exists: Callable[[str], bool]) -> None:
        self.language = language
        self.exists = exists

    def module(self, importer: str, target: str, relative: bool) -> str:
        module = self.language.import_module_name(importer, target, relative, self.exists)
        if module is None:
            raise RefactorError(f"writing imports is not implemented for {self.language.name}")
        return module

    def statement(self, module: str, names: Sequence[ImportedName]) -> str:
        statement = self.language.render_import(module, names)
        if statement is None:
            raise RefactorError(f"writing imports is not implemented for {self.language.name}")
        return statement


class _FileChange:
    def __init__(self, file: FileText, writer: _Writer) -> None:
        self.file = file
        self.writer = writer
        self.facts: FileFacts = parse_facts(file.path, file.text) or FileFacts(file.path, "unknown")
        self.replacements: list[TextReplacement] = []
        self.new_imports: list[str] = []

    def result(self) -> FileChange | None:
        replacements = list(self.replacements)
        text = self.file.text
        if self.new_imports:
            line = self.writer.language.import_insertion_line(self.facts, text.split("\n"))
            if line is None:
                raise RefactorError(f"writing imports is not implemented for {self.writer.language.name}")
            offset = insertion_offset(text, line)
            block = "".join(f"{statement}\n" for statement in dict.fromkeys(self.new_imports))
            if offset == len(text) and text and not text.endswith("\n"):
                block = "\n" + block
            # An insertion already there (a moved definition placed right after the imports) goes after
            # the imports: one replacement, so no editor has to order two inserts at one offset.
            same = next((r for r in replacements if r.start == offset), None)
            end = offset
            if same is not None:
                replacements.remove(same)
                separator = "\n\n" if same.new_text and not same.new_text.startswith("\n") else ""
                block, end = block + separator + same.new_text, same.end
            replacements.append(TextReplacement(offset, end, block))
        if not replacements:
            return None
        return FileChange(self.file.path, text, tuple(replacements))


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


def _own_package_style(path: str, facts: FileFacts, writer: _Writer) -> bool | None:
    """Whether ``path`` imports its own top-level package relatively (``from .mod import X``: True) or
    absolutely (``from pkg.mod import X``: False), by most of those imports; None when it has none. The
    standard library's and other packages' imports are absolute whatever the style, so they do not count."""
    package = writer.module(path, path, False).split(".")[0]
    relative = sum(1 for imp in facts.imports if imp.module.startswith("."))
    absolute = sum(1 for imp in facts.imports if imp.module.split(".")[0] == package)
    return None if relative == absolute == 0 else relative >= absolute


def _relative_style(
    change: _FileChange, others: Sequence[_FileChange], dependents: Callable[[], Iterable[FileFacts]]
) -> bool:
    """Whether new imports of ``change``'s file are written relative: as its own imports of its package are,
    else as most of those of ``others`` (the move's other file) and of the ``dependents`` in its package."""
    path, writer = change.file.path, change.writer
    own = _own_package_style(path, change.facts, writer)
    if own is not None:
        return own
    package = writer.module(path, path, False).split(".")[0]
    votes: list[bool] = []
    for facts in (*(other.facts for other in others), *dependents()):
        if writer.module(facts.path, facts.path, False).split(".")[0] == package:
            style = _own_package_style(facts.path, facts, writer)
            votes += [] if style is None else [style]
    return votes.count(True) > votes.count(False)


def plan_python_move(
    language: LanguageSupport,
    symbol: str,
    source: FileText,
    target: FileText,
    dependents: Sequence[str],
    text_of: Callable[[str], str],
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
) -> MovePlan:
    """:func:`roost.context.refactor.move.plan_move` for Python (``language``), the two modules checked."""
    writer = _Writer(language, exists)
    plan = MovePlan()
    src = _FileChange(source, writer)
    dst = _FileChange(target, writer)
    definition = next((d for d in src.facts.definitions if d.name == symbol and d.parent is None), None)
    if definition is None:
        raise RefactorError(f"no top-level definition named {symbol!r} in {source.path}")
    if any(d.name == symbol and d.parent is None for d in dst.facts.definitions):
        raise RefactorError(f"{target.path} already defines {symbol!r}")
    from_source = {id(imp) for imp in _imports_of_source(dst, source.path, resolve)}
    for imp in dst.facts.imports:
        if id(imp) not in from_source and symbol in local_names(imp):
            # The moved definition would shadow it: the target's own uses would call the moved code.
            raise RefactorError(f"{target.path} already imports another {symbol!r} (from {imp.module})")
    start, end = _definition_lines(source.text, definition)
    moved_text = source.text[start:end].rstrip("\n") + "\n"
    src.replacements.append(TextReplacement(start, end, ""))

    # What the moved code uses from its old module: its imports and sibling top-level names (its
    # decorators' too: ``@abc.MutableMapping.register`` runs where it goes).
    first_line = source.text.count("\n", 0, start)
    used = {
        ref.receiver.split(".")[0] if ref.receiver else ref.name
        for ref in src.facts.references
        if first_line <= ref.span.start_line <= definition.span.end_line
    }
    used.discard(symbol)
    dst_known = {d.name for d in dst.facts.definitions if d.parent is None}
    for imp in dst.facts.imports:
        dst_known.update(local_names(imp))
    package_facts = functools.cache(
        lambda: _dependents_facts(dependents, text_of, (source.path, target.path))
    )
    dst_relative = _relative_style(dst, [src], package_facts)
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
            module = writer.module(target.path, paths[0], dst_relative)
        else:
            module = imp.module
        if paths and paths[0] == target.path:
            continue  # the target's own names need no import
        dst.new_imports.append(writer.statement(module, needed))
    siblings = sorted(
        d.name
        for d in src.facts.definitions
        if d.parent is None and d.name in used and d.name != symbol and d.name not in dst_known
    )
    if siblings:
        dst.new_imports.append(
            writer.statement(
                writer.module(target.path, source.path, dst_relative), [ImportedName(n) for n in siblings]
            )
        )

    # The target may have imported the symbol from the source: it is local now.
    aliases = _drop_imported_name(dst, symbol, source.path, resolve)
    _unqualify_module_uses(dst, symbol, source.path, target.path, resolve, plan)
    # Top-level code of the target using the symbol while the module is imported needs it defined first.
    target_names = {d.name for d in dst.facts.definitions if d.parent is None}
    offset, placeable = import_time_insertion(
        target.path, target.text, symbol, frozenset(used & target_names), frozenset(aliases)
    )
    if not placeable:
        plan.notes.append(
            f"{target.path}: uses {symbol} at import time before names it needs; moved to the end"
        )
    if offset is not None:
        before = target.text[:offset]  # as it will read: the imports dropped above are gone
        for r in sorted(dst.replacements, key=lambda r: r.start, reverse=True):
            if r.end <= offset:
                before = before[: r.start] + r.new_text + before[r.end :]
        blank_lines = len(before) - len(before.rstrip("\n")) - 1  # two before a definition, as PEP 8 has it
        placed = ("\n" * max(0, 2 - blank_lines) if before.strip() else "") + moved_text + "\n\n"
        # ``source.symbol(...)`` opening the statement is rewritten from the same offset: one replacement.
        same = next((r for r in dst.replacements if r.start == offset), None)
        if same is not None:
            dst.replacements.remove(same)
        end = same.end if same is not None else offset
        start = offset
        if not before.strip():  # nothing left above (the imports went): no blank lines opening the module
            start = max((r.end for r in dst.replacements if r.end <= offset), default=0)
        dst.replacements.append(TextReplacement(start, end, placed + (same.new_text if same else "")))
    else:
        separator = "" if not target.text.strip() else ("\n\n" if target.text.endswith("\n") else "\n\n\n")
        dst.replacements.append(TextReplacement(len(target.text), len(target.text), separator + moved_text))

    # The source still using the symbol (outside the moved definition) imports it from its new home.
    still_used = any(
        (ref.name == symbol and not ref.receiver)
        and not (first_line <= ref.span.start_line <= definition.span.end_line)
        for ref in src.facts.references
    )
    if still_used:
        src.new_imports.append(
            writer.statement(
                writer.module(source.path, target.path, _relative_style(src, [dst], package_facts)),
                [ImportedName(symbol)],
            )
        )
    else:  # an export of the source no more: ``__all__`` follows the name
        _move_export(src, dst, symbol, plan)

    # Every dependent importing the symbol from the source imports it from the target instead.
    for path in dependents:
        if path in (source.path, target.path):
            continue
        text = text_of(path)
        if symbol not in text and "import *" not in text:  # nothing names the symbol or may bring it
            continue
        change = _FileChange(FileText(path, text), writer)
        _redirect_imports(change, symbol, source.path, target.path, resolve, plan)
        _redirect_dotted_strings(change, symbol, source.path, target.path)
        result = change.result()
        if result is not None:
            plan.changes.append(result)
    for change in (src, dst):
        result = change.result()
        if result is not None:
            plan.changes.insert(0, result)
    _refuse_import_cycle(plan, symbol, target.path, writer, text_of, resolve, exists)
    return plan


def _dependents_facts(
    dependents: Sequence[str], text_of: Callable[[str], str], skipped: tuple[str, ...]
) -> list[FileFacts]:
    """The facts of the move's dependents (the first ``_STYLE_SAMPLE``), for the package's import style."""
    found: list[FileFacts] = []
    for path in [p for p in dependents if p not in skipped and p.endswith(".py")][:_STYLE_SAMPLE]:
        facts = parse_facts(path, text_of(path))
        if facts is not None:
            found.append(facts)
    return found


# Dependents read for the package's import style when a file has no import of its package itself.
_STYLE_SAMPLE = 20


def _refuse_import_cycle(
    plan: MovePlan,
    symbol: str,
    target_path: str,
    writer: _Writer,
    text_of: Callable[[str], str],
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
) -> None:
    """Raise when the planned imports make modules import each other while they load (no module could
    then be imported first)."""

    def new_target(importer: str, imp: Import) -> str | None:
        # The index cannot resolve a module the move creates: recognised by its name as written here.
        names = {writer.module(importer, target_path, relative) for relative in (True, False)}
        return target_path if imp.module in names else None

    changed = {change.path: (change.text, _applied(change)) for change in plan.changes}
    cycle = import_cycle(changed, text_of, exists, resolve, new_target)
    if cycle is not None:
        raise RefactorError(
            f"moving {symbol} to {target_path} would make modules import each other while they load "
            f"({' → '.join(cycle)}); move what it needs with it, or import inside the function that uses it"
        )


def _applied(change: FileChange) -> str:
    text = change.text
    for r in sorted(change.replacements, key=lambda r: r.start, reverse=True):
        text = text[: r.start] + r.new_text + text[r.end :]
    return text


def _redirect_dotted_strings(change: _FileChange, symbol: str, source_path: str, target_path: str) -> None:
    """A string literal naming the symbol by its dotted path (``mock.patch("pkg.source.symbol")``,
    ``"pkg.source.Symbol.method"``) names it in the target: ``pkg.source`` no longer has it."""
    source_module = change.writer.module(change.file.path, source_path, False)
    target_module = change.writer.module(change.file.path, target_path, False)
    dotted = re.escape(f"{source_module}.{symbol}")
    for found in re.finditer(rf"(?P<quote>['\"]){dotted}(?:\.\w+)*(?P=quote)", change.file.text):
        start = found.start() + 1
        change.replacements.append(TextReplacement(start, start + len(source_module), target_module))


def _move_export(src: _FileChange, dst: _FileChange, symbol: str, plan: MovePlan) -> None:
    """``symbol`` out of the source's literal ``__all__`` and into the target's, when it has one (the
    source does not import the name back, so listing it would break ``from source import *``)."""
    removed = without_export(src.file.path, src.file.text, symbol)
    if removed is None:
        return
    src.replacements.append(removed)
    added = with_export(dst.file.path, dst.file.text, symbol)
    if added is not None:
        dst.replacements.append(added)
    plan.notes.append(
        f"{src.file.path}: {symbol} is no longer in its __all__; code outside the workspace that imports it "
        f"from there must import it from {dst.file.path}"
    )


def _imports_of_source(
    change: _FileChange, source_path: str, resolve: Callable[[str, Import], Any]
) -> list[Import]:
    found = []
    for imp in change.facts.imports:
        resolved = resolve(change.file.path, imp)
        paths = getattr(resolved, "paths", ())
        name_paths = dict(getattr(resolved, "name_paths", ()) or ())
        if source_path in paths or source_path in name_paths.values():
            found.append(imp)
    return found


def _source_module_receivers(
    change: _FileChange, source_path: str, resolve: Callable[[str, Import], Any]
) -> list[str]:
    """The names (``source``, ``src``, ``pkg.source``) by which the file reaches the source module."""
    receivers = []
    for imp in _imports_of_source(change, source_path, resolve):
        resolved = resolve(change.file.path, imp)
        if not imp.names and not imp.is_star and not imp.module.startswith("."):
            receivers.append(imp.alias or imp.module)
        for name in imp.names:
            if getattr(resolved, "path_for_name", lambda n: None)(name.name) == source_path:
                receivers.append(name.local_name)
    return receivers


def _unqualify_module_uses(
    change: _FileChange,
    symbol: str,
    source_path: str,
    target_path: str,
    resolve: Callable[[str, Import], Any],
    plan: MovePlan,
) -> None:
    """In the target, ``source.symbol`` becomes the now local ``symbol``; a binding of the source module that
    served only those uses goes (kept, it would make the source and the target import each other)."""
    text = change.file.text
    receivers = _source_module_receivers(change, source_path, resolve)
    receivers += list(_package_receivers(change, source_path, target_path))
    rewritten: dict[str, int] = {}
    for use in change.facts.references:
        if use.name != symbol or use.receiver not in receivers:
            continue
        name_start = span_offsets(text, use.span)[0]
        receiver_start = name_start - len(use.receiver) - 1
        if receiver_start < 0 or text[receiver_start:name_start] != use.receiver + ".":
            plan.notes.append(
                f"{change.file.path}: {use.receiver}.{symbol} is written in a form not rewritten"
            )
            rewritten[use.receiver] = -1  # a use left as written still needs the binding
            continue
        change.replacements.append(TextReplacement(receiver_start, name_start, ""))
        if rewritten.get(use.receiver, 0) >= 0:
            rewritten[use.receiver] = rewritten.get(use.receiver, 0) + 1
    _drop_unused_source_bindings(change, source_path, resolve, rewritten)


def _drop_unused_source_bindings(
    change: _FileChange, source_path: str, resolve: Callable[[str, Import], Any], rewritten: dict[str, int]
) -> None:
    """Drop the import names binding the source module whose every use was just rewritten
    (``rewritten``: receiver → rewritten uses)."""
    import_lines = _import_lines(change.facts)

    def unused_after(receiver: str) -> bool:
        head = receiver.split(".")[0]
        uses = sum(
            1
            for r in change.facts.references
            if r.name == head and not r.receiver and r.span.start_line not in import_lines
        )
        return rewritten.get(receiver, 0) > 0 and uses == rewritten[receiver]

    taken = {r.start for r in change.replacements}
    for imp in _imports_of_source(change, source_path, resolve):
        start, end = span_offsets(change.file.text, imp.span)
        if start in taken or imp.is_star or imp.module.startswith(".") and not imp.names:
            continue
        resolved = resolve(change.file.path, imp)
        if not imp.names:
            if not unused_after(imp.alias or imp.module):
                continue
            rest: list[ImportedName] = []
        else:
            path_for_name = getattr(resolved, "path_for_name", lambda n: None)
            rest = [
                n for n in imp.names if path_for_name(n.name) != source_path or not unused_after(n.local_name)
            ]
            if len(rest) == len(imp.names):
                continue
        _replace_import(change, imp, rest)


def _replace_import(change: _FileChange, imp: Import, rest: list[ImportedName]) -> None:
    """``imp`` importing only ``rest`` now: rewritten, or removed with its line when nothing is left."""
    text = change.file.text
    start, end = span_offsets(text, imp.span)
    if rest:
        change.replacements.append(TextReplacement(start, end, change.writer.statement(imp.module, rest)))
        return
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip() and text[end : end + 1] in ("\n", ""):
        start, end = line_start, min(len(text), end + 1)  # the whole line, indentation included
    change.replacements.append(TextReplacement(start, end, ""))


def _drop_imported_name(
    change: _FileChange, symbol: str, source_path: str, resolve: Callable[[str, Import], Any]
) -> set[str]:
    """Drop the target's imports of ``symbol`` from the source; the uses of a name it was imported as
    (``from .source import symbol as alias``) become ``symbol``. Returns those names."""
    aliases: set[str] = set()
    for imp in _imports_of_source(change, source_path, resolve):
        if not any(n.name == symbol for n in imp.names):
            continue
        _replace_import(change, imp, [n for n in imp.names if n.name != symbol])
        aliases.update(n.alias for n in imp.names if n.name == symbol and n.alias and n.alias != symbol)
    import_lines = _import_lines(change.facts)
    for use in change.facts.references:
        if use.name in aliases and not use.receiver and use.span.start_line not in import_lines:
            start, end = span_offsets(change.file.text, use.span)
            change.replacements.append(TextReplacement(start, end, symbol))
    return aliases


def _redirect_imports(
    change: _FileChange,
    symbol: str,
    source_path: str,
    target_path: str,
    resolve: Callable[[str, Import], Any],
    plan: MovePlan,
) -> None:
    """Rewrite one dependent: ``from source import symbol`` names, uses through a binding of the source
    module (``source.symbol``, ``src.symbol``, ``pkg.source.symbol``) and bare uses a star import supplied."""
    path = change.file.path
    writer = change.writer
    modules = _ModuleReceivers(change, target_path, resolve)
    for imp in _imports_of_source(change, source_path, resolve):
        resolved = resolve(path, imp)
        from_source = source_path in getattr(resolved, "paths", ())
        kept: list[ImportedName] | None = None  # None: the statement itself stays as written
        after: list[str] = []
        if imp.is_star:
            # A module made of imports re-exports what its star import brought: it keeps the name.
            reexports = not symbol.startswith("_") and _only_imports(path, change.file.text)
            if from_source and (_bare_uses(change, symbol) or reexports):
                module = writer.module(path, target_path, imp.module.startswith("."))
                after.append(writer.statement(module, [ImportedName(symbol)]))
        elif imp.names:
            names = list(imp.names)
            if from_source and any(n.name == symbol for n in names):
                moved = [n for n in names if n.name == symbol]
                names = [n for n in names if n.name != symbol]
                module = writer.module(path, target_path, imp.module.startswith("."))
                after.append(writer.statement(module, moved))
            for name in imp.names:
                if getattr(resolved, "path_for_name", lambda n: None)(name.name) != source_path:
                    continue
                drop, statement = _rewrite_module_uses(change, symbol, name.local_name, imp, modules, plan)
                after.extend([statement] if statement else [])
                if drop:
                    names = [n for n in names if n != name]
            if names != list(imp.names):
                kept = names
        elif not imp.module.startswith("."):
            drop, statement = _rewrite_module_uses(
                change, symbol, imp.alias or imp.module, imp, modules, plan
            )
            after.extend([statement] if statement else [])
            if drop:
                kept = []
        if kept is None and not after:
            continue
        start, end = span_offsets(change.file.text, imp.span)
        line_start = change.file.text.rfind("\n", 0, start) + 1
        indent = change.file.text[line_start:start]
        if indent.strip():  # ``a; import b``: the new statements go with the file's other imports
            change.new_imports.extend(after)
            indent, after = "", []
        if kept is None:
            statements = [change.file.text[start:end]]
        elif kept:
            statements = [writer.statement(imp.module, kept)]
        else:
            statements = []
        if statements and after:
            # A comment closing the line (a lint suppression) is about the statement kept there: the new
            # statements go on lines of their own below it.
            line_end = change.file.text.find("\n", end)
            line_end = len(change.file.text) if line_end < 0 else line_end
            if change.file.text[end:line_end].strip().startswith("#"):
                statements[0] += change.file.text[end:line_end]
                end = line_end
        statements += after
        if not statements and change.file.text[end : end + 1] == "\n":
            end += 1
        change.replacements.append(TextReplacement(start, end, ("\n" + indent).join(statements)))
    _rewrite_package_attribute_uses(change, symbol, source_path, target_path)


def _rewrite_package_attribute_uses(
    change: _FileChange, symbol: str, source_path: str, target_path: str
) -> None:
    """``pkg.source.symbol`` reached through ``import pkg`` (or ``import pkg.other``, ``import pkg as p``),
    not through an import of the source itself: becomes ``pkg.target.symbol``, with ``import pkg.target``
    added unless there, because a submodule is an attribute of its package only once imported somewhere.
    The package import stays (it binds the package for other uses)."""
    writer = change.writer
    target_module = writer.module(change.file.path, target_path, False)
    receivers = _package_receivers(change, source_path, target_path)
    if not receivers:
        return
    text = change.file.text
    done = {r.start for r in change.replacements}
    rewrote = False
    for use in change.facts.references:
        if use.name != symbol or use.receiver not in receivers:
            continue
        name_start = span_offsets(text, use.span)[0]
        receiver_start = name_start - len(use.receiver) - 1
        if receiver_start in done:
            continue  # already rewritten through an import of the source module itself
        if receiver_start < 0 or text[receiver_start:name_start] != use.receiver + ".":
            continue  # split over lines: left as written (it still works while the source is imported)
        change.replacements.append(
            TextReplacement(receiver_start, receiver_start + len(use.receiver), receivers[use.receiver])
        )
        rewrote = True
    already = any(
        imp.module == target_module and not imp.names and imp.alias is None for imp in change.facts.imports
    )
    if rewrote and not already:
        statement = writer.language.render_module_import(target_module)
        if statement is not None:
            change.new_imports.append(statement)


def _package_receivers(change: _FileChange, source_path: str, target_path: str) -> dict[str, str]:
    """The dotted receivers (``pkg.source``, ``p.source``) by which the file reaches the source module through
    an import of its package, each with the same receiver for the target module."""
    writer = change.writer
    source_module = writer.module(change.file.path, source_path, False)
    target_module = writer.module(change.file.path, target_path, False)
    if "." not in source_module or source_module.startswith("."):
        return {}
    receivers: dict[str, str] = {}
    for imp in change.facts.imports:
        if imp.names or imp.is_star or imp.module.startswith("."):
            continue
        if imp.alias is None and imp.module.split(".")[0] == source_module.split(".")[0]:
            receivers[source_module] = target_module  # ``import pkg.x`` binds ``pkg``
        elif (
            imp.alias
            and source_module.startswith(imp.module + ".")
            and target_module.startswith(imp.module + ".")
        ):
            receivers[imp.alias + source_module[len(imp.module) :]] = (
                imp.alias + target_module[len(imp.module) :]
            )
    return receivers


def _import_lines(facts: FileFacts) -> set[int]:
    return {line for imp in facts.imports for line in range(imp.span.start_line, imp.span.end_line + 1)}


_FACADE_STATEMENTS = {"import_statement", "import_from_statement", "future_import_statement", "comment"}


def _only_imports(path: str, text: str) -> bool:
    """Whether the module is nothing but imports (with a docstring, ``__all__`` and the like): a facade that
    re-exports what they bring."""
    language = language_for_path(path)
    if language is None:
        return False
    for statement in parse(language.ts_language(path), text.encode("utf-8")).root_node.named_children:
        if statement.type in _FACADE_STATEMENTS:
            continue
        first = statement.named_children[0] if statement.named_children else None
        if statement.type == "expression_statement" and first is not None and first.type == "string":
            continue  # the docstring
        left = first.child_by_field_name("left") if first is not None and first.type == "assignment" else None
        name = (left.text or b"").decode() if left is not None else ""
        if not (name.startswith("__") and name.endswith("__")):
            return False
    return True


def _bare_uses(change: _FileChange, name: str) -> bool:
    """Whether the file uses ``name`` bare (outside its imports) without defining it at the top level."""
    if any(d.name == name and d.parent is None for d in change.facts.definitions):
        return False
    import_lines = _import_lines(change.facts)
    return any(
        r.name == name and not r.receiver and r.span.start_line not in import_lines
        for r in change.facts.references
    )


class _ModuleReceivers:
    """How a dependent reaches the target module as a value (``target.symbol``): an import it already has,
    else one new import statement, written once per file."""

    def __init__(self, change: _FileChange, target_path: str, resolve: Callable[[str, Import], Any]) -> None:
        self.change = change
        self.target_path = target_path
        self.existing: str | None = None
        self.created: dict[str, str] = {}  # receiver → statement not yet placed
        for imp in change.facts.imports:
            resolved = resolve(change.file.path, imp)
            if imp.is_star:
                continue
            if (
                not imp.names
                and target_path in getattr(resolved, "paths", ())
                and not imp.module.startswith(".")
            ):
                self.existing = imp.alias or imp.module
            for name in imp.names:
                if getattr(resolved, "path_for_name", lambda n: None)(name.name) == target_path:
                    self.existing = name.local_name
        bound = {d.name for d in change.facts.definitions}
        bound |= {r.name for r in change.facts.references if not r.receiver}
        for imp in change.facts.imports:
            bound.update(local_names(imp))
        self.bound = bound

    def _free(self, name: str) -> str:
        candidate, number = name, 1
        while candidate in self.bound:
            candidate = f"{name}_module" if number == 1 else f"{name}_module{number}"
            number += 1
        return candidate

    def receiver(self, dotted: bool, relative: bool) -> tuple[str, str | None]:
        """The receiver text, and the statement to add (None when already there or already placed)."""
        if self.existing is not None:
            return self.existing, None
        writer = self.change.writer
        language = writer.language
        path = self.change.file.path
        if dotted:  # ``import pkg.source`` → ``import pkg.target``: same form, binds the same ``pkg``
            module = writer.module(path, self.target_path, False)
            statement = language.render_module_import(module) if "." in module else None
            if statement is not None:
                return self._created(module, statement)
        module = writer.module(path, self.target_path, relative)
        dots = len(module) - len(module.lstrip("."))
        parent, _, base = module[dots:].rpartition(".")
        parent = module[:dots] + parent
        local = self._free(base)
        alias = local if local != base else None
        if parent:
            statement = writer.statement(parent, [ImportedName(base, alias)])
        else:
            statement = language.render_module_import(base, alias)
        if statement is None:
            raise RefactorError(f"writing imports is not implemented for {language.name}")
        return self._created(local, statement)

    def _created(self, receiver: str, statement: str) -> tuple[str, str | None]:
        self.existing = receiver
        self.bound.add(receiver.split(".")[0])
        return receiver, statement


def _rewrite_module_uses(
    change: _FileChange,
    symbol: str,
    receiver: str,
    imp: Import,
    modules: _ModuleReceivers,
    plan: MovePlan,
) -> tuple[bool, str | None]:
    """Point every ``<receiver>.symbol`` at the target module. Returns whether the import binding the
    source module is now unused (so it can go), and the import statement to add for the target."""
    text = change.file.text
    uses = [r for r in change.facts.references if r.name == symbol and r.receiver == receiver]
    if not uses:
        return False, None
    starts = []
    for use in uses:
        name_start = span_offsets(text, use.span)[0]
        receiver_start = name_start - len(receiver) - 1
        if receiver_start < 0 or text[receiver_start:name_start] != receiver + ".":
            # ``source . symbol`` or split over lines: leave the file alone rather than guess
            plan.notes.append(f"{change.file.path}: {receiver}.{symbol} is written in a form not rewritten")
            return False, None
        starts.append(receiver_start)
    new_receiver, statement = modules.receiver(
        dotted="." in receiver and not imp.alias, relative=_relative(imp)
    )
    done = {r.start for r in change.replacements}
    for start in (s for s in starts if s not in done):  # two imports may bind the same name
        change.replacements.append(TextReplacement(start, start + len(receiver), new_receiver))
    head = receiver.split(".")[0]
    import_lines = _import_lines(change.facts)
    other_uses = sum(
        1
        for r in change.facts.references
        if r.name == head and not r.receiver and r.span.start_line not in import_lines
    )
    return other_uses == len(uses), statement


def _relative(imp: Import) -> bool:
    return imp.module.startswith(".")
