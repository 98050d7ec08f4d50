"""Rust refactors on real tree-sitter and a real index: add a missing ``use`` (``crate::`` paths, or
``super::`` where the file writes those, merged into a ``use m::{…}``), and move an item between sibling
modules of a crate (made ``pub``, with its doc comment, attributes and ``impl`` blocks; ``use`` paths and
``a::Name`` / ``crate::a::Name`` paths redirected; the moved code's ``use`` items follow; private fields and
methods the source still reaches become ``pub(crate)``). Results are asserted as exact texts, re-indexed,
and built and run with cargo when a Rust toolchain is installed."""

from __future__ import annotations

import pytest
from index_support import apply_replacements, write_files
from refactor_support import definition_files_at_first, move_between_modules, run_cargo

from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError, add_import, unimported_names, writes_imports
from roost.context.refactor.move import move_targets

RUST = language_for_path("x.rs")

CRATE = {
    "Cargo.toml": '[package]\nname = "stock"\nversion = "0.1.0"\nedition = "2021"\n',
    "src/lib.rs": "pub mod item;\npub mod store;\npub mod report;\n\npub use store::Store;\n",
    "src/item.rs": (
        "/// An item on a shelf.\n#[derive(Debug, Clone)]\npub struct Item {\n"
        "    pub name: String,\n    pub count: u32,\n}\n"
    ),
    "src/store.rs": (
        "use std::collections::HashMap;\n"
        "\n"
        "use crate::item::Item;\n"
        "\n"
        "const LIMIT: u32 = 100;\n"
        "\n"
        "/// A store of items.\n"
        "#[derive(Debug, Default)]\n"
        "pub struct Store {\n"
        "    items: HashMap<String, Item>,\n"
        "}\n"
        "\n"
        "impl Store {\n"
        "    pub fn add(&mut self, item: Item) {\n"
        "        let capped = cap(item.count);\n"
        "        self.items.insert(item.name.clone(), Item { count: capped, ..item });\n"
        "    }\n"
        "\n"
        "    fn len(&self) -> usize {\n"
        "        self.items.len()\n"
        "    }\n"
        "}\n"
        "\n"
        "fn cap(count: u32) -> u32 {\n"
        "    count.min(LIMIT)\n"
        "}\n"
        "\n"
        "pub fn describe(store: &Store) -> String {\n"
        '    format!("{} items", store.len())\n'
        "}\n"
    ),
    "src/report.rs": (
        "use crate::store::{describe, Store};\n"
        "\n"
        "pub fn report(store: &Store) -> String {\n"
        '    format!("report: {}", describe(store)) + &crate::store::describe(store)\n'
        "}\n"
    ),
    "src/main.rs": (
        "use stock::item::Item;\n"
        "use stock::store::{describe, Store};\n"
        "\n"
        "fn main() {\n"
        "    let mut store = Store::default();\n"
        '    store.add(Item { name: "a".into(), count: 3 });\n'
        '    println!("{}", describe(&store));\n'
        '    println!("{}", stock::report::report(&store));\n'
        "}\n"
    ),
}

SUPER = {
    "Cargo.toml": '[package]\nname = "sup"\nversion = "0.1.0"\nedition = "2021"\n',
    "src/lib.rs": "mod a;\nmod b;\npub mod c;\n",
    "src/a.rs": (
        "use super::b::Helper;\n\nfn double(x: u32) -> u32 {\n    x * 2\n}\n\n"
        "/// Runs.\npub fn run() -> u32 {\n    double(Helper::one())\n}\n"
    ),
    "src/b.rs": "pub struct Helper;\n\nimpl Helper {\n    pub fn one() -> u32 {\n        1\n    }\n}\n",
    "src/c.rs": "use crate::a;\n\npub fn go() -> u32 {\n    a::run() + crate::a::run()\n}\n",
}


# ----------------------------------------------------------------------------------------- add import


def test_use_paths_follow_the_file_style() -> None:
    assert RUST is not None and writes_imports("src/a.rs")
    exists = set(CRATE).__contains__
    report = CRATE["src/report.rs"]
    insertion = add_import("src/report.rs", report, "Item", "src/item.rs", exists)
    assert apply_replacements(report, [insertion]) == (
        "use crate::store::{describe, Store};\nuse crate::item::Item;\n" + report.split("\n", 1)[1]
    )
    merged = add_import("src/report.rs", report, "LIMIT", "src/store.rs", exists)
    assert apply_replacements(report, [merged]).startswith("use crate::store::{describe, Store, LIMIT};\n\n")
    single = "use crate::store::Store;\n\nfn f() -> Item {}\n"
    insertion = add_import("src/report.rs", single, "describe", "src/store.rs", exists)
    assert apply_replacements(single, [insertion]).startswith("use crate::store::{Store, describe};\n\n")
    relative = "//! Reports.\n\nuse super::store::Store;\n\nfn f() -> Item {}\n"
    insertion = add_import("src/report.rs", relative, "Item", "src/item.rs", exists)
    assert apply_replacements(relative, [insertion]) == (
        "//! Reports.\n\nuse super::store::Store;\nuse super::item::Item;\n\nfn f() -> Item {}\n"
    )
    bare = "//! Reports.\n\nfn f() -> Item {}\n"
    insertion = add_import("src/report.rs", bare, "Item", "src/item.rs", exists)
    assert apply_replacements(bare, [insertion]) == (
        "//! Reports.\n\nuse crate::item::Item;\n\nfn f() -> Item {}\n"
    )
    root = add_import("src/report.rs", bare, "Item", "src/lib.rs", exists)
    assert "use crate::Item;\n" in apply_replacements(bare, [root])
    # The binary reaches the library by its crate name, as its other use items do.
    main = CRATE["src/main.rs"]
    insertion = add_import("src/main.rs", main, "LIMIT", "src/store.rs", exists)
    assert apply_replacements(main, [insertion]).startswith(
        "use stock::item::Item;\nuse stock::store::{describe, Store, LIMIT};\n"
    )
    assert RUST.import_specifier("src/main.rs", "mod store;\n", "src/store.rs", exists) == "crate::store"
    assert RUST.import_specifier("src/main.rs", "fn main() {}\n", "src/store.rs", exists) is None


def test_missing_names_leave_out_bindings() -> None:
    text = (
        "fn f(x: u32, (a, b): (u8, u8)) -> Item {\n"
        "    let y = x;\n"
        "    if let Some(w) = Some(y) {}\n"
        "    match y { 0 => Kind::A, n => helper(n) };\n"
        "    for i in 0..2 {}\n"
        "    let c = |z| z;\n"
        "}\n"
    )
    facts = parse_facts("src/a.rs", text)
    assert facts is not None
    names = unimported_names("src/a.rs", facts, 0, 6, text)
    assert "Item" in names and "Kind" in names and "helper" in names
    assert not {"x", "a", "b", "y", "w", "n", "i", "c", "z"} & set(names)


# ----------------------------------------------------------------------------------------------- move


def test_move_struct_with_its_impl_to_a_sibling_module(tmp_path, open_index) -> None:
    before = run_cargo(write_files(tmp_path / "build-before", CRATE))
    moved, plan = move_between_modules(tmp_path, open_index, CRATE, "Store", "src/store.rs", "src/report.rs")
    assert moved["src/store.rs"] == (
        "use crate::report::Store;\n"
        "\n"
        "const LIMIT: u32 = 100;\n"
        "\n"
        "pub fn cap(count: u32) -> u32 {\n"
        "    count.min(LIMIT)\n"
        "}\n"
        "\n"
        "pub fn describe(store: &Store) -> String {\n"
        '    format!("{} items", store.len())\n'
        "}\n"
    )
    assert moved["src/report.rs"] == (
        "use crate::store::{describe, cap};\n"
        "use std::collections::HashMap;\n"
        "use crate::item::Item;\n"
        "\n"
        "pub fn report(store: &Store) -> String {\n"
        '    format!("report: {}", describe(store)) + &crate::store::describe(store)\n'
        "}\n"
        "\n"
        "/// A store of items.\n"
        "#[derive(Debug, Default)]\n"
        "pub struct Store {\n"
        "    items: HashMap<String, Item>,\n"
        "}\n"
        "\n"
        "impl Store {\n"
        "    pub fn add(&mut self, item: Item) {\n"
        "        let capped = cap(item.count);\n"
        "        self.items.insert(item.name.clone(), Item { count: capped, ..item });\n"
        "    }\n"
        "\n"
        "    pub(crate) fn len(&self) -> usize {\n"
        "        self.items.len()\n"
        "    }\n"
        "}\n"
    )
    assert moved["src/lib.rs"] == "pub mod item;\npub mod store;\npub mod report;\n\npub use report::Store;\n"
    assert moved["src/main.rs"].startswith(
        "use stock::item::Item;\nuse stock::store::describe;\nuse stock::report::Store;\n\n"
    )
    assert plan.notes == []
    root = write_files(tmp_path / "after", moved)
    index = open_index(root)
    assert definition_files_at_first(index, "src/main.rs", "Store::default") == {"src/report.rs"}
    assert definition_files_at_first(index, "src/store.rs", "&Store", 1) == {"src/report.rs"}
    assert definition_files_at_first(index, "src/report.rs", "cap(item") == {"src/store.rs"}
    after = run_cargo(root)
    assert after == before


def test_move_function_rewrites_module_paths_and_exports_siblings(tmp_path, open_index) -> None:
    moved, plan = move_between_modules(tmp_path, open_index, SUPER, "run", "src/a.rs", "src/b.rs")
    assert moved["src/a.rs"] == "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n"
    assert moved["src/b.rs"] == (
        "use crate::a::double;\n\n"
        "pub struct Helper;\n\nimpl Helper {\n    pub fn one() -> u32 {\n        1\n    }\n}\n\n"
        "/// Runs.\npub fn run() -> u32 {\n    double(Helper::one())\n}\n"
    )
    assert (
        moved["src/c.rs"]
        == "use crate::a;\n\npub fn go() -> u32 {\n    crate::b::run() + crate::b::run()\n}\n"
    )
    assert plan.notes == []
    # The private helper moves the other way: the source still calls it, through ``super::`` like its uses.
    back, _ = move_between_modules(tmp_path / "back", open_index, SUPER, "double", "src/a.rs", "src/b.rs")
    assert back["src/a.rs"] == (
        "use super::b::{Helper, double};\n\n/// Runs.\npub fn run() -> u32 {\n    double(Helper::one())\n}\n"
    )
    assert back["src/b.rs"].endswith("\n\npub fn double(x: u32) -> u32 {\n    x * 2\n}\n")
    run_cargo(write_files(tmp_path / "built", moved), "build")
    run_cargo(write_files(tmp_path / "built-back", back), "build")


def test_move_refuses_macros_and_module_files(tmp_path, open_index) -> None:
    files = {
        "src/lib.rs": "mod a;\nmod b;\n",
        "src/a.rs": "macro_rules! twice { ($e:expr) => { $e * 2 } }\nmod inner;\n",
        "src/a/inner.rs": "",
        "src/b.rs": "",
    }
    with pytest.raises(RefactorError, match="macro"):
        move_between_modules(tmp_path, open_index, files, "twice", "src/a.rs", "src/b.rs")
    with pytest.raises(RefactorError, match="module file"):
        move_between_modules(tmp_path / "m", open_index, files, "inner", "src/a.rs", "src/b.rs")
    assert move_targets("src/a.rs", list(files), 6) == ["src/b.rs"]
    assert move_targets("src/lib.rs", list(files), 6) == []


def test_move_rewrites_paths_in_files_that_do_not_import_the_module(tmp_path, open_index) -> None:
    files = {
        **SUPER,
        "src/lib.rs": "mod a;\nmod b;\npub mod c;\npub mod d;\n",
        "src/d.rs": "pub fn again() -> u32 {\n    crate::a::run()\n}\n",
    }
    root = write_files(tmp_path / "w", files)
    index = open_index(root)
    assert "src/d.rs" not in index.dependents("src/a.rs")  # no ``use``: the graph has no edge
    moved, _ = move_between_modules(tmp_path, open_index, files, "run", "src/a.rs", "src/b.rs")
    assert moved["src/d.rs"] == "pub fn again() -> u32 {\n    crate::b::run()\n}\n"
    run_cargo(write_files(tmp_path / "built", moved), "build")


def test_moved_code_takes_the_glob_imports_it_may_need(tmp_path, open_index) -> None:
    files = {
        **SUPER,
        "src/lib.rs": "mod a;\nmod b;\npub mod c;\nmod e;\n",
        "src/e.rs": "pub const ONE: u32 = 1;\n",
        "src/a.rs": "use super::e::*;\n\npub fn run() -> u32 {\n    ONE\n}\n",
    }
    moved, _ = move_between_modules(tmp_path, open_index, files, "run", "src/a.rs", "src/b.rs")
    assert moved["src/b.rs"].startswith("use super::e::*;\n\npub struct Helper;\n")
    assert moved["src/b.rs"].endswith("\n\npub fn run() -> u32 {\n    ONE\n}\n")
    run_cargo(write_files(tmp_path / "built", moved), "build")


def test_move_rewrites_paths_written_in_macro_arguments(tmp_path, open_index) -> None:
    # A macro's arguments are a token tree: its paths are no references of the file, yet they name the item.
    files = {
        "Cargo.toml": '[package]\nname = "scales"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": "pub mod util;\npub mod report;\npub mod show;\n",
        "src/util.rs": "pub const SCALE: f64 = 2.0;\n\npub fn scaled(x: f64) -> f64 {\n    x * SCALE\n}\n",
        "src/report.rs": 'pub fn report() -> String {\n    format!("{}", crate::util::SCALE)\n}\n',
        "src/show.rs": 'pub fn show() -> String {\n    format!("{} {}", crate::util::SCALE, 1)\n}\n',
    }
    moved, _ = move_between_modules(tmp_path, open_index, files, "SCALE", "src/util.rs", "src/report.rs")
    assert moved["src/report.rs"].startswith('pub fn report() -> String {\n    format!("{}", SCALE)\n}\n')
    assert (
        moved["src/show.rs"]
        == 'pub fn show() -> String {\n    format!("{} {}", crate::report::SCALE, 1)\n}\n'
    )
    assert moved["src/util.rs"].startswith("use crate::report::SCALE;\n")
    run_cargo(write_files(tmp_path / "built", moved), "build")


def test_move_refuses_a_module_that_a_user_of_the_symbol_cannot_see(tmp_path, open_index) -> None:
    # ``report`` is private to the crate: the integration test reached ``label`` through the public ``util``.
    files = {
        "Cargo.toml": '[package]\nname = "labels"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": "pub mod util;\nmod report;\npub mod shapes;\n",
        "src/util.rs": 'pub fn label(x: u32) -> String {\n    format!("<{}>", x)\n}\n',
        "src/report.rs": "pub fn report() -> String {\n    crate::util::label(1)\n}\n",
        "src/shapes/mod.rs": "mod area;\npub mod circle;\n",
        "src/shapes/area.rs": "pub fn area() -> u32 {\n    1\n}\n",
        "src/shapes/circle.rs": "pub fn circle() -> u32 {\n    2\n}\n",
        "tests/api.rs": '#[test]\nfn api() {\n    assert_eq!(labels::util::label(1), "<1>");\n}\n',
    }
    with pytest.raises(RefactorError, match="tests/api.rs names 'label' through src/report.rs"):
        move_between_modules(tmp_path / "a", open_index, files, "label", "src/util.rs", "src/report.rs")
    # Within the crate a private module at the root is visible everywhere: the same move for the crate only.
    crate_only = {path: text for path, text in files.items() if path != "tests/api.rs"}
    moved, _ = move_between_modules(
        tmp_path / "b", open_index, crate_only, "label", "src/util.rs", "src/report.rs"
    )
    run_cargo(write_files(tmp_path / "built", moved), "build")
    # ``shapes::area`` is private to ``shapes``: src/report.rs cannot name it, src/shapes/mod.rs can.
    files = {
        **crate_only,
        "src/report.rs": "pub fn report() -> u32 {\n    crate::shapes::circle::circle()\n}\n",
    }
    with pytest.raises(RefactorError, match="src/report.rs names 'circle' through src/shapes/area.rs"):
        move_between_modules(
            tmp_path / "c", open_index, files, "circle", "src/shapes/circle.rs", "src/shapes/area.rs"
        )
