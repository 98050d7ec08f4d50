"""Go refactors on real tree-sitter: add a missing import (the package of ``pkg.Name``, written into the
import block in gofmt order) and move a top-level declaration to another file of its package (imports
follow the moved code; the source drops the ones it no longer uses). Results are re-indexed, and built
with ``go build`` when a Go toolchain is installed."""

from __future__ import annotations

import re

import pytest
from index_support import apply_replacements, write_files
from refactor_support import definitions_at_first, go_build, move_within_package

from roost.context.languages import language_for_path
from roost.context.languages.base import ImportCandidate
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError
from roost.context.refactor.move import FileText
from roost.context.refactor.package_imports import (
    add_package_import,
    missing_package_imports,
)
from roost.context.refactor.package_move import moves_within_package, package_move_targets, plan_package_move

GO = language_for_path("x.go")

PROJECT = {
    "go.mod": "module example.com/app\n\ngo 1.19\n",
    "money/price.go": (
        "package money\n\n"
        "// Price is an amount in cents.\n"
        "type Price int\n\n"
        "// Format renders a price.\n"
        'func Format(p Price) string { return "" }\n'
    ),
    "shop/cart.go": (
        "package shop\n\n"
        "import (\n"
        '\t"fmt"\n'
        '\t"strings"\n\n'
        '\t"example.com/app/money"\n'
        ")\n\n"
        "// Cart holds lines.\n"
        "type Cart struct {\n"
        "\tLines []string\n"
        "}\n\n"
        "// Describe renders a price in capitals.\n"
        "func Describe(p money.Price) string {\n"
        "\treturn strings.ToUpper(fmt.Sprint(money.Format(p)))\n"
        "}\n\n"
        "// Count prints and counts the lines.\n"
        "func Count(c Cart) int {\n"
        "\tfmt.Println(len(c.Lines))\n"
        "\treturn len(c.Lines)\n"
        "}\n"
    ),
    "shop/format.go": 'package shop\n\nimport "fmt"\n\nfunc Hello() { fmt.Println("hi") }\n',
    "main.go": (
        "package main\n\n"
        'import "example.com/app/shop"\n\n'
        "func main() {\n"
        "\t_ = shop.Describe(3)\n"
        "\t_ = shop.Count(shop.Cart{})\n"
        "}\n"
    ),
}


# ------------------------------------------------------------------------------------------------- move


def test_move_takes_imports_along_and_drops_the_unused_ones(tmp_path, open_index) -> None:
    moved = move_within_package(PROJECT, "Describe", "shop/cart.go", "shop/format.go")
    assert moved["shop/cart.go"] == (
        "package shop\n\n"
        "import (\n"
        '\t"fmt"\n'
        ")\n\n"
        "// Cart holds lines.\n"
        "type Cart struct {\n"
        "\tLines []string\n"
        "}\n\n"
        "// Count prints and counts the lines.\n"
        "func Count(c Cart) int {\n"
        "\tfmt.Println(len(c.Lines))\n"
        "\treturn len(c.Lines)\n"
        "}\n"
    )
    assert moved["shop/format.go"] == (
        "package shop\n\n"
        "import (\n"
        '\t"fmt"\n'
        '\t"strings"\n\n'
        '\t"example.com/app/money"\n'
        ")\n\n"
        'func Hello() { fmt.Println("hi") }\n\n'
        "// Describe renders a price in capitals.\n"
        "func Describe(p money.Price) string {\n"
        "\treturn strings.ToUpper(fmt.Sprint(money.Format(p)))\n"
        "}\n"
    )
    assert moved["main.go"] == PROJECT["main.go"]  # same package: dependents unchanged
    root = write_files(tmp_path / "moved", moved)
    index = open_index(root)
    assert definitions_at_first(index, "main.go", "Describe") == {("shop/format.go", "Describe")}
    assert definitions_at_first(index, "shop/format.go", "Format") == {("money/price.go", "Format")}
    go_build(root)


def test_move_the_last_declaration_and_one_spec_of_a_group(tmp_path, open_index) -> None:
    files = {
        **PROJECT,
        "shop/limits.go": (
            "package shop\n\nconst (\n\t// MaxLines caps a cart.\n\tMaxLines = 10\n\tMinLines = 1\n)\n"
        ),
    }
    moved = move_within_package(files, "MaxLines", "shop/limits.go", "shop/format.go")
    assert moved["shop/limits.go"] == "package shop\n\nconst (\n\tMinLines = 1\n)\n"
    assert moved["shop/format.go"] == (
        'package shop\n\nimport "fmt"\n\nfunc Hello() { fmt.Println("hi") }\n\n'
        "// MaxLines caps a cart.\nconst MaxLines = 10\n"
    )
    moved = move_within_package(moved, "Count", "shop/cart.go", "shop/limits.go")
    assert moved["shop/cart.go"].endswith(
        "type Cart struct {\n\tLines []string\n}\n\n// Describe renders a price in capitals.\nfunc Describe(p money.Price) string {\n\treturn strings.ToUpper(fmt.Sprint(money.Format(p)))\n}\n"
    )
    assert moved["shop/limits.go"] == (
        'package shop\n\nimport "fmt"\n\nconst (\n\tMinLines = 1\n)\n\n'
        "// Count prints and counts the lines.\n"
        "func Count(c Cart) int {\n"
        "\tfmt.Println(len(c.Lines))\n"
        "\treturn len(c.Lines)\n"
        "}\n"
    )
    root = write_files(tmp_path / "moved", moved)
    index = open_index(root)
    assert definitions_at_first(index, "main.go", "Count") == {("shop/limits.go", "Count")}
    assert definitions_at_first(index, "shop/format.go", "MaxLines = 10") == {("shop/format.go", "MaxLines")}
    go_build(root)


def test_move_refusals() -> None:
    def move(symbol: str, source: str, target: str, files: dict[str, str] = PROJECT) -> None:
        move_within_package(files, symbol, source, target)

    with pytest.raises(RefactorError, match="not in the package"):
        move("Describe", "shop/cart.go", "money/price.go")
    with pytest.raises(RefactorError, match="already defines"):
        move(
            "Hello",
            "shop/format.go",
            "shop/format.go".replace("format", "cart"),
            {**PROJECT, "shop/cart.go": PROJECT["shop/cart.go"] + "\nfunc Hello() {}\n"},
        )
    with pytest.raises(RefactorError, match="no top-level definition"):
        move("Missing", "shop/cart.go", "shop/format.go")
    enum = {**PROJECT, "shop/kind.go": "package shop\n\nconst (\n\tSmall = iota\n\tLarge\n)\n"}
    with pytest.raises(
        RefactorError, match="cannot move 'Large': Large belongs to a const group numbered by iota"
    ):
        move("Large", "shop/kind.go", "shop/format.go", enum)
    with pytest.raises(RefactorError, match="does not see"):
        move(
            "Describe",
            "shop/cart.go",
            "shop/cart_test.go",
            {**PROJECT, "shop/cart_test.go": "package shop\n"},
        )
    assert GO is not None and GO.moves_within_package


# ------------------------------------------------------------------------------------- add missing import


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (  # into the module group of a block, sorted
            'package m\n\nimport (\n\t"fmt"\n\n\t"example.com/app/a"\n\t"example.com/app/z"\n)\n',
            'package m\n\nimport (\n\t"fmt"\n\n\t"example.com/app/a"\n\t"example.com/app/money"\n\t"example.com/app/z"\n)\n',
        ),
        (  # a block of standard-library imports only: a group of its own
            'package m\n\nimport (\n\t"fmt"\n\t"os"\n)\n',
            'package m\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"example.com/app/money"\n)\n',
        ),
        (  # one import becomes a block
            'package m\n\nimport "fmt"\n\nfunc f() {}\n',
            'package m\n\nimport (\n\t"fmt"\n\n\t"example.com/app/money"\n)\n\nfunc f() {}\n',
        ),
        (  # no import yet
            "package m\n\nfunc f() {}\n",
            'package m\n\nimport "example.com/app/money"\n\nfunc f() {}\n',
        ),
        (  # already there
            'package m\n\nimport "example.com/app/money"\n',
            'package m\n\nimport "example.com/app/money"\n',
        ),
    ],
)
def test_with_import_writes_gofmt_order(before: str, after: str) -> None:
    assert GO.with_import(before, "example.com/app/money") == after


def test_missing_import_of_a_workspace_package(tmp_path, open_index) -> None:
    files = {
        **PROJECT,
        "report/report.go": (
            "package report\n\n"
            'import "fmt"\n\n'
            "func Line(p money.Price, cart Cart) string {\n"
            "\tvar total money.Price = p\n"
            "\tfmt.Println(cart.Lines, local.X, Cart{Lines: nil})\n"
            "\treturn money.Format(total)\n"
            "}\n\n"
            "type Cart struct{ Lines []string }\n"
        ),
    }
    root = write_files(tmp_path / "project", files)
    index = open_index(root)
    path = "report/report.go"
    text = files[path]
    # ``money`` is a workspace package; ``cart`` is a parameter, ``fmt`` imported, ``local`` unknown.
    found = missing_package_imports(index, path, text, 0, text.count("\n"))
    assert found == [ImportCandidate("money", "example.com/app/money", "money/price.go")]
    assert missing_package_imports(index, path, text, 9, 9) == []  # outside the range
    replacement = add_package_import(path, text, "example.com/app/money")
    fixed = apply_replacements(text, [replacement])
    assert fixed.startswith(
        'package report\n\nimport (\n\t"fmt"\n\n\t"example.com/app/money"\n)\n\nfunc Line('
    )
    index.set_buffer(path, fixed)
    assert definitions_at_first(index, path, "money.Format", len("money.")) == {("money/price.go", "Format")}
    assert missing_package_imports(index, path, fixed, 0, fixed.count("\n")) == []
    with pytest.raises(RefactorError, match="already imports"):
        add_package_import(path, fixed, "example.com/app/money")
    (root / path).write_text(fixed.replace("local.X", '"x"'), encoding="utf-8")
    go_build(root)


def test_facts_of_moved_files_still_parse() -> None:
    moved = move_within_package(PROJECT, "Describe", "shop/cart.go", "shop/format.go")
    facts = parse_facts("shop/format.go", moved["shop/format.go"])
    assert facts is not None
    assert [imp.module for imp in facts.imports] == ["fmt", "strings", "example.com/app/money"]


def test_move_a_method_by_its_qualified_name(tmp_path, open_index) -> None:
    files = {
        **PROJECT,
        "shop/cart.go": PROJECT["shop/cart.go"]
        + "\n// Empty tells whether the cart has no lines.\nfunc (c *Cart) Empty() bool {\n\treturn len(c.Lines) == 0\n}\n",
        "main.go": PROJECT["main.go"].replace("}\n", "\t_ = (&shop.Cart{}).Empty()\n}\n"),
    }
    moved = move_within_package(files, "Cart.Empty", "shop/cart.go", "shop/format.go")
    assert moved["shop/cart.go"] == PROJECT["shop/cart.go"]
    assert moved["shop/format.go"] == (
        PROJECT["shop/format.go"]
        + "\n// Empty tells whether the cart has no lines.\nfunc (c *Cart) Empty() bool {\n\treturn len(c.Lines) == 0\n}\n"
    )
    root = write_files(tmp_path / "moved", moved)
    index = open_index(root)
    assert definitions_at_first(index, "main.go", "Empty") == {("shop/format.go", "Cart.Empty")}
    go_build(root)


def test_move_targets_are_the_package_files_of_the_directory(tmp_path, open_index) -> None:
    files = {**PROJECT, "shop/cart_test.go": "package shop\n", "shop/other/x.go": "package shop\n"}
    index = open_index(write_files(tmp_path / "project", files))
    peers = index.package_peers("shop/cart.go")
    assert package_move_targets("shop/cart.go", peers, 6) == ["shop/format.go"]
    assert package_move_targets("shop/cart.go", peers, 0) == []
    assert package_move_targets("x.py", ["y.py"], 6) == []
    assert moves_within_package("shop/cart.go") and moves_within_package("A.java")
    assert not moves_within_package("x.py") and not moves_within_package("x.rs")


def test_move_notes_an_import_bound_under_another_name() -> None:
    files = {
        **PROJECT,
        "shop/format.go": 'package shop\n\nimport m "example.com/app/money"\n\nvar Zero m.Price\n',
    }
    plan = plan_package_move(
        "Describe",
        FileText("shop/cart.go", files["shop/cart.go"]),
        FileText("shop/format.go", files["shop/format.go"]),
        [],
        files.__getitem__,
        lambda importer, imp: None,
        lambda path: True,
    )
    assert plan.notes == [
        "shop/format.go imports example.com/app/money as ['m']; the moved code uses it as ['money']"
    ]


def test_move_to_a_new_file_of_the_package(tmp_path) -> None:
    # "Move to another module…" with a new name: the file is created empty, and was refused as "not in the
    # package" for want of a package clause.
    moved = move_within_package(
        {**PROJECT, "shop/describe.go": ""}, "Describe", "shop/cart.go", "shop/describe.go"
    )
    assert moved["shop/describe.go"].startswith('package shop\n\nimport (\n\t"fmt"\n\t"strings"\n')
    assert "func Describe(p money.Price) string {" in moved["shop/describe.go"]
    go_build(write_files(tmp_path / "moved", moved))


@pytest.mark.parametrize(
    ("target", "text", "refusal"),
    [
        # Only Windows builds the file: elsewhere Describe would be missing.
        ("shop/sys_windows.go", "package shop\n", "and shop/sys_windows.go where windows:"),
        (
            "shop/tagged.go",
            "//go:build linux && !race\n\npackage shop\n",
            "and shop/tagged.go where linux && !race:",
        ),
        (
            "shop/old.go",
            "// +build linux darwin\n\npackage shop\n",
            "and shop/old.go where (linux || darwin):",
        ),
    ],
)
def test_move_refuses_a_file_built_under_other_constraints(target: str, text: str, refusal: str) -> None:
    files = {**PROJECT, target: text}
    with pytest.raises(RefactorError, match=re.escape(f"shop/cart.go is built in every build {refusal}")):
        move_within_package(files, "Describe", "shop/cart.go", target)


def test_move_between_files_of_the_same_constraint(tmp_path) -> None:
    files = {
        **PROJECT,
        "shop/cart_linux.go": "//go:build !race\n\npackage shop\n\nfunc Lines() int { return 1 }\n",
        "shop/more_linux.go": "//go:build !race\n\npackage shop\n",
    }
    moved = move_within_package(files, "Lines", "shop/cart_linux.go", "shop/more_linux.go")
    assert moved["shop/more_linux.go"].endswith("func Lines() int { return 1 }\n")
    go_build(write_files(tmp_path / "moved", moved))
