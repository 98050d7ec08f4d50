"""The Python fixture project through the whole index, against its expected graph written out in
``fixtures/pyproj.expected.json`` (files, edges, external/unresolved imports, symbols, exports,
definitions at positions, references)."""

from __future__ import annotations

import json

import pytest
from index_support import FIXTURES, PYPROJ, copy_fixture, definitions, make_index

EXPECTED = json.loads((FIXTURES / "pyproj.expected.json").read_text())


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = copy_fixture("pyproj", tmp_path_factory.mktemp("ws"))
    # Ignored by the fixture's .gitignore: must not be indexed (created here because git skips it too).
    (root / "src/shapes/skip.generated.py").write_text("GENERATED = 1\n")
    built = make_index(root, tmp_path_factory.mktemp("cache"))
    built.index()
    yield built
    built.close()


def test_files_respect_gitignore_and_secrets(index):
    assert index.files() == EXPECTED["files"]
    assert (PYPROJ / ".env").exists()  # present on disk, never indexed nor readable through the index
    assert index.source(".env") is None
    assert index.is_secret(".env") and index.is_secret(index.root / "deploy" / "server.pem")
    assert not index.is_secret("src/shapes/base.py")


def test_edges(index):
    edges = [[a, b] for a, b in index.graph.edges()]
    assert edges == EXPECTED["edges"]


def test_external_and_unresolved_imports(index):
    external, unresolved = [], []
    for path in index.files():
        for edge in index.imports(path):
            if edge.resolved.external:
                external.append([path, edge.imp.module])
            elif not edge.resolved.paths:
                unresolved.append([path, edge.imp.module])
    assert external == EXPECTED["external"]
    assert unresolved == EXPECTED["unresolved"]


def test_symbols(index):
    assert {path: [d.qualified_name for d in index.symbols(path)] for path in index.files()} == EXPECTED[
        "symbols"
    ]


def test_exports(index):
    for path, exports in EXPECTED["exports"].items():
        got = [[e.name, e.from_module, e.original_name] for e in index.facts(path).exports]
        assert got == exports, path


@pytest.mark.parametrize(("path", "needle", "occurrence", "expected"), EXPECTED["definitions"])
def test_definitions_at(index, path, needle, occurrence, expected):
    assert definitions(index, path, needle, occurrence) == {tuple(item) for item in expected}


@pytest.mark.parametrize(("path", "qualified_name", "expected"), EXPECTED["references"])
def test_references_to(index, path, qualified_name, expected):
    got = sorted([ref.path, ref.span.start_line] for ref in index.references_to(path, qualified_name))
    assert got == sorted(expected)


def test_dependents_and_neighbourhood(index):
    assert index.dependents("src/shapes/circle.py") == ["src/shapes/__init__.py", "tests/test_circle.py"]
    assert index.dependencies("tests/test_circle.py") == ["src/shapes/circle.py", "tests/helpers.py"]
    assert index.neighbourhood("src/shapes/base.py", depth=1) == {
        "src/shapes/base.py": 0,
        "src/shapes/__init__.py": 1,
        "src/shapes/circle.py": 1,
    }
    two = index.neighbourhood("src/shapes/base.py", depth=2, direction="dependents")
    assert two == {
        "src/shapes/base.py": 0,
        "src/shapes/__init__.py": 1,
        "src/shapes/circle.py": 1,
        "scripts/report.py": 2,
        "tests/helpers.py": 2,
        "tests/test_circle.py": 2,
    }
    assert index.neighbourhood("no/such.py") == {}


def test_stats(index):
    stats = index.stats()
    assert (stats.files, stats.symbols, stats.edges) == (8, 21, 12)
    assert (stats.resolved_imports, stats.external_imports, stats.unresolved_imports) == (13, 2, 1)


def test_find_symbols_and_absolute_paths(index):
    assert [(loc.path, loc.qualified_name) for loc in index.find_symbols("area")] == [
        ("src/shapes/base.py", "Shape.area"),
        ("src/shapes/circle.py", "Circle.area"),
    ]
    absolute = index.root / "src/shapes/base.py"
    assert [d.name for d in index.symbols(absolute)][:1] == ["Shape"]


def test_retrieval_workspace_protocol(index):
    facts = index.file_facts("src/shapes/circle.py")
    assert facts is not None and facts.imports
    assert index.resolve_import("src/shapes/circle.py", facts.imports[-1]).paths == (
        "src/shapes/geometry/vectors.py",
    )
    assert "class Circle" in index.file_text("src/shapes/circle.py")
    assert index.file_text(".env") is None
    assert sorted(index.paths()) == EXPECTED["files"]
