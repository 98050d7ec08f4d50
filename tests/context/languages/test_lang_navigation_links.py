"""Navigation links that do not go through an import statement: files of the same Go/Java package, Go
method receivers, JS/TS default imports, ``export { a as b }`` renames and ``export … from`` chains.
Real index (scan → parse → resolve → graph → navigation) over small projects written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

from index_support import write_files as _write

from roost.context.index import WorkspaceIndex

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _at(index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    seen = 0
    for number, line in enumerate(index.source(path).splitlines()):
        start = line.find(needle)
        while start >= 0:
            if seen == occurrence:
                return number, start
            seen += 1
            start = line.find(needle, start + 1)
    raise AssertionError(f"{needle!r} not found {occurrence + 1} times in {path}")


def _defs(index: WorkspaceIndex, path: str, needle: str, occurrence: int = 0) -> set[tuple[str, str | None]]:
    line, col = _at(index, path, needle, occurrence)
    return {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col)}


def _refs(index: WorkspaceIndex, path: str, qualified_name: str) -> set[tuple[str, int]]:
    return {(r.path, r.span.start_line) for r in index.references_to(path, qualified_name)}


# ---------------------------------------------------------------------------------------------- Go packages


def test_go_same_package_names_cross_files_in_examples(open_index) -> None:
    index = open_index(EXAMPLES)
    warehouse = "inventory/stock/warehouse.go"
    assert _defs(index, warehouse, "Item") == {("inventory/stock/item.go", "Item")}
    line, col = _at(index, warehouse, "&Item{")
    found = {(loc.path, loc.qualified_name) for loc in index.definitions_at(warehouse, line, col + 1)}
    assert found == {("inventory/stock/item.go", "Item")}
    refs = _refs(index, "inventory/stock/item.go", "Item")
    assert {path for path, _ in refs} >= {"inventory/stock/item.go", warehouse}
    assert (warehouse, _at(index, warehouse, "&Item{")[0]) in refs


GO_PACKAGE = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "shop/cart.go": (
        "package shop\n\n"
        "type Cart struct {\n\tlines []Line\n\ttotal int\n}\n\n"
        "func (c *Cart) Add(l Line) {\n\tc.lines = append(c.lines, l)\n\tc.total += l.Price\n\tc.recount()\n}\n"
    ),
    "shop/line.go": (
        "package shop\n\n"
        "type Line struct {\n\tPrice int\n}\n\n"
        "// recount is a Cart method declared away from the type.\n"
        "func (k *Cart) recount() {\n\tk.total = 0\n\tfor _, l := range k.lines {\n\t\tk.total += l.Price\n\t}\n}\n"
    ),
    "shop/cart_test.go": "package shop\n\nfunc helperForTests() Line { return Line{} }\n",
    "shop/other.go": "package other_not_shop\n\ntype Line struct{}\n",
    "main.go": 'package main\n\nimport "example.com/app/shop"\n\nfunc main() {\n\tc := shop.Cart{}\n\tc.Add(shop.Line{})\n}\n',
}


def test_go_package_peers_and_method_receivers(open_index, tmp_path) -> None:
    index = open_index(_write(tmp_path / "goproj", GO_PACKAGE))
    # ``Line`` used in cart.go is declared in line.go (same directory, same package, not the other package).
    assert _defs(index, "shop/cart.go", "[]Line") == set()  # col of '[': nothing
    line, col = _at(index, "shop/cart.go", "[]Line")
    assert {(x.path, x.qualified_name) for x in index.definitions_at("shop/cart.go", line, col + 2)} == {
        ("shop/line.go", "Line")
    }
    # The receiver variable is typed by the method's receiver type, whatever its name.
    assert _defs(index, "shop/cart.go", "lines", 1) == {("shop/cart.go", "Cart.lines")}
    assert _defs(index, "shop/line.go", "total") == {("shop/cart.go", "Cart.total")}
    # A method declared in another file of the package.
    assert _defs(index, "shop/cart.go", "recount") == {("shop/line.go", "Cart.recount")}
    # ``k.lines`` → the field through the receiver in the other file.
    assert _defs(index, "shop/line.go", "k.lines") == set()  # col of 'k' is the receiver variable
    line, col = _at(index, "shop/line.go", "k.lines")
    assert {(x.path, x.qualified_name) for x in index.definitions_at("shop/line.go", line, col + 2)} == {
        ("shop/cart.go", "Cart.lines")
    }
    # References follow the package and the receivers.
    total_refs = _refs(index, "shop/cart.go", "Cart.total")
    assert {path for path, _ in total_refs} == {"shop/cart.go", "shop/line.go"}
    assert ("shop/cart.go", "Cart.recount") not in total_refs
    line_refs = _refs(index, "shop/line.go", "Line")
    assert {"shop/cart.go", "main.go"} <= {path for path, _ in line_refs}
    # ``_test.go`` files see the package; ordinary files do not see test files.
    assert _defs(index, "shop/cart_test.go", "Line") == {("shop/line.go", "Line")}
    assert "shop/cart_test.go" not in index._navigator.package_peers("shop/cart.go")
    assert "shop/other.go" not in index._navigator.package_peers("shop/cart.go")


# ---------------------------------------------------------------------------------------------- Java packages

JAVA_PACKAGE = {
    "src/main/java/com/acme/shop/Cart.java": (
        "package com.acme.shop;\n\n"
        "public class Cart extends Base {\n"
        "    private final Pricing pricing = new Pricing();\n"
        "    public int total() { return pricing.price(3) + this.base(); }\n"
        "}\n"
    ),
    "src/main/java/com/acme/shop/Pricing.java": (
        "package com.acme.shop;\n\npublic class Pricing {\n    public int price(int n) { return n * 2; }\n}\n"
    ),
    "src/main/java/com/acme/shop/Base.java": (
        "package com.acme.shop;\n\nclass Base {\n    int base() { return 1; }\n}\n"
    ),
    "src/test/java/com/acme/shop/CartTest.java": (
        "package com.acme.shop;\n\nclass CartTest {\n    Cart cart = new Cart();\n}\n"
    ),
    "src/main/java/com/acme/other/Pricing.java": "package com.acme.other;\n\npublic class Pricing {}\n",
}


def test_java_same_package_across_files_and_source_roots(open_index, tmp_path) -> None:
    index = open_index(_write(tmp_path / "javaproj", JAVA_PACKAGE))
    cart = "src/main/java/com/acme/shop/Cart.java"
    assert _defs(index, cart, "Pricing pricing") == {("src/main/java/com/acme/shop/Pricing.java", "Pricing")}
    assert _defs(index, cart, "Base") == {("src/main/java/com/acme/shop/Base.java", "Base")}
    # Inherited through a base class found in the package.
    assert _defs(index, cart, "base()") == {("src/main/java/com/acme/shop/Base.java", "Base.base")}
    # The test source root holds the same package.
    test = "src/test/java/com/acme/shop/CartTest.java"
    assert _defs(index, test, "Cart cart") == {(cart, "Cart")}
    refs = _refs(index, cart, "Cart")
    assert test in {path for path, _ in refs}
    pricing_refs = _refs(index, "src/main/java/com/acme/shop/Pricing.java", "Pricing")
    assert cart in {path for path, _ in pricing_refs}


# ---------------------------------------------------------------------------------------------- JS / TS exports

JS_PROJECT = {
    "src/cart.js": "class Cart {\n  add(item) { return item; }\n}\n\nexport default Cart;\n",
    "src/shapes.js": (
        "export default function area(r) { return r * r; }\n"
        "function perimeter(r) { return 2 * r; }\n"
        "export { perimeter as edge };\n"
    ),
    "src/barrel.js": "export { default as Cart } from './cart';\nexport { edge as rim } from './shapes';\n",
    "src/anon.js": "export default function () { return 1; }\n",
    "src/legacy.js": "class Legacy {}\nmodule.exports = Legacy;\n",
    "src/main.js": (
        "import Cart from './cart';\n"
        "import area, { edge } from './shapes';\n"
        "import * as shapes from './shapes';\n"
        "import { Cart as BarrelCart, rim } from './barrel';\n"
        "import anon from './anon';\n"
        "const Legacy = require('./legacy');\n\n"
        "const cart = new Cart();\n"
        "cart.add(area(2) + edge(1) + rim(3));\n"
        "shapes.area(1);\n"
        "new BarrelCart();\n"
        "anon();\n"
        "new Legacy();\n"
    ),
}


def test_js_default_imports_renames_and_reexport_chains(open_index, tmp_path) -> None:
    index = open_index(_write(tmp_path / "jsproj", JS_PROJECT))
    main = "src/main.js"
    assert _defs(index, main, "Cart()") == {("src/cart.js", "Cart")}
    assert _defs(index, main, "area(2)") == {("src/shapes.js", "area")}
    assert _defs(index, main, "edge(1)") == {("src/shapes.js", "perimeter")}
    assert _defs(index, main, "rim(3)") == {("src/shapes.js", "perimeter")}
    assert _defs(index, main, "BarrelCart()") == {("src/cart.js", "Cart")}
    assert _defs(index, main, "Legacy()") == {("src/legacy.js", "Legacy")}
    # A namespace import binds the module; a member of it is a named export.
    assert _defs(index, main, "shapes.area") == {("src/shapes.js", None)}
    line, col = _at(index, main, "shapes.area")
    found = {(x.path, x.qualified_name) for x in index.definitions_at(main, line, col + len("shapes."))}
    assert found == {("src/shapes.js", "area")}
    # An anonymous default export has no definition to land on: the module.
    assert _defs(index, main, "anon()") == {("src/anon.js", None)}
    # Members through the default-imported class.
    assert _defs(index, main, "add(") == {("src/cart.js", "Cart.add")}
    # References find the default import under its local name and through the barrel.
    refs = _refs(index, "src/cart.js", "Cart")
    assert {line for path, line in refs if path == main} >= {7, 10}
    edge_refs = _refs(index, "src/shapes.js", "perimeter")
    assert {line for path, line in edge_refs if path == main} >= {8}


TS_PROJECT = {
    "tsconfig.json": '{"compilerOptions": {"baseUrl": "."}}\n',
    "src/user.ts": "export default class User {\n  name = '';\n}\nexport interface Role { id: number }\n",
    "src/index.ts": "export { default as User } from './user';\nexport * from './user';\n",
    "src/app.ts": "import User from './user';\nimport { User as U2 } from './index';\n\nconst u: User = new U2();\n",
}


def test_ts_default_class_export_and_reexport(open_index, tmp_path) -> None:
    index = open_index(_write(tmp_path / "tsproj", TS_PROJECT))
    app = "src/app.ts"
    assert _defs(index, app, "User =") == {("src/user.ts", "User")}
    assert _defs(index, app, "U2()") == {("src/user.ts", "User")}
