"""Test double for :class:`~roost.context.languages.base.WorkspaceLayout` over real files on disk, and a
helper that parses a fixture file with the registered language module (real tree-sitter, real queries)."""

from __future__ import annotations

from pathlib import Path

import tree_sitter

from roost.context.facts import Definition, FileFacts, Import, ResolvedImport
from roost.context.languages import language_for_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class DiskLayout:
    """Every regular file under ``root`` is "indexed"; no caching, so tests see exactly the disk."""

    def __init__(self, root: Path, extra_roots: dict[str, list[str]] | None = None) -> None:
        self.root = root
        self._extra = extra_roots or {}

    def exists(self, rel_path: str) -> bool:
        return (self.root / rel_path).is_file()

    def is_dir(self, rel_path: str) -> bool:
        return (self.root / rel_path).is_dir()

    def read_text(self, rel_path: str) -> str | None:
        try:
            return (self.root / rel_path).read_text(encoding="utf-8")
        except OSError:
            return None

    def files_in_dir(self, rel_dir: str) -> list[str]:
        directory = self.root / rel_dir
        if not directory.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in directory.iterdir() if p.is_file())

    def extra_source_roots(self, language: str) -> list[str]:
        return list(self._extra.get(language, []))


def extract_file(root: Path, rel_path: str) -> FileFacts:
    language = language_for_path(rel_path)
    assert language is not None, f"no language for {rel_path}"
    source = (root / rel_path).read_bytes()
    tree = tree_sitter.Parser(language.ts_language(rel_path)).parse(source)
    return language.extract(rel_path, source, tree)


def resolve(root: Path, rel_path: str, imp: Import) -> ResolvedImport:
    language = language_for_path(rel_path)
    assert language is not None
    return language.resolve_import(imp, rel_path, DiskLayout(root))


def definitions_by_qualified_name(facts: FileFacts) -> dict[str, Definition]:
    found = {d.qualified_name: d for d in facts.definitions}
    assert len(found) == len(facts.definitions), "qualified names must be unique in these fixtures"
    return found


def import_for(facts: FileFacts, module: str, index: int = 0) -> Import:
    matching = [imp for imp in facts.imports if imp.module == module]
    assert matching, f"no import of {module!r} in {[imp.module for imp in facts.imports]}"
    return matching[index]
