"""JavaScript extraction and resolution against ``tests/context/fixtures/javascript``."""

from __future__ import annotations

import pytest
from langtest_support import (
    FIXTURES,
    DiskLayout,
    definitions_by_qualified_name,
    extract_file,
    import_for,
    resolve,
)

from roost.context.facts import Export, Import, ImportedName, Span, SymbolKind
from roost.context.languages import language_for_path

ROOT = FIXTURES / "javascript"


@pytest.fixture(scope="module")
def cart():
    return extract_file(ROOT, "src/cart.js")


@pytest.fixture(scope="module")
def index():
    return extract_file(ROOT, "src/index.js")


@pytest.mark.parametrize("path", ["a.js", "a.jsx", "a.mjs", "a.cjs"])
def test_extensions_are_javascript(path: str) -> None:
    language = language_for_path(path)
    assert language is not None and language.name == "javascript"


def test_class_members_and_const_function(cart) -> None:
    defs = definitions_by_qualified_name(cart)
    assert {name: d.kind for name, d in defs.items()} == {
        "Cart": SymbolKind.CLASS,
        "Cart.items": SymbolKind.FIELD,
        "Cart.constructor": SymbolKind.CONSTRUCTOR,
        "Cart.add": SymbolKind.METHOD,
        "Cart.total": SymbolKind.METHOD,
        "makeCart": SymbolKind.FUNCTION,
        "TAX_RATE": SymbolKind.CONSTANT,
    }
    assert defs["Cart"].signature == "export class Cart"
    assert defs["Cart"].doc == "A shopping cart.\nHolds line items."
    assert defs["Cart.add"].signature == "add(item)"
    assert defs["Cart.add"].doc == "Adds one item."
    assert defs["Cart.add"].parent == "Cart"
    assert defs["makeCart"].signature == "export const makeCart = (items) =>"
    assert defs["makeCart"].doc == "Creates a cart from items."
    assert defs["TAX_RATE"].signature == "export const TAX_RATE = 0.2"
    # Name span: ``Cart`` on line 4 (0-based), after ``export class ``.
    assert defs["Cart"].name_span == Span(4, 13, 4, 17)
    assert defs["Cart"].span.start_line == 4 and defs["Cart"].span.end_line == 19


def test_exports_named_and_default(cart) -> None:
    assert cart.exports == [
        Export("Cart"),
        Export("makeCart"),
        Export("TAX_RATE"),
        Export("default", original_name="Cart"),
    ]


def test_local_arrow_functions_are_not_module_symbols() -> None:
    facts = extract_file(ROOT, "src/cart.js")
    # ``(sum, item) => …`` inside ``total`` is an argument, not a definition.
    assert all(d.name != "sum" for d in facts.definitions)


def test_imports_of_every_form(index) -> None:
    modules = [(imp.module, imp.names, imp.alias, imp.is_star) for imp in index.imports]
    assert modules == [
        ("./cart", (), "Cart", False),  # default import
        ("./cart", (ImportedName("makeCart"),), None, False),
        ("./utils", (), "utils", False),  # namespace import
        ("./polyfill.js", (), None, False),  # side effect
        ("../lib/pkg", (), "pkg", False),
        ("lodash", (), "lodash", False),
        ("./legacy.cjs", (), "legacy", False),  # require
        ("fs", (ImportedName("readFile"),), None, False),  # destructured require
        ("./cart", (), None, True),  # export * from
        ("./utils", (ImportedName("format", "formatPrice"),), None, False),  # export { … } from
    ]


def test_reexports(index) -> None:
    assert index.exports == [
        Export("*", from_module="./cart"),
        Export("formatPrice", from_module="./utils", original_name="format"),
        Export("main"),
    ]


def test_references_carry_receivers(index) -> None:
    uses = {(ref.name, ref.receiver) for ref in index.references}
    assert ("makeCart", None) in uses
    assert ("add", "cart") in uses
    assert ("format", "utils") in uses
    assert ("VERSION", "lodash") in uses
    # Bindings are not uses: the import names and the function's own name.
    assert not any(ref.name == "main" for ref in index.references)
    assert not any(ref.name == "makeCart" and ref.span.start_line == 0 for ref in index.references)


def test_commonjs_exports() -> None:
    facts = extract_file(ROOT, "src/legacy.cjs")
    assert facts.exports == [Export("legacy"), Export("extra")]


@pytest.mark.parametrize(
    ("module", "alias", "expected"),
    [
        ("./cart", "Cart", ("src/cart.js",)),  # extension probing
        ("./utils", "utils", ("src/utils/index.js",)),  # directory index
        ("./polyfill.js", None, ("src/polyfill.js",)),  # exact file
        ("../lib/pkg", "pkg", ("lib/pkg/main.js",)),  # package.json main
        ("./legacy.cjs", "legacy", ("src/legacy.cjs",)),
    ],
)
def test_relative_resolution(index, module: str, alias: str | None, expected: tuple[str, ...]) -> None:
    imp = next(i for i in index.imports if i.module == module and (alias is None or i.alias == alias))
    result = resolve(ROOT, "src/index.js", imp)
    assert result.paths == expected and not result.external


@pytest.mark.parametrize("module", ["lodash", "fs"])
def test_bare_packages_are_external(index, module: str) -> None:
    result = resolve(ROOT, "src/index.js", import_for(index, module))
    assert result.external and result.paths == ()


def test_missing_relative_file_is_unresolved_not_external() -> None:
    imp = Import("./nope", Span(0, 0, 0, 0))
    result = resolve(ROOT, "src/index.js", imp)
    assert result.paths == () and not result.external


def test_specifier_escaping_the_workspace_is_external() -> None:
    language = language_for_path("src/index.js")
    result = language.resolve_import(Import("../../../x", Span(0, 0, 0, 0)), "src/index.js", DiskLayout(ROOT))
    assert result.external


def test_broken_source_does_not_raise() -> None:
    language = language_for_path("x.js")
    import tree_sitter

    source = b"export function (\nclass { constructor( } import from ;"
    tree = tree_sitter.Parser(language.ts_language("x.js")).parse(source)
    facts = language.extract("x.js", source, tree)
    assert facts.path == "x.js"


def test_jsx_components_are_references_and_html_tags_are_not(tmp_path) -> None:
    (tmp_path / "v.jsx").write_text("export const A = () => <main><Child prop={x} /></main>;\n")
    facts = extract_file(tmp_path, "v.jsx")
    assert [ref.name for ref in facts.references] == ["Child", "x"]
    assert [d.qualified_name for d in facts.definitions] == ["A"]


def test_private_static_and_accessor_members(tmp_path) -> None:
    (tmp_path / "c.js").write_text(
        "class Counter {\n  static zero = 0;\n  #count = 0;\n  get value() { return this.#count; }\n"
        "  #bump() { this.#count++; }\n}\nconst api = { list() {} };\n"
    )
    facts = extract_file(tmp_path, "c.js")
    assert [(d.qualified_name, d.kind) for d in facts.definitions] == [
        ("Counter", SymbolKind.CLASS),
        ("Counter.zero", SymbolKind.FIELD),
        ("Counter.#count", SymbolKind.FIELD),
        ("Counter.value", SymbolKind.METHOD),
        ("Counter.#bump", SymbolKind.METHOD),
        ("api", SymbolKind.CONSTANT),
        ("api.list", SymbolKind.METHOD),  # object-literal method, qualified by its binding
    ]


def test_commonjs_exported_functions_are_definitions(tmp_path) -> None:
    (tmp_path / "m.js").write_text(
        "// Adds two numbers.\nexports.add = function (a, b) {\n  return a + b;\n};\n"
        "module.exports.twice = (x) => x * 2;\nexports.VERSION = '1';\n"
    )
    facts = extract_file(tmp_path, "m.js")
    assert [(d.name, d.kind, d.signature, d.doc) for d in facts.definitions] == [
        ("add", SymbolKind.FUNCTION, "exports.add = function (a, b)", "Adds two numbers."),
        ("twice", SymbolKind.FUNCTION, "module.exports.twice = (x) =>", None),
    ]
    assert [e.name for e in facts.exports] == ["add", "twice", "VERSION"]


def test_computed_specifiers_are_not_imports(tmp_path) -> None:
    (tmp_path / "d.js").write_text(
        "const a = require(`./plugins/${name}`);\nconst b = require(`./fixed`);\nconst c = await import(`./lazy`);\n"
    )
    assert [imp.module for imp in extract_file(tmp_path, "d.js").imports] == ["./fixed", "./lazy"]
