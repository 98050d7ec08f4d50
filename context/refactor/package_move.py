"""Move a top-level symbol to another file of its package (Go, Java).

Files of one package see each other's top-level names without imports, so no dependent changes: the
declaration (with its doc comment) is cut from the source and appended to the target, the target gets
the imports the moved code uses, and the source loses the imports only the moved code used (Go refuses
to compile unused imports). Cutting, and reading and writing import statements, is the language
module's (:meth:`LanguageSupport.declaration_to_move`, ``with_imports_from``, ``without_imports``);
this module decides what moves. Same signature and result as :func:`roost.context.refactor.move.plan_move`,
so a caller dispatches on :attr:`LanguageSupport.moves_within_package`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from typing import Any

from roost.context.facts import FileFacts, Import, Reference, SymbolKind
from roost.context.languages import language_for_path
from roost.context.languages.base import LanguageSupport
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError, replacements_between
from roost.context.refactor.move_plan import FileChange, FileText, MovePlan


def plan_package_move(
    symbol: str,
    source: FileText,
    target: FileText,
    dependents: Sequence[str],
    text_of: Callable[[str], str],
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
) -> MovePlan:
    """Replacements that move top-level ``symbol`` from ``source`` to ``target``, another file of its
    package. ``dependents``, ``text_of``, ``resolve`` and ``exists`` are :func:`plan_move`'s; a move
    within a package changes no dependent, so they are not consulted. Raises :class:`RefactorError` when
    the move is impossible."""
    del dependents, text_of, resolve, exists  # same package: no dependent changes
    language = language_for_path(source.path)
    if (
        language is None
        or not language.moves_within_package
        or language_for_path(target.path) is not language
    ):
        raise RefactorError(
            f"moving within a package needs two files of one language with packages ({source.path}, {target.path})"
        )
    if source.path == target.path:
        raise RefactorError("the symbol is already in that file")
    src_facts = _facts(source)
    original_target = target.text
    if not target.text.strip():  # a new file of the package: it opens with the source's package clause
        target = FileText(target.path, _package_clause(source.text))
    dst_facts = _facts(target)
    _check_same_package(language, source.path, src_facts, target.path, dst_facts)
    built_with = language.build_constraint(source.path, source.text)
    if language.build_constraint(target.path, target.text) != built_with:
        raise RefactorError(
            f"{source.path} is built {_builds(built_with)} and {target.path} "
            f"{_builds(language.build_constraint(target.path, target.text))}: {symbol!r} would be missing or "
            "doubled in some builds"
        )
    # A Go method is a top-level declaration too: it is named ``Type.Method``.
    definition = next(
        (
            d
            for d in src_facts.definitions
            if (d.name == symbol and d.parent is None)
            or (d.qualified_name == symbol and d.kind is SymbolKind.METHOD)
        ),
        None,
    )
    if definition is None:
        raise RefactorError(f"no top-level definition named {symbol!r} in {source.path}")
    if any(d.qualified_name == definition.qualified_name for d in dst_facts.definitions):
        raise RefactorError(f"{target.path} already defines {symbol!r}")
    try:
        cut = language.declaration_to_move(source.text, definition)
    except ValueError as error:
        raise RefactorError(f"cannot move {symbol!r}: {error}") from error
    if cut is None:
        raise RefactorError(f"moving symbols within a package is not implemented for {language.name}")
    start, end, declaration = cut
    first_line = source.text.count("\n", 0, start)
    last_line = source.text.count("\n", 0, max(start, end - 1))
    moved_names = {
        d.name
        for d in src_facts.definitions
        if d.parent is None and first_line <= d.span.start_line <= last_line
    }
    if not language.sees_package_file(source.path, target.path):
        raise RefactorError(
            f"{source.path} does not see {target.path} ({symbol!r} would vanish from its package)"
        )

    import_lines = {
        line for imp in src_facts.imports for line in range(imp.span.start_line, imp.span.end_line + 1)
    }

    def moved(ref: Reference) -> bool:
        return first_line <= ref.span.start_line <= last_line

    used_moved = {_head(ref) for ref in src_facts.references if moved(ref)}
    used_staying = {
        _head(ref)
        for ref in src_facts.references
        if not moved(ref) and ref.span.start_line not in import_lines
    }
    needed: list[Import] = []
    unused: list[Import] = []
    for imp in src_facts.imports:
        names = _bound_names(language, imp)
        if imp.is_star:
            # Which names a wildcard supplies is not known here: the target gets it when the moved code
            # uses names the two files neither define nor import by name (Java tolerates an unused one).
            if _uses_unknown_names(language, used_moved, src_facts, dst_facts, moved_names):
                needed.append(imp)
            continue
        if not names or not (set(names) & used_moved):
            continue
        needed.append(imp)
        if not set(names) & used_staying:
            unused.append(imp)

    new_source = source.text[:start] + source.text[end:]
    if unused:
        without = language.without_imports(
            new_source, [_shifted(imp, source.text, start, end) for imp in unused]
        )
        new_source = without if without is not None else new_source
    new_target = target.text
    if needed:
        with_imports = language.with_imports_from(target.text, source.text, needed)
        if with_imports is None:
            raise RefactorError(f"writing imports is not implemented for {language.name}")
        new_target = with_imports
    kept = new_target.rstrip("\n") + "\n\n" if new_target.strip() else ""
    new_target = kept + declaration

    plan = MovePlan()
    for imp in needed:
        for existing in dst_facts.imports:
            if (
                existing.module == imp.module
                and existing.names == imp.names
                and _bound_names(language, existing) != _bound_names(language, imp)
            ):
                plan.notes.append(
                    f"{target.path} imports {imp.module} as {_bound_names(language, existing)}; the moved "
                    f"code uses it as {_bound_names(language, imp)}"
                )
    for path, old, new in (
        (source.path, source.text, new_source),
        (target.path, original_target, new_target),
    ):
        replacements = tuple(replacements_between(old, new))
        if replacements:
            plan.changes.append(FileChange(path, old, replacements))
    return plan


def moves_within_package(path: str) -> bool:
    """Whether the language of ``path`` moves symbols between the files of a package (Go, Java): then
    :func:`plan_package_move` and :func:`package_move_targets` apply instead of ``refactor.move``, and
    ``refactor.package_imports`` finds and writes missing imports."""
    language = language_for_path(path)
    return language is not None and language.moves_within_package


def package_move_targets(source_path: str, package_peers: Sequence[str], limit: int) -> list[str]:
    """Files a top-level symbol of ``source_path`` can move to: its package peers (as
    ``WorkspaceIndex.package_peers`` gives them) in the same directory, of the same main extension (a Java
    package spread over ``src/main/java`` and ``src/test/java`` keeps its main code out of the tests)."""
    language = language_for_path(source_path)
    if language is None or not language.moves_within_package:
        return []
    directory = posixpath.dirname(source_path)
    return sorted(
        path
        for path in package_peers
        if path != source_path
        and posixpath.dirname(path) == directory
        and path.endswith(language.extensions[0])
        and language.sees_package_file(source_path, path)
    )[:limit]


def _facts(file: FileText) -> FileFacts:
    facts = parse_facts(file.path, file.text)
    if facts is None:
        raise RefactorError(f"{file.path}: no language module handles this file")
    return facts


def _check_same_package(
    language: LanguageSupport, source_path: str, src: FileFacts, target_path: str, dst: FileFacts
) -> None:
    target_dir = posixpath.dirname(target_path)
    if (
        not src.package
        or src.package != dst.package
        or target_dir not in language.package_dirs(source_path, src.package, [target_dir])
    ):
        raise RefactorError(
            f"{target_path} is not in the package of {source_path} ({src.package}): a symbol moves only "
            "between files of one package"
        )


def _builds(constraint: str) -> str:
    return f"where {constraint}" if constraint else "in every build"


def _package_clause(text: str) -> str:
    """The source's ``package x`` (Go) / ``package a.b;`` (Java) line, without the comments around it."""
    line = next((line for line in text.split("\n") if re.match(r"package\s", line)), "")
    return f"{line.strip()}\n" if line else ""


def _head(ref: Reference) -> str:
    """The name a use needs bound: ``pkg`` of ``pkg.Name``, ``Foo`` of ``Foo.bar``, the name itself."""
    return ref.receiver.split(".")[0].strip() if ref.receiver else ref.name


def _bound_names(language: LanguageSupport, imp: Import) -> list[str]:
    if imp.names:
        return [name.local_name for name in imp.names]
    bound = language.bound_name(imp)
    return [bound] if bound and bound != "_" else []


def _uses_unknown_names(
    language: LanguageSupport, used: set[str], src: FileFacts, dst: FileFacts, moved: set[str]
) -> bool:
    known = {d.name for d in src.definitions} | {d.name for d in dst.definitions} | moved
    for facts in (src, dst):
        for imp in facts.imports:
            if not imp.is_star:
                known.update(_bound_names(language, imp))
    return any(name[:1].isupper() and name not in known for name in used)


def _shifted(imp: Import, text: str, start: int, end: int) -> Import:
    """``imp`` with its span as it is once ``text[start:end]`` (whole lines) is cut."""
    if text.count("\n", 0, start) > imp.span.start_line:
        return imp
    removed = text.count("\n", start, end)
    span = imp.span
    return Import(
        imp.module,
        type(span)(span.start_line - removed, span.start_col, span.end_line - removed, span.end_col),
        imp.names,
        imp.alias,
        imp.is_star,
    )
