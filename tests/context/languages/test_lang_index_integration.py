"""Each language module through the real workspace index (scan → parse → resolve → graph → navigation),
on the same fixture projects as the unit tests, plus the ``examples/`` workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from langtest_support import FIXTURES

from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _open(root: Path, cache: Path) -> WorkspaceIndex:
    index = WorkspaceIndex(root, IndexOptions(cache_dir=cache, workers=1))
    index.index()
    return index


def _position(index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """0-based line and UTF-8 byte column of the ``occurrence``-th ``needle`` in ``path`` (ASCII fixtures)."""
    lines = index.source(path).splitlines()
    seen = 0
    for number, line in enumerate(lines):
        start = line.find(needle)
        while start >= 0:
            if seen == occurrence:
                return number, start
            seen += 1
            start = line.find(needle, start + 1)
    raise AssertionError(f"{needle!r} not found {occurrence + 1} times in {path}")


def _definitions(
    index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0
) -> set[tuple[str, str | None]]:
    line, col = _position(index, path, needle, occurrence)
    return {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col)}


@pytest.fixture
def open_index(tmp_path):
    opened: list[WorkspaceIndex] = []

    def make(root: Path) -> WorkspaceIndex:
        index = _open(root, tmp_path / f"cache{len(opened)}")
        opened.append(index)
        return index

    yield make
    for index in opened:
        index.close()


def test_javascript_graph(open_index) -> None:
    index = open_index(FIXTURES / "javascript")
    assert index.dependencies("src/index.js") == [
        "lib/pkg/main.js",
        "src/cart.js",
        "src/legacy.cjs",
        "src/polyfill.js",
        "src/utils/index.js",
    ]
    assert "src/index.js" in index.dependents("src/cart.js")
    assert _definitions(index, "src/index.js", "makeCart(items)") == {("src/cart.js", "makeCart")}
    assert _definitions(index, "src/index.js", "format(cart") == {("src/utils/index.js", "format")}


def test_typescript_graph(open_index) -> None:
    index = open_index(FIXTURES / "typescript")
    assert index.dependencies("src/app.ts") == [
        "src/lib/extra.ts",
        "src/models/index.ts",
        "src/models/user.ts",
        "src/view.tsx",
    ]
    assert sorted(index.dependents("src/models/user.ts")) == [
        "src/app.ts",
        "src/models/index.ts",
        "src/view.tsx",
    ]
    assert _definitions(index, "src/app.ts", "defaultRole()") == {("src/models/user.ts", "defaultRole")}
    assert _definitions(index, "src/app.ts", "UserService)") == {("src/models/user.ts", "UserService")}


def test_go_graph(open_index) -> None:
    index = open_index(FIXTURES / "go")
    assert index.dependencies("main.go") == [
        "store/models/item.go",
        "store/store.go",
        "third/shared/util/util.go",
    ]
    assert index.facts("store/store.go").package == "store"
    assert _definitions(index, "main.go", "New()") == {("store/store.go", "New")}
    assert _definitions(index, "main.go", "Upper(") == {("third/shared/util/util.go", "Upper")}


def test_rust_graph(open_index) -> None:
    index = open_index(FIXTURES / "rust")
    assert index.dependencies("src/lib.rs") == ["src/shapes/mod.rs", "src/shapes/square.rs", "src/util.rs"]
    assert "src/shapes/mod.rs" in index.dependencies("src/bin/cli.rs")
    assert ("src/util.rs", "clamp") in _definitions(index, "src/shapes/mod.rs", "clamp(radius)")


def test_java_graph(open_index) -> None:
    index = open_index(FIXTURES / "java")
    app = "src/main/java/com/acme/shop/App.java"
    assert index.dependencies(app) == [
        "inventory/src/main/java/com/acme/inventory/Stock.java",
        "src/main/java/com/acme/shop/model/Order.java",
        "src/main/java/com/acme/shop/model/Product.java",
        "src/main/java/com/acme/shop/util/Prices.java",
    ]
    assert ("src/main/java/com/acme/shop/model/Product.java", "Product") in _definitions(
        index, app, "Product tea"
    )


def test_examples_workspace_resolves_all_its_own_imports(open_index) -> None:
    index = open_index(EXAMPLES)
    files = index.files()
    assert ".env" not in files  # secret file: never indexed
    languages = {index.facts(path).language for path in files}
    assert {"python", "typescript", "go"} <= languages
    assert 20 <= len(files) <= 60
    unresolved = [
        (edge.importer, edge.imp.module)
        for path in files
        for edge in index.imports(path)
        if not edge.resolved.paths and not edge.resolved.external
    ]
    assert unresolved == []
    # The chains the README promises.
    assert "webapp/src/api/client.ts" in index.dependencies("webapp/src/index.ts")
    assert "webapp/src/models/index.ts" in index.dependencies("webapp/src/api/client.ts")
    assert index.dependencies("inventory/report/report.go") == [
        "inventory/stock/item.go",
        "inventory/stock/warehouse.go",
    ]
    assert "shop/services/pricing.py" in index.dependencies("shop/services/checkout.py")
    # A class two imports away, through the ``models/__init__.py`` re-export.
    assert _definitions(index, "shop/services/promotions.py", "Cart, threshold") == {
        ("shop/models/cart.py", "Cart")
    }
    assert _definitions(index, "inventory/report/report.go", "Warehouse)") == {
        ("inventory/stock/warehouse.go", "Warehouse")
    }
