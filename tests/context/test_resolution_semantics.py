"""The three places where navigation's and retrieval's resolvers used to disagree, decided once in
``roost.context.resolution`` on Python's semantics and checked here through both users: go-to-definition
(``WorkspaceIndex.definitions_at``) and the resolver retrieval builds over a workspace (the index, and the
in-memory ``ParsedWorkspace`` the retrieval bench uses). Real tree-sitter, real index, files in ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from index_support import index_with_definitions, write_files

from roost.context.graph import SymbolLocation
from roost.context.index import WorkspaceIndex
from roost.context.resolution import Resolver
from roost.context.retrieval.standalone import ParsedWorkspace

Located = set[tuple[str, str | None]]


def _located(locations: list[SymbolLocation]) -> Located:
    return {(loc.path, loc.qualified_name) for loc in locations}


def _line(locations: list[SymbolLocation]) -> set[int]:
    return {loc.span.start_line for loc in locations}


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[WorkspaceIndex, object, Path]]:
    files: dict[str, str] = request.param
    index, definitions = index_with_definitions(tmp_path, files)
    try:
        yield index, definitions, tmp_path / "project"
    finally:
        index.close()


def _resolvers(index: WorkspaceIndex, root: Path) -> list[Resolver]:
    return [Resolver(index), Resolver(ParsedWorkspace(root))]


# -- 1. several definitions of one name: Python's last binding wins ---------------------------------------

REBOUND = {
    "lib.py": (
        "def parse(text):\n    return text\n\n\n"
        "def parse(text, strict=False):\n    return text.strip()\n\n\n"
        "class Reader:\n    def read(self):\n        return 1\n\n    def read(self, size=-1):\n        return size\n"
    ),
    "app.py": "from lib import Reader, parse\n\nparse('x')\nReader().read()\n",
}


@pytest.mark.parametrize("project", [REBOUND], indirect=True)
def test_the_last_top_level_and_class_body_binding_wins(project) -> None:
    index, definitions, root = project
    # Lines (0-based) of the second ``def parse`` and the second ``def read``.
    assert definitions("app.py", "parse('x')") == {("lib.py", "parse")}
    assert _line(index.definitions_at("app.py", 2, 0)) == {4}
    assert _line(index.definitions_at("app.py", 3, len("Reader()."))) == {12}
    for resolver in _resolvers(index, root):
        assert _line(resolver.in_module("app.py", "parse")) == {4}
        [reader] = resolver.in_module("app.py", "Reader")
        assert _line(resolver.class_member(reader, "read")) == {12}


JAVA_OVERLOADS = {
    "src/lib/Store.java": (
        "package lib;\n\npublic class Store {\n    public void save() {}\n\n    public void save(int id) {}\n}\n"
    ),
    "src/app/Main.java": (
        "package app;\n\nimport lib.Store;\n\npublic class Main {\n    void run() {\n"
        "        Store s = new Store();\n        s.save();\n    }\n}\n"
    ),
}


@pytest.mark.parametrize("project", [JAVA_OVERLOADS], indirect=True)
def test_java_overloads_all_stay_bindings_of_the_name(project) -> None:
    index, definitions, root = project
    assert _line(index.definitions_at("src/app/Main.java", 7, len("        s."))) == {3, 5}
    [store] = Resolver(index).in_module("src/app/Main.java", "Store")
    assert _line(Resolver(index).class_member(store, "save")) == {3, 5}


# -- 2. ``from pkg import sub``: pkg's attribute if its __init__ binds one, else the submodule --------------

ATTRIBUTE_OVER_SUBMODULE = {
    "pkg/__init__.py": "from .impl import sub\n",
    "pkg/impl.py": "def sub():\n    return 1\n",
    "pkg/sub.py": "def helper():\n    return 2\n",
    "pkg/other.py": "def thing():\n    return 3\n",
    "app.py": "from pkg import sub\nfrom pkg import other\n\nsub()\nother.thing()\n",
}


@pytest.mark.parametrize("project", [ATTRIBUTE_OVER_SUBMODULE], indirect=True)
def test_from_package_import_takes_the_packages_attribute_before_the_submodule(project) -> None:
    index, definitions, root = project
    assert definitions("app.py", "sub()") == {("pkg/impl.py", "sub")}
    assert definitions("app.py", "other.thing", len("other.")) == {("pkg/other.py", "thing")}
    for resolver in _resolvers(index, root):
        assert _located(resolver.in_module("app.py", "sub")) == {("pkg/impl.py", "sub")}
        assert _located(resolver.in_module("app.py", "other")) == {("pkg/other.py", None)}


# -- 3. ``import a.b`` binds ``a``; ``a.b`` is its attribute ----------------------------------------------

DOTTED_IMPORT = {
    "a/__init__.py": "def top():\n    return 0\n",
    "a/b.py": "def g():\n    return 1\n",
    "ns/c.py": "def h():\n    return 2\n",  # a namespace package: no __init__.py
    "app.py": "import a.b\nimport ns.c\n\na.top()\na.b.g()\nns.c.h()\n",
}


@pytest.mark.parametrize("project", [DOTTED_IMPORT], indirect=True)
def test_import_a_b_binds_the_package_a_and_reaches_b_as_its_attribute(project) -> None:
    index, definitions, root = project
    assert definitions("app.py", "a.top()") == {("a/__init__.py", None)}
    assert definitions("app.py", "a.top()", len("a.")) == {("a/__init__.py", "top")}
    assert definitions("app.py", "a.b.g()", len("a.b.")) == {("a/b.py", "g")}
    assert definitions("app.py", "ns.c.h()", len("ns.c.")) == {("ns/c.py", "h")}
    for resolver in _resolvers(index, root):
        assert _located(resolver.in_module("app.py", "a")) == {("a/__init__.py", None)}
        assert _located(resolver.expression("app.py", "a.b")) == {("a/b.py", None)}
        assert _located(resolver.expression("app.py", "a.b.g")) == {("a/b.py", "g")}
        assert _located(resolver.expression("app.py", "ns.c.h")) == {("ns/c.py", "h")}


def test_retrieval_resolves_go_names_from_the_other_files_of_the_package(tmp_path: Path, open_index) -> None:
    """The one resolver gives retrieval what navigation had alone: a Go package's other files."""
    root = write_files(
        tmp_path / "go",
        {
            "go.mod": "module example.com/app\n\ngo 1.21\n",
            "store.go": "package app\n\ntype Store struct{}\n\nfunc (s *Store) Save() {}\n",
            "main.go": "package app\n\nfunc run() {\n\ts := Store{}\n\ts.Save()\n}\n",
        },
    )
    index = open_index(root)
    resolver = Resolver(index)
    [store] = resolver.in_module("main.go", "Store")
    assert (store.path, store.qualified_name) == ("store.go", "Store")
    assert _located(resolver.class_member(store, "Save")) == {("store.go", "Store.Save")}


SHADOWING_SUBCLASS = {
    "base.py": "class Path:\n    def join(self, other):\n        return other\n",
    "app.py": "from base import Path\n\n\nclass Path(Path):\n    pass\n\n\nPath().join('x')\n",
}


@pytest.mark.parametrize("project", [SHADOWING_SUBCLASS], indirect=True)
def test_a_class_extending_the_name_it_shadows_extends_the_earlier_binding(project) -> None:
    """``class Path(Path)``: the base is what ``Path`` meant before the class statement (the import)."""
    index, definitions, root = project
    assert definitions("app.py", "Path().join", len("Path().")) == {("base.py", "Path.join")}
    for resolver in _resolvers(index, root):
        [cls] = resolver.in_module("app.py", "Path")
        assert _located(resolver.bases(cls)) == {("base.py", "Path")}
        assert _located(resolver.class_member(cls, "join")) == {("base.py", "Path.join")}


# -- what a variable holds, renamed names, a module's names (the receiver members retrieval lists) ----------

VARIABLES = {
    "cache/__init__.py": "from cache.handler import *\nfrom cache.backends import Backend as DefaultBackend\n",
    "cache/handler.py": (
        "from cache import backends\n\n\n"
        "class CacheHandler:\n    def close_all(self):\n        pass\n\n\n"
        "caches = CacheHandler()\nmake_backend = backends.Backend\n"
    ),
    "cache/backends.py": (
        "class Base:\n    def get(self, key):\n        pass\n\n\n"
        "class Backend(object,\n              Base):\n    def __init__(self):\n        self.handler = make()\n\n\n"
        "def make() -> 'CacheHandler':\n    pass\n\n\nfrom cache.handler import CacheHandler\n"
    ),
    "app.py": "from cache import caches\n\ncaches.close_all()\nb = Backend()\nb.get(1)\nfrom cache.backends import Backend\n",
}


@pytest.mark.parametrize("project", [VARIABLES], indirect=True)
def test_variables_aliases_and_module_names_through_both_resolvers(project) -> None:
    index, definitions, root = project
    # Go-to-definition follows ``caches = CacheHandler()`` and a bases list written over two lines.
    assert definitions("app.py", "close_all()") == {("cache/handler.py", "CacheHandler.close_all")}
    assert definitions("app.py", "get(1)") == {("cache/backends.py", "Base.get")}
    for resolver in _resolvers(index, root):
        [caches] = resolver.in_module("app.py", "caches")
        assert resolver.variable_type(caches) == "CacheHandler()"
        [renamed] = resolver.exported("cache/handler.py", "make_backend")
        assert _located(resolver.alias_target(renamed)) == {("cache/backends.py", "Backend")}
        assert resolver.alias_target(caches) == []
        [backend] = resolver.exported("cache/backends.py", "Backend")
        assert _located(resolver.bases(backend)) == {("cache/backends.py", "Base")}
        [handler_field] = [
            m for m in resolver.own_members(backend) if m.definition and m.definition.name == "handler"
        ]
        assert resolver.variable_type(handler_field) == "make()"
        names = resolver.module_names("cache/__init__.py")
        # Its own imports (re-exports, renamed) and what it star-imports, the star's own imports included.
        assert {"DefaultBackend", "CacheHandler", "caches", "make_backend", "backends"} <= set(names)
