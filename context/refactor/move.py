"""Moving a top-level symbol to another file: where it may go, which files may change, and the one entry
point :func:`plan_move`, which hands the move to its language's planner.

The graph says who depends on the source module (reverse edges) and where each import points; each file
involved is given with its current text (the editor's buffer when open). The planners —
:mod:`.python_move`, :mod:`.module_move` (JS/TS, Rust), :mod:`.package_move` (Go, Java) — return plain
text replacements per file (:mod:`.move_plan`), which the caller verifies and sends.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Any

from roost.context.facts import Import
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError, writes_imports
from roost.context.refactor.module_move import plan_module_move
from roost.context.refactor.move_plan import FileChange, FileText, MovePlan
from roost.context.refactor.package_move import plan_package_move
from roost.context.refactor.python_move import plan_python_move

__all__ = ["FileChange", "FileText", "MovePlan", "move_dependents", "move_targets", "plan_move"]


def move_targets(source_path: str, paths: Sequence[str], limit: int) -> list[str]:
    """Modules a top-level symbol of ``source_path`` can be moved to: files of the same language (its main
    extension) in the same directory, when the language can write imports."""
    language = language_for_path(source_path)
    if language is None or not writes_imports(source_path):
        return []
    directory = posixpath.dirname(source_path)
    if language.moves_between_modules:  # same language and extension (a ``.tsx`` stays a ``.tsx``)
        extension = posixpath.splitext(source_path)[1]
        return sorted(
            p
            for p in paths
            if posixpath.dirname(p) == directory
            and p != source_path
            and posixpath.splitext(p)[1] == extension
            and language.move_target_allowed(source_path, p)
        )[:limit]
    main_extension = language.extensions[0]
    return sorted(
        p
        for p in paths
        if posixpath.dirname(p) == directory and p != source_path and p.endswith(main_extension)
    )[:limit]


def move_dependents(
    source_path: str,
    dependents: Sequence[str],
    paths: Sequence[str],
    exists: Callable[[str], bool],
    dependents_of: Callable[[str], Sequence[str]] | None = None,
    text_of: Callable[[str], str] | None = None,
) -> list[str]:
    """The files a move of a symbol out of ``source_path`` may have to rewrite: its importers (the graph's
    ``dependents``), and where the language reaches items by path without an import (Rust), every file of
    the language in the source's project (the directory with a ``project_root_markers`` file).

    With ``dependents_of`` (the graph's importers of a file), a Python source also brings the importers of
    the modules beside it and of those of every package above it: ``import pkg`` (``pkg/__init__.py``) or
    ``import pkg.other`` binds ``pkg``, through which ``pkg.source.symbol`` reaches the source without
    importing it, and ``import top`` reaches ``top.pkg.source.symbol`` the same way.

    With ``text_of`` too, a JS/TS source brings the importers of the barrels re-exporting it as a namespace
    (``export * as util from "./util"``), which reach ``util.symbol`` without importing the source."""
    language = language_for_path(source_path)
    if (
        language is not None
        and language.moves_between_modules
        and not language.paths_reach_without_imports
        and dependents_of is not None
        and text_of is not None
    ):
        barrels = [d for d in dependents if _reexports_a_namespace(d, text_of(d))]
        return list(dict.fromkeys([*dependents, *(d for barrel in barrels for d in dependents_of(barrel))]))
    if language is None or not language.paths_reach_without_imports:
        if (
            dependents_of is None
            or language is None
            or language.moves_between_modules
            or language.moves_within_package
        ):
            return list(dependents)
        directory = posixpath.dirname(source_path)
        packages = {directory}
        while directory and exists(posixpath.join(directory, "__init__.py")):
            directory = posixpath.dirname(directory)  # the package holding this one, if it is a package
            if not directory or not exists(posixpath.join(directory, "__init__.py")):
                break
            packages.add(directory)
        peers = [
            p
            for p in paths
            if posixpath.dirname(p) in packages and p != source_path and language_for_path(p) is language
        ]
        return list(dict.fromkeys([*dependents, *(d for peer in peers for d in dependents_of(peer))]))
    directory = posixpath.dirname(source_path)
    while directory and not any(exists(posixpath.join(directory, m)) for m in language.project_root_markers):
        directory = posixpath.dirname(directory)
    prefix = f"{directory}/" if directory else ""
    same_project = [p for p in paths if p.startswith(prefix) and language_for_path(p) is language]
    return sorted({*dependents, *same_project})


def _reexports_a_namespace(path: str, text: str) -> bool:
    facts = parse_facts(path, text)
    return facts is not None and any(e.original_name == "*" and e.name != "*" for e in facts.exports)


def plan_move(
    symbol: str,
    source: FileText,
    target: FileText,
    dependents: Sequence[str],
    text_of: Callable[[str], str],
    resolve: Callable[[str, Import], Any],
    exists: Callable[[str], bool],
) -> MovePlan:
    """Replacements that move top-level ``symbol`` from ``source`` to ``target``; ``text_of(path)`` gives a
    dependent's current text. Raises :class:`RefactorError` when the move is impossible.

    Languages with their own planner get it: JS/TS and Rust (``moves_between_modules``) →
    :mod:`roost.context.refactor.module_move`; Go and Java (``moves_within_package``) →
    :mod:`roost.context.refactor.package_move`."""
    language = language_for_path(source.path)
    if language is not None and language.moves_within_package:
        return plan_package_move(symbol, source, target, dependents, text_of, resolve, exists)
    if language is not None and language.moves_between_modules:
        return plan_module_move(symbol, source, target, dependents, text_of, resolve, exists)
    if language is None or language_for_path(target.path) is not language or not writes_imports(source.path):
        raise RefactorError(
            f"moving symbols needs two modules of one language that can write imports ({source.path}, "
            f"{target.path})"
        )
    if source.path == target.path:
        raise RefactorError("the symbol is already in that module")
    return plan_python_move(language, symbol, source, target, dependents, text_of, resolve, exists)
