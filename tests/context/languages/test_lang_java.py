"""Java extraction and resolution against ``tests/context/fixtures/java`` (Maven layout, a second module
``inventory/``, nested types, static and on-demand imports)."""

from __future__ import annotations

import pytest
from index_support import index_with_definitions
from langtest_support import FIXTURES, DiskLayout, extract_file, import_for, resolve

from roost.context.facts import Import, ImportedName, Span, SymbolKind
from roost.context.languages import language_for_path

ROOT = FIXTURES / "java"
SHOP = "src/main/java/com/acme/shop"


@pytest.fixture(scope="module")
def product():
    return extract_file(ROOT, f"{SHOP}/model/Product.java")


@pytest.fixture(scope="module")
def app():
    return extract_file(ROOT, f"{SHOP}/App.java")


def test_package(product, app) -> None:
    assert product.package == "com.acme.shop.model"
    assert app.package == "com.acme.shop"


def test_members_nested_types_and_javadoc(product) -> None:
    # A field and a method may share a name in Java: both are kept.
    kinds = [(d.qualified_name, d.kind) for d in product.definitions]
    assert kinds == [
        ("Product", SymbolKind.CLASS),
        ("Product.Category", SymbolKind.ENUM),
        ("Product.Category.FOOD", SymbolKind.CONSTANT),
        ("Product.Category.TOOLS", SymbolKind.CONSTANT),
        ("Product.MAX_NAME", SymbolKind.CONSTANT),  # static final
        ("Product.name", SymbolKind.FIELD),
        ("Product.price", SymbolKind.FIELD),
        ("Product.weight", SymbolKind.FIELD),  # second declarator of one field declaration
        ("Product.Product", SymbolKind.CONSTRUCTOR),
        ("Product.price", SymbolKind.METHOD),
    ]
    by_kind = {(d.qualified_name, d.kind): d for d in product.definitions}
    cls = by_kind["Product", SymbolKind.CLASS]
    assert cls.signature == "public class Product" and cls.doc == "A product for sale."
    ctor = by_kind["Product.Product", SymbolKind.CONSTRUCTOR]
    assert ctor.signature == "public Product(String name, double price, Category category)"
    assert ctor.doc == "Creates a product." and ctor.parent == "Product"
    method = by_kind["Product.price", SymbolKind.METHOD]
    assert method.signature == "public double price()"
    assert method.doc == "The price in the shop's currency."
    assert by_kind["Product.Category", SymbolKind.ENUM].doc == "Kinds of product."
    assert by_kind["Product.Category.FOOD", SymbolKind.CONSTANT].parent == "Product.Category"


def test_records_and_interfaces() -> None:
    order = extract_file(ROOT, f"{SHOP}/model/Order.java")
    record = order.definitions[0]
    assert (record.name, record.kind) == ("Order", SymbolKind.CLASS)
    assert record.signature == "public record Order(List<Product> products)"
    assert order.definitions[1].qualified_name == "Order.total"
    stock = extract_file(ROOT, "inventory/src/main/java/com/acme/inventory/Stock.java")
    assert [(d.qualified_name, d.kind) for d in stock.definitions] == [
        ("Stock", SymbolKind.INTERFACE),
        ("Stock.count", SymbolKind.METHOD),
    ]


def test_imports(app) -> None:
    assert [(imp.module, imp.names, imp.is_star) for imp in app.imports] == [
        ("java.util", (ImportedName("List"),), False),
        ("com.acme.shop.model", (ImportedName("Product"),), False),
        ("com.acme.shop.model", (), True),
        ("com.acme.shop.model.Product", (ImportedName("Category"),), False),  # nested type
        ("com.acme.shop.util.Prices", (ImportedName("format"),), False),  # static member
        ("com.acme.inventory", (ImportedName("Stock"),), False),
    ]


def test_references_with_receivers(app) -> None:
    uses = {(ref.name, ref.receiver) for ref in app.references}
    assert ("FOOD", "Category") in uses
    assert ("total", "order") in uses
    assert ("count", "Stock") in uses
    assert ("Product", None) in uses


def test_single_type_import_resolves_to_the_class_file(app) -> None:
    result = resolve(ROOT, f"{SHOP}/App.java", import_for(app, "com.acme.shop.model"))
    assert result.paths == (f"{SHOP}/model/Product.java",)


def test_on_demand_import_resolves_to_the_package(app) -> None:
    result = resolve(ROOT, f"{SHOP}/App.java", import_for(app, "com.acme.shop.model", 1))
    assert result.paths == (f"{SHOP}/model/Order.java", f"{SHOP}/model/Product.java")


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("com.acme.shop.model.Product", f"{SHOP}/model/Product.java"),  # nested type → outer class file
        ("com.acme.shop.util.Prices", f"{SHOP}/util/Prices.java"),  # static import → class file
        ("com.acme.inventory", "inventory/src/main/java/com/acme/inventory/Stock.java"),  # sibling module
    ],
)
def test_member_nested_and_module_imports(app, module: str, expected: str) -> None:
    result = resolve(ROOT, f"{SHOP}/App.java", import_for(app, module))
    assert result.paths == (expected,) and not result.external


def test_jdk_and_unknown_packages_are_external(app) -> None:
    assert resolve(ROOT, f"{SHOP}/App.java", import_for(app, "java.util")).external
    language = language_for_path("A.java")
    unknown = language.resolve_import(
        Import("org.example", Span(0, 0, 0, 0), names=(ImportedName("Thing"),)),
        f"{SHOP}/App.java",
        DiskLayout(ROOT),
    )
    assert unknown.external and unknown.paths == ()


def test_flat_layout_without_maven(tmp_path) -> None:
    (tmp_path / "app" / "util").mkdir(parents=True)
    (tmp_path / "app" / "Main.java").write_text("package app;\nimport app.util.Strings;\nclass Main {}\n")
    (tmp_path / "app" / "util" / "Strings.java").write_text("package app.util;\npublic class Strings {}\n")
    facts = extract_file(tmp_path, "app/Main.java")
    assert resolve(tmp_path, "app/Main.java", facts.imports[0]).paths == ("app/util/Strings.java",)


def test_configured_extra_root(tmp_path) -> None:
    (tmp_path / "gen" / "x").mkdir(parents=True)
    (tmp_path / "gen" / "x" / "Gen.java").write_text("package x;\npublic class Gen {}\n")
    (tmp_path / "Main.java").write_text("import x.Gen;\nclass Main {}\n")
    language = language_for_path("Main.java")
    imp = extract_file(tmp_path, "Main.java").imports[0]
    assert language.resolve_import(imp, "Main.java", DiskLayout(tmp_path)).external
    layout = DiskLayout(tmp_path, extra_roots={"java": ["gen"]})
    assert language.resolve_import(imp, "Main.java", layout).paths == ("gen/x/Gen.java",)


def test_public_top_level_types_are_exports(product, app) -> None:
    assert [e.name for e in product.exports] == ["Product"]  # not the nested enum
    assert [e.name for e in app.exports] == ["App"]
    prices = extract_file(ROOT, f"{SHOP}/util/Prices.java")
    assert [e.name for e in prices.exports] == ["Prices"]


# ------------------------------------------------------------------- inherited members (implicit ``this``)

INHERITANCE = {
    "src/com/a/Base.java": (
        "package com.a;\n\n"
        "public class Base implements Named {\n"
        "    protected int count;\n"
        "    public void foo() {}\n"
        "}\n"
    ),
    "src/com/a/Named.java": (
        'package com.a;\n\npublic interface Named {\n    default String label() { return "x"; }\n}\n'
    ),
    "src/com/a/Mid.java": "package com.a;\n\npublic class Mid<T> extends Base {\n    void own() {}\n}\n",
    "src/com/b/Leaf.java": (
        "package com.b;\n\n"
        "import com.a.Mid;\n\n"
        "public class Leaf extends Mid<String> implements java.io.Serializable {\n"
        "    void foo() {}\n"
        "    void run() {\n"
        "        count = 2;\n"
        "        own();\n"
        "        label();\n"
        "        helper();\n"
        "        this.own();\n"
        "        super.foo();\n"
        "        unknown();\n"
        "    }\n"
        "    void helper() {}\n"
        "    class Inner {\n"
        "        void go() { own(); foo(); }\n"
        "    }\n"
        "    void set(int count) { this.count = count; }\n"
        "}\n"
    ),
}


def test_inherited_members_resolve_without_this(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, INHERITANCE)
    leaf = "src/com/b/Leaf.java"
    try:
        # A field and a method two classes up (Base, same package as Mid, imported from another package).
        assert definitions(leaf, "count = 2") == {("src/com/a/Base.java", "Base.count")}
        assert definitions(leaf, "own();") == {("src/com/a/Mid.java", "Mid.own")}
        # A default method of an interface the grandparent implements.
        assert definitions(leaf, "label()") == {("src/com/a/Named.java", "Named.label")}
        # The class's own member is a bare name inside its methods.
        assert definitions(leaf, "helper();") == {(leaf, "Leaf.helper")}
        assert definitions(leaf, "this.own", len("this.")) == {("src/com/a/Mid.java", "Mid.own")}
        # ``super.foo`` skips the class's own override.
        assert definitions(leaf, "super.foo", len("super.")) == {("src/com/a/Base.java", "Base.foo")}
        assert definitions(leaf, "unknown()") == set()
        # An inner class sees the outer class's own and inherited members.
        assert definitions(leaf, "own(); foo()") == {("src/com/a/Mid.java", "Mid.own")}
        assert definitions(leaf, "foo(); }") == {(leaf, "Leaf.foo")}
        # A parameter shadows the inherited field: ``this.count`` is the field, ``count`` the parameter.
        assert definitions(leaf, "this.count", len("this.")) == {("src/com/a/Base.java", "Base.count")}
        assert definitions(leaf, "= count;", len("= ")) == set()
        count_uses = {
            (r.path, r.span.start_line) for r in index.references_to("src/com/a/Base.java", "Base.count")
        }
        assert count_uses == {(leaf, 7), (leaf, 19)}
        # References to an inherited member include the bare uses in the subclass.
        uses = {(r.path, r.span.start_line) for r in index.references_to("src/com/a/Mid.java", "Mid.own")}
        assert uses == {(leaf, 8), (leaf, 11), (leaf, 17)}
    finally:
        index.close()


def test_declared_bases_skip_type_arguments_and_permits() -> None:
    from roost.context.languages.java import _declared_bases

    assert _declared_bases(
        "public class A<T extends Comparable<T>> extends B<Map<K, V>> implements C, d.E"
    ) == [
        "B",
        "C",
        "d.E",
    ]
    assert _declared_bases("sealed interface S extends T permits X, Y") == ["T"]
    assert _declared_bases('@Deprecated(since = "1") record R(int a) implements I') == ["I"]


def test_uses_of_locals_and_parameters_are_not_references() -> None:
    from roost.context.parsing import parse_facts

    facts = parse_facts(
        "A.java",
        "class A {\n"
        "    int name; int other;\n"
        "    A(int name) { this.name = name; other = name; }\n"
        "    void f(java.util.List<String> items) {\n"
        "        int x = name;\n"
        "        for (String s : items) { use(s, x); }\n"
        "        Runnable r = () -> { int y = 1; y++; };\n"
        "        try (var res = open()) { res.go(); } catch (Exception e) { e.printStackTrace(); }\n"
        "        { int inner = 1; }\n"
        "        other = inner;\n"
        "    }\n"
        "}\n",
    )
    assert facts is not None
    assert [(r.name, r.receiver, r.span.start_line) for r in facts.references] == [
        ("name", "this", 2),  # the field, through ``this``
        ("other", None, 2),  # a field: no local of that name
        ("java", None, 3),
        ("util", "java", 3),
        ("List", "java.util", 3),
        ("String", None, 3),
        ("name", None, 4),  # f declares no ``name``: the field
        ("String", None, 5),
        ("use", None, 5),
        ("Runnable", None, 6),
        ("var", None, 7),
        ("open", None, 7),
        ("go", "res", 7),
        ("Exception", None, 7),
        ("printStackTrace", "e", 7),
        ("other", None, 9),
        ("inner", None, 9),  # declared in a block that ended
    ]


# ----------------------------------------------------------------- declared types of parameters and locals

DECLARED = {
    "src/com/a/Store.java": "package com.a;\n\npublic class Store {\n    public void save(Object x) {}\n}\n",
    # Same method name: a guess by name finds it too.
    "src/com/a/Cache.java": "package com.a;\n\npublic class Cache {\n    public void save(Object x) {}\n}\n",
    "src/com/a/Item.java": "package com.a;\n\npublic class Item {\n    public int price() { return 1; }\n}\n",
    "src/com/b/App.java": (
        "package com.b;\n\n"
        "import com.a.Cache;\n"
        "import com.a.Item;\n"
        "import com.a.Store;\n"
        "import java.util.List;\n\n"
        "public class App {\n"
        "    private Cache held;\n"
        "    void run(Store store) { store.save(1); }\n"
        "    void make() { Store s = factory(); s.save(2); }\n"
        "    void loop(List<Item> items) { for (Item item : items) item.price(); }\n"
        "    void shadow(Store store) {\n"
        "        Runnable r = new Runnable() {\n"
        "            public void run() { Cache store = cache(); store.save(3); }\n"
        "        };\n"
        "        store.save(4);\n"
        "    }\n"
        "    void field() { held.save(5); }\n"
        "    Store factory() { return new Store(); }\n"
        "    Cache cache() { return new Cache(); }\n"
        "}\n"
    ),
}


def test_declared_types_of_parameters_and_locals(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, DECLARED)
    app, store, cache = "src/com/b/App.java", "src/com/a/Store.java", "src/com/a/Cache.java"
    try:
        # A parameter; a local assigned from a call (no ``new`` to guess from); an enhanced-for variable.
        assert definitions(app, "store.save(1)", len("store.")) == {(store, "Store.save")}
        assert definitions(app, "s.save(2)", len("s.")) == {(store, "Store.save")}
        assert definitions(app, "item.price()", len("item.")) == {("src/com/a/Item.java", "Item.price")}
        # A local of an anonymous class's method shadows the enclosing method's parameter, only inside it.
        assert definitions(app, "store.save(3)", len("store.")) == {(cache, "Cache.save")}
        assert definitions(app, "store.save(4)", len("store.")) == {(store, "Store.save")}
        # A field is no parameter or local: ``declared_type`` says nothing, ``field_type`` reads its
        # ``private Cache held;``.
        language = language_for_path(app)
        lines = DECLARED[app].splitlines()
        row = next(i for i, line in enumerate(lines) if "held.save" in line)
        source = DECLARED[app].encode()
        assert language.declared_type(app, source, "held", (row, lines[row].index("held.save"))) is None
        assert definitions(app, "held.save(5)", len("held.")) == {(cache, "Cache.save")}
    finally:
        index.close()


# ------------------------------------------------------------------------------ declared types of fields

FIELDS = {
    "src/com/a/Store.java": DECLARED["src/com/a/Store.java"],
    "src/com/a/Cache.java": DECLARED["src/com/a/Cache.java"],
    "src/com/b/Service.java": (
        "package com.b;\n\n"
        "import com.a.Cache;\n"
        "import com.a.Store;\n\n"
        "public class Service {\n"
        "    private Store store;\n"
        "    private Cache many[], second;\n"
        "    Service(Cache second) { this.second = second; }\n"
        "    void run() {\n"
        "        this.store.save(1);\n"
        "        store.save(2);\n"
        "        this.second.save(3);\n"
        "        many[0].save(4);\n"
        "    }\n"
        "}\n"
    ),
}


def test_declared_types_of_fields(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, FIELDS)
    service = "src/com/b/Service.java"
    store, cache = ("src/com/a/Store.java", "Store.save"), ("src/com/a/Cache.java", "Cache.save")
    try:
        # Through ``this`` and through the implicit ``this``; the declarator after an array one.
        assert definitions(service, "this.store.save(1)", len("this.store.")) == {store}
        assert definitions(service, "store.save(2)", len("store.")) == {store}
        assert definitions(service, "this.second.save(3)", len("this.second.")) == {cache}
        # An array (``Cache many[]``) names no class to look in: the guess by name, as before.
        assert definitions(service, "many[0].save(4)", len("many[0].")) == {store, cache}
    finally:
        index.close()
