"""Where "Move symbol to module…" offers to move a top-level symbol: modules ranked by their relation to the
symbol — the modules that use it, the modules whose names it uses, its package siblings, the files the user
edited recently — instead of the first few in alphabetical order. And the name the user types for "Move to
another module…", checked and turned into a workspace path (a new module when it does not exist yet).

Pure over a small view of the import graph (``ImportGraph``), so the ranking is tested without a server."""

from __future__ import annotations

import posixpath
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from roost.context.languages import language_for_path
from roost.context.refactor.imports import writes_imports

# Why a target ranks where it does, with its weight; a module can have several.
USES_SYMBOL_BY_NAME = ("imports it", 8.0)
USES_SOURCE_MODULE = ("imports its module", 3.0)
PROVIDES_NAMES_IT_USES = ("it uses names from there", 6.0)
SAME_PACKAGE = ("same package", 2.0)
RECENTLY_EDITED = ("recently edited", 2.0)
# Modules that are rarely the right home for a moved definition.
_SPECIAL_MODULE = re.compile(r"(^|/)(__main__|__version__|setup|conftest)\.py$")
_TEST_MODULE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(test|spec)\.[jt]sx?)$")
_PYTHON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_RECENT = 32


class ImportedNameView(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def alias(self) -> str | None: ...


class ImportView(Protocol):
    @property
    def names(self) -> Sequence[ImportedNameView]: ...

    @property
    def alias(self) -> str | None: ...

    @property
    def module(self) -> str: ...


class ImportEdgeView(Protocol):
    @property
    def imp(self) -> ImportView: ...

    @property
    def targets(self) -> tuple[str, ...]: ...


class ImportGraph(Protocol):
    def imports(self, path: str) -> Sequence[ImportEdgeView]: ...

    def dependents(self, path: str) -> Sequence[str]: ...


@dataclass(frozen=True)
class RankedTarget:
    path: str
    score: float
    reasons: tuple[str, ...]


class RecentEdits:
    """Workspace files in the order the user last edited them (opened or changed in the editor), bounded."""

    def __init__(self) -> None:
        self._at: OrderedDict[str, float] = OrderedDict()

    def touched(self, path: str) -> None:
        self._at.pop(path, None)
        self._at[path] = time.monotonic()
        while len(self._at) > MAX_RECENT:
            self._at.popitem(last=False)

    def most_recent_first(self) -> list[str]:
        return list(reversed(self._at))


def candidate_modules(source: str, paths: Iterable[str]) -> list[str]:
    """Files a top-level symbol of ``source`` can move to: same language and extension anywhere in the
    workspace for languages whose imports name modules by path (Python, JS/TS); Rust keeps to the source's
    directory (sibling modules), as the planner requires. Go and Java move within a package (callers pass the
    package peers instead)."""
    language = language_for_path(source)
    if language is None or not writes_imports(source):
        return []
    extension = posixpath.splitext(source)[1] if language.moves_between_modules else language.extensions[0]
    directory = posixpath.dirname(source)
    same_directory_only = language.paths_reach_without_imports  # Rust: crate paths, sibling modules only
    return sorted(
        path
        for path in paths
        if path != source
        and posixpath.splitext(path)[1] == extension
        and (not same_directory_only or posixpath.dirname(path) == directory)
        and language.move_target_allowed(source, path)
    )


def rank_move_targets(
    source: str,
    symbol: str,
    names_used: set[str],
    candidates: Sequence[str],
    graph: ImportGraph,
    recent: Sequence[str],
    limit: int,
) -> list[RankedTarget]:
    """The ``limit`` best of ``candidates`` for moving ``symbol`` (which uses ``names_used``) out of ``source``.

    Ties (modules with no relation) go to the nearest directory, then alphabetical order."""
    allowed = set(candidates)
    reasons: dict[str, list[tuple[str, float]]] = {path: [] for path in candidates}

    for dependent in graph.dependents(source):
        if dependent not in allowed:
            continue
        edges = [edge for edge in graph.imports(dependent) if source in edge.targets]
        by_name = any(name.name == symbol for edge in edges for name in edge.imp.names)
        reasons[dependent].append(USES_SYMBOL_BY_NAME if by_name else USES_SOURCE_MODULE)

    for edge in graph.imports(source):
        local_names = {name.alias or name.name for name in edge.imp.names}
        module_name = edge.imp.alias or edge.imp.module.rsplit(".", 1)[-1]
        if local_names & names_used or (not edge.imp.names and module_name in names_used):
            for target in edge.targets:
                if target in allowed and PROVIDES_NAMES_IT_USES not in reasons[target]:
                    reasons[target].append(PROVIDES_NAMES_IT_USES)

    directory = posixpath.dirname(source)
    for path in candidates:
        if posixpath.dirname(path) == directory:
            reasons[path].append(SAME_PACKAGE)

    recent_candidates = [path for path in recent if path in allowed]
    for rank, path in enumerate(recent_candidates[:8]):
        label, weight = RECENTLY_EDITED
        reasons[path].append((label, weight - 0.2 * rank))  # the latest edit counts most

    def score(path: str) -> float:
        total = sum(weight for _, weight in reasons[path])
        if _SPECIAL_MODULE.search(path):
            total -= 3.0
        if _TEST_MODULE.search(path) and not _TEST_MODULE.search(source):
            total -= 3.0
        if posixpath.basename(path) == "__init__.py":
            total -= 1.0
        return total

    def nearness(path: str) -> int:
        shared = posixpath.commonpath([directory or ".", posixpath.dirname(path) or "."])
        return -len([part for part in shared.split("/") if part not in ("", ".")])

    ranked = sorted(candidates, key=lambda path: (-score(path), nearness(path), path))[:limit]
    return [RankedTarget(path, score(path), tuple(label for label, _ in reasons[path])) for path in ranked]


class InvalidModuleName(ValueError):
    """The name typed for "Move to another module…" cannot be a module of the source's language."""


def module_path_for(source: str, typed: str) -> str:
    """The workspace path of the module the user typed: ``pkg/geometry.py``, ``pkg/geometry`` or (Python)
    ``pkg.geometry`` → ``pkg/geometry.py``; the source's extension is added when missing. Raises
    :class:`InvalidModuleName` for anything that is not a plain relative module path of the same language."""
    name = typed.strip().replace("\\", "/")
    extension = posixpath.splitext(source)[1]
    python = extension == ".py"
    if python and "/" not in name and not name.endswith(".py"):
        name = name.replace(".", "/")  # a dotted module name
    if not name.endswith(extension):
        name = f"{name}{extension}"
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise InvalidModuleName(
            f"{typed!r} is not a module path inside the workspace (e.g. pkg/geometry{extension})"
        )
    stem = posixpath.splitext(parts[-1])[0]
    if python and not all(_PYTHON_NAME.fullmatch(part) for part in [*parts[:-1], stem]):
        raise InvalidModuleName(f"{typed!r}: every part of a Python module name must be an identifier")
    if language_for_path(name) is not language_for_path(source):
        raise InvalidModuleName(f"{typed!r} is not a {extension} module")
    return name
