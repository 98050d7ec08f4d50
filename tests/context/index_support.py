"""Helpers shared by the index tests (tests/context/test_*.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PYPROJ = FIXTURES / "pyproj"


def copy_fixture(name: str, destination: Path) -> Path:
    target = destination / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def make_index(root: Path, cache: Path, **options) -> WorkspaceIndex:
    options.setdefault("workers", 1)
    return WorkspaceIndex(root, IndexOptions(cache_dir=cache, **options))


def position(index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """0-based line and byte column of the ``occurrence``-th ``needle`` in ``path`` (whole-word match)."""
    import re

    seen = 0
    for number, line in enumerate(index.source(path).splitlines()):
        for match in re.finditer(rf"\b{re.escape(needle)}\b", line):
            if seen == occurrence:
                return number, len(line[: match.start()].encode("utf-8"))
            seen += 1
    raise AssertionError(f"{needle!r} not found {occurrence + 1} times in {path}")


def definitions(
    index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0
) -> set[tuple[str, str | None]]:
    line, col = position(index, path, needle, occurrence)
    return {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col)}


def graph_snapshot(index: WorkspaceIndex) -> dict:
    """Everything the graph knows, as plain data, for equality checks between two indexes."""
    snapshot = {}
    for path in index.files():
        facts = index.facts(path)
        snapshot[path] = {
            "definitions": [
                (d.qualified_name, d.kind.value, d.span, d.name_span, d.signature, d.doc, d.parent)
                for d in facts.definitions
            ],
            "imports": [(edge.imp, edge.resolved) for edge in index.imports(path)],
            "exports": list(facts.exports),
            "dependents": index.dependents(path),
        }
    return snapshot


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write workspace-relative ``files`` under ``root`` (directories made as needed); returns ``root``."""
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def index_with_definitions(
    tmp_path: Path, files: dict[str, str]
) -> tuple[WorkspaceIndex, Callable[..., set[tuple[str, str | None]]]]:
    """An index of ``files`` (written under ``tmp_path/project``) and a lookup: the definitions of what
    stands at ``offset`` into the first occurrence of ``needle`` in ``path``, as (path, qualified name).
    The caller closes the index."""
    index = make_index(write_files(tmp_path / "project", files), tmp_path / "cache")
    index.index()

    def definitions(path: str, needle: str, offset: int = 0) -> set[tuple[str, str | None]]:
        lines = index.source(path).splitlines()
        line = next(number for number, text in enumerate(lines) if needle in text)
        col = lines[line].index(needle) + offset
        return {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col)}

    return index, definitions


def apply_replacements(text: str, replacements) -> str:
    """``text`` with a refactor's replacements (character offsets into ``text``) applied."""
    for r in sorted(replacements, key=lambda r: r.start, reverse=True):
        text = text[: r.start] + r.new_text + text[r.end :]
    return text
