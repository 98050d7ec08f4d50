"""Go-to-definition (``Navigator``) and retrieval (``Resolver``) take base classes from one place, the
language's ``base_names`` hook: a member reached through a base is found by both, at the same definition
(Java ``extends`` through an import, a Go embedded struct of another package, a generic Python base).
Real index over small projects written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_support import write_files

from roost.context.index import WorkspaceIndex
from roost.context.resolution import Resolver

PROJECTS = {
    "java": (
        {
            "src/lib/Base.java": "package lib;\n\npublic class Base {\n    public void save() {}\n}\n",
            "src/app/Child.java": (
                "package app;\n\nimport lib.Base;\n\npublic class Child extends Base {\n"
                "    void run() {\n        Child c = new Child();\n        c.save();\n    }\n}\n"
            ),
        },
        "src/app/Child.java",
        "Child",
        "save",
        ("src/lib/Base.java", "Base.save"),
    ),
    "go": (
        {
            "go.mod": "module example.com/app\n\ngo 1.21\n",
            "pkg/base/base.go": "package base\n\ntype Store struct{}\n\nfunc (s *Store) Save() {}\n",
            "pkg/cache.go": (
                'package pkg\n\nimport "example.com/app/pkg/base"\n\ntype Cache struct {\n\tbase.Store\n'
                "\tsize int\n}\n\nfunc (c *Cache) Flush() {\n\tc.Save()\n}\n"
            ),
        },
        "pkg/cache.go",
        "Cache",
        "Save",
        ("pkg/base/base.go", "Store.Save"),
    ),
    "python": (
        {
            "lib/__init__.py": "",
            "lib/base.py": "class Base:\n    def save(self):\n        pass\n",
            "app.py": (
                "from lib.base import Base\n\n\nclass Child(Base[int]):\n    def run(self):\n"
                "        self.save()\n"
            ),
        },
        "app.py",
        "Child",
        "save",
        ("lib/base.py", "Base.save"),
    ),
}


def _position(index: WorkspaceIndex, path: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(index.source(path).splitlines()):
        if needle in line:
            return number, line.index(needle)
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.mark.parametrize("language", sorted(PROJECTS))
def test_navigation_and_retrieval_find_the_inherited_member_at_one_definition(
    language: str, tmp_path: Path, open_index
) -> None:
    files, path, class_name, member, expected = PROJECTS[language]
    root = tmp_path / language
    write_files(root, files)
    index = open_index(root)

    line, col = _position(index, path, f".{member}(")
    navigated = {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col + 1)}

    resolver = Resolver(index)
    [cls] = resolver.in_module(path, class_name)
    retrieved = {
        (t.path, t.definition.qualified_name) for t in resolver.class_member(cls, member) if t.definition
    }

    assert navigated == {expected}
    assert retrieved == {expected}
