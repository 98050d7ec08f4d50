"""Rust extraction and resolution against ``tests/context/fixtures/rust`` (a Cargo package with a library,
a ``mod.rs`` module directory, a nested module file, and a binary using the library by crate name)."""

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

ROOT = FIXTURES / "rust"


@pytest.fixture(scope="module")
def lib():
    return extract_file(ROOT, "src/lib.rs")


@pytest.fixture(scope="module")
def shapes():
    return extract_file(ROOT, "src/shapes/mod.rs")


def test_items_traits_and_impl_methods(shapes) -> None:
    defs = definitions_by_qualified_name(shapes)
    assert {name: d.kind for name, d in defs.items()} == {
        "square": SymbolKind.MODULE,
        "Area": SymbolKind.TRAIT,
        "Area.area": SymbolKind.METHOD,
        "Circle": SymbolKind.STRUCT,
        "Circle.radius": SymbolKind.FIELD,
        "Circle.new": SymbolKind.METHOD,  # inherent impl
        "Circle.area": SymbolKind.METHOD,  # trait impl, qualified by the implementing type
    }
    assert defs["Circle"].doc == "A circle."  # the #[derive] between doc and item is skipped
    assert defs["Circle"].signature == "pub struct Circle"
    assert defs["Circle.new"].signature == "pub fn new(radius: f64) -> Self"
    assert defs["Circle.new"].doc == "Makes a circle with a non-negative radius."
    assert defs["Circle.new"].parent == "Circle"
    assert defs["Area.area"].signature == "fn area(&self) -> f64;"
    assert defs["Area.area"].doc == "The area."


def test_consts_statics_macros_enums() -> None:
    defs = definitions_by_qualified_name(extract_file(ROOT, "src/util.rs"))
    assert defs["PI"].kind is SymbolKind.CONSTANT and defs["PI"].doc == "Pi, rounded."
    assert defs["PI"].signature == "pub const PI: f64 = 3.14159;"
    assert defs["NAME"].kind is SymbolKind.VARIABLE
    assert defs["square_of"].kind is SymbolKind.MACRO
    assert defs["square_of"].signature == "macro_rules! square_of"
    assert defs["square_of"].doc == "Squares an expression."
    assert defs["clamp"].kind is SymbolKind.FUNCTION
    assert defs["Unit"].kind is SymbolKind.ENUM
    assert defs["Unit.Imperial"].parent == "Unit"
    assert defs["Unit.Imperial.inches"].kind is SymbolKind.FIELD


def test_inner_doc_comment_is_not_an_item_doc(lib) -> None:
    defs = definitions_by_qualified_name(lib)
    assert defs["shapes"].doc is None  # ``//! Geometry kit.`` documents the crate
    assert defs["describe"].doc == "Describes any shape."


def test_use_trees_are_flattened(lib, shapes) -> None:
    assert [(imp.module, imp.names, imp.alias, imp.is_star) for imp in lib.imports] == [
        ("self::shapes", (), None, False),  # ``pub mod shapes;``
        ("self::util", (), None, False),
        ("crate::shapes::square", (ImportedName("Square", "Sq"),), None, False),
        ("crate::shapes", (ImportedName("Area"), ImportedName("Circle")), None, False),
        ("std", (ImportedName("fmt"),), None, False),
    ]
    # ``use crate::util::{self, clamp}``: ``self`` imports the module itself.
    assert [(imp.module, imp.names) for imp in shapes.imports][1:] == [
        ("crate", (ImportedName("util"),)),
        ("crate::util", (ImportedName("clamp"),)),
    ]
    square = extract_file(ROOT, "src/shapes/square.rs")
    glob = import_for(square, "crate::util")
    assert glob.is_star


@pytest.mark.parametrize(
    ("importer", "module", "expected"),
    [
        ("src/lib.rs", "self::shapes", ("src/shapes/mod.rs",)),  # mod x; → x/mod.rs
        ("src/lib.rs", "self::util", ("src/util.rs",)),  # mod x; → x.rs
        ("src/shapes/mod.rs", "self::square", ("src/shapes/square.rs",)),  # nested
        ("src/lib.rs", "crate::shapes::square", ("src/shapes/square.rs",)),
        ("src/lib.rs", "crate::shapes", ("src/shapes/mod.rs",)),
        ("src/shapes/square.rs", "super", ("src/shapes/mod.rs",)),
        ("src/shapes/square.rs", "crate::util", ("src/util.rs",)),
        ("src/bin/cli.rs", "geo_kit::shapes", ("src/shapes/mod.rs",)),  # the package's own crate name
    ],
)
def test_module_resolution(importer: str, module: str, expected: tuple[str, ...]) -> None:
    facts = extract_file(ROOT, importer)
    result = resolve(ROOT, importer, import_for(facts, module))
    assert result.paths == expected and not result.external


def test_names_that_are_modules_resolve_to_their_files(shapes) -> None:
    result = resolve(ROOT, "src/shapes/mod.rs", import_for(shapes, "crate"))
    assert result.path_for_name("util") == "src/util.rs"
    assert "src/util.rs" in result.paths


def test_item_paths_stop_at_the_last_module_file() -> None:
    layout = DiskLayout(ROOT)
    language = language_for_path("src/lib.rs")
    result = language.resolve_import(Import("crate::util::clamp", Span(0, 0, 0, 0)), "src/bin/cli.rs", layout)
    # From a binary, ``crate`` is the binary itself.
    assert result.paths == ("src/bin/cli.rs",)
    inner = language.resolve_import(Import("crate::shapes::Circle", Span(0, 0, 0, 0)), "src/lib.rs", layout)
    assert inner.paths == ("src/shapes/mod.rs",)


@pytest.mark.parametrize("module", ["std", "serde"])
def test_other_crates_are_external(module: str) -> None:
    facts = extract_file(ROOT, "src/bin/cli.rs" if module == "serde" else "src/lib.rs")
    result = resolve(ROOT, "src/bin/cli.rs" if module == "serde" else "src/lib.rs", import_for(facts, module))
    assert result.external and result.paths == ()


def test_super_above_the_crate_root_is_unresolved() -> None:
    language = language_for_path("src/lib.rs")
    result = language.resolve_import(Import("super::x", Span(0, 0, 0, 0)), "src/lib.rs", DiskLayout(ROOT))
    assert result.paths == () and not result.external


def test_crate_without_cargo_toml(tmp_path) -> None:
    (tmp_path / "main.rs").write_text("mod net;\nuse net::client::Client;\n")
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "mod.rs").write_text("pub mod client;\n")
    (tmp_path / "net" / "client.rs").write_text("pub struct Client;\n")
    facts = extract_file(tmp_path, "main.rs")
    assert resolve(tmp_path, "main.rs", import_for(facts, "self::net")).paths == ("net/mod.rs",)
    # 2018-style path starting at a child module of the crate root.
    assert resolve(tmp_path, "main.rs", import_for(facts, "net::client")).paths == ("net/client.rs",)


def test_bound_names() -> None:
    language = language_for_path("a.rs")
    assert language.bound_name(Import("self::util", Span(0, 0, 0, 0))) == "util"
    assert language.bound_name(Import("serde", Span(0, 0, 0, 0), alias="sd")) == "sd"


def test_cargo_workspace_path_dependencies(tmp_path) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n\n[workspace.dependencies]\n'
        'geo-core = { path = "crates/core" }\n',
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\ngeo-core = { workspace = true }\n'
        '\n[dependencies.text-util]\nversion = "0.1"\npath = "../text"\n',
        "crates/app/src/main.rs": "use geo_core::shapes::Circle;\nuse text_util::upper;\n",
        "crates/core/Cargo.toml": '[package]\nname = "geo-core"\n',
        "crates/core/src/lib.rs": "pub mod shapes;\n",
        "crates/core/src/shapes.rs": "pub struct Circle;\n",
        "crates/text/Cargo.toml": '[package]\nname = "text-util"\n',
        "crates/text/src/lib.rs": "pub fn upper() {}\n",
    }
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    facts = extract_file(tmp_path, "crates/app/src/main.rs")
    importer = "crates/app/src/main.rs"
    assert resolve(tmp_path, importer, import_for(facts, "geo_core::shapes")).paths == (
        "crates/core/src/shapes.rs",
    )
    assert resolve(tmp_path, importer, import_for(facts, "text_util")).paths == ("crates/text/src/lib.rs",)


def test_pub_items_and_pub_use_reexports(lib) -> None:
    assert lib.exports == [
        Export("shapes"),
        Export("Sq", from_module="crate::shapes::square", original_name="Square"),
        Export("Area", from_module="crate::shapes", original_name="Area"),
        Export("Circle", from_module="crate::shapes", original_name="Circle"),
        Export("describe"),
        Export("write_area"),
    ]
    # ``mod util;`` is private; items inside ``impl`` blocks are not file-level exports.
    shapes = extract_file(ROOT, "src/shapes/mod.rs")
    assert [e.name for e in shapes.exports] == ["square", "Area", "Circle"]
