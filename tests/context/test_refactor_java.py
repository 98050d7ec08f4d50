"""Java refactors on real tree-sitter: add a missing import (a public class of another package, sorted
into the imports) and move a package-private top-level type to another file of its package (imports
follow the moved code; the source drops the ones it no longer uses; public types refuse). Results are
re-indexed, and compiled with ``javac`` when a JDK is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from index_support import apply_replacements
from index_support import write_files as _write

from roost.context.index import WorkspaceIndex
from roost.context.languages import language_for_path
from roost.context.languages.base import ImportCandidate
from roost.context.refactor.imports import RefactorError
from roost.context.refactor.move import FileText
from roost.context.refactor.package_imports import (
    add_package_import,
    missing_package_imports,
)
from roost.context.refactor.package_move import plan_package_move

JAVA = language_for_path("X.java")
SHOP = "src/com/acme/shop"

PROJECT = {
    "src/com/acme/money/Price.java": (
        "package com.acme.money;\n\npublic class Price {\n    public static int cents(int euros) { return euros * 100; }\n}\n"
    ),
    "src/com/acme/money/Rounding.java": "package com.acme.money;\n\npublic enum Rounding { UP, DOWN }\n",
    f"{SHOP}/Cart.java": (
        "package com.acme.shop;\n\n"
        "import java.util.ArrayList;\n"
        "import java.util.List;\n"
        "import com.acme.money.Price;\n\n"
        "public class Cart {\n"
        "    private final List<String> lines = new ArrayList<>();\n\n"
        "    public int size() { return lines.size(); }\n"
        "}\n\n"
        "/** Prices a cart. */\n"
        "class Pricer {\n"
        "    int total(List<Integer> euros) {\n"
        "        int sum = 0;\n"
        "        for (int e : euros) sum += Price.cents(e);\n"
        "        return sum;\n"
        "    }\n"
        "}\n"
    ),
    f"{SHOP}/Checkout.java": (
        "package com.acme.shop;\n\n"
        "public class Checkout {\n"
        "    int pay(Cart cart) { return new Pricer().total(java.util.List.of(cart.size())); }\n"
        "}\n"
    ),
}


def _definitions(
    index: WorkspaceIndex, path: str, needle: str, offset: int = 0
) -> set[tuple[str, str | None]]:
    lines = index.source(path).splitlines()
    line = next(number for number, text in enumerate(lines) if needle in text)
    col = len(lines[line][: lines[line].index(needle)].encode()) + offset
    return {(loc.path, loc.qualified_name) for loc in index.definitions_at(path, line, col)}


def _javac(root: Path, tmp_path: Path) -> None:
    javac = shutil.which("javac")
    if javac is None:
        return
    sources = sorted(str(p) for p in root.rglob("*.java"))
    result = subprocess.run(
        [javac, "-d", str(tmp_path / "classes"), *sources], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def _move(files: dict[str, str], symbol: str, source: str, target: str) -> dict[str, str]:
    plan = plan_package_move(
        symbol,
        FileText(source, files[source]),
        FileText(target, files[target]),
        [],
        files.__getitem__,
        lambda importer, imp: None,
        lambda path: path in files,
    )
    moved = dict(files)
    for change in plan.changes:
        assert change.text == files[change.path]
        moved[change.path] = apply_replacements(change.text, change.replacements)
    return moved


# ------------------------------------------------------------------------------------------------- move


def test_move_package_private_class_with_its_imports(tmp_path, open_index) -> None:
    _javac(_write(tmp_path / "before", PROJECT), tmp_path / "before-classes")
    moved = _move(PROJECT, "Pricer", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
    assert moved[f"{SHOP}/Cart.java"] == (
        "package com.acme.shop;\n\n"
        "import java.util.ArrayList;\n"
        "import java.util.List;\n\n"
        "public class Cart {\n"
        "    private final List<String> lines = new ArrayList<>();\n\n"
        "    public int size() { return lines.size(); }\n"
        "}\n"
    )
    assert moved[f"{SHOP}/Checkout.java"] == (
        "package com.acme.shop;\n\n"
        "import com.acme.money.Price;\n"
        "import java.util.List;\n\n"
        "public class Checkout {\n"
        "    int pay(Cart cart) { return new Pricer().total(java.util.List.of(cart.size())); }\n"
        "}\n\n"
        "/** Prices a cart. */\n"
        "class Pricer {\n"
        "    int total(List<Integer> euros) {\n"
        "        int sum = 0;\n"
        "        for (int e : euros) sum += Price.cents(e);\n"
        "        return sum;\n"
        "    }\n"
        "}\n"
    )
    root = _write(tmp_path / "moved", moved)
    index = open_index(root)
    checkout = f"{SHOP}/Checkout.java"
    assert _definitions(index, checkout, "Pricer()") == {(checkout, "Pricer")}
    assert _definitions(index, checkout, "Price.cents") == {("src/com/acme/money/Price.java", "Price")}
    _javac(root, tmp_path)


def test_move_refusals() -> None:
    with pytest.raises(
        RefactorError, match=r"Cart is public: a public top-level type must live in its own file"
    ):
        _move(PROJECT, "Cart", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
    with pytest.raises(RefactorError, match="not in the package"):
        _move(PROJECT, "Pricer", f"{SHOP}/Cart.java", "src/com/acme/money/Price.java")
    with pytest.raises(RefactorError, match="no top-level definition"):
        _move(PROJECT, "total", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
    assert JAVA is not None and JAVA.moves_within_package


# ------------------------------------------------------------------------------------- add missing import


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "package a;\n\nimport com.acme.b.B;\nimport com.acme.z.Z;\nimport static java.lang.Math.max;\n\nclass A {}\n",
            "package a;\n\nimport com.acme.b.B;\nimport com.acme.money.Price;\nimport com.acme.z.Z;\nimport static java.lang.Math.max;\n\nclass A {}\n",
        ),
        (
            "package a;\n\nimport java.util.List;\n\nclass A {}\n",
            "package a;\n\nimport com.acme.money.Price;\nimport java.util.List;\n\nclass A {}\n",
        ),
        ("package a;\n\nclass A {}\n", "package a;\n\nimport com.acme.money.Price;\n\nclass A {}\n"),
        ("class A {}\n", "import com.acme.money.Price;\n\nclass A {}\n"),
        ("package a;\n\nimport com.acme.money.*;\n", "package a;\n\nimport com.acme.money.*;\n"),
    ],
)
def test_with_import_sorts_into_the_imports(before: str, after: str) -> None:
    assert JAVA.with_import(before, "com.acme.money.Price") == after


def test_missing_import_of_a_class_of_another_package(tmp_path, open_index) -> None:
    report = (
        "package com.acme.report;\n\n"
        "import java.util.List;\n\n"
        "public class Report {\n"
        "    int line(List<Integer> euros, Rounding mode) {\n"
        "        Cart cart = null;\n"
        "        return Price.cents(euros.size()) + Helper.ONE;\n"
        "    }\n"
        "}\n"
    )
    files = {
        **PROJECT,
        "src/com/acme/report/Report.java": report,
        "src/com/acme/report/Helper.java": (
            "package com.acme.report;\n\nclass Helper { static final int ONE = 1; }\n"
        ),
    }
    root = _write(tmp_path / "project", files)
    index = open_index(root)
    path = "src/com/acme/report/Report.java"
    # ``Helper`` is in the same package; ``List`` imported; the others are public classes elsewhere.
    found = missing_package_imports(index, path, report, 0, report.count("\n"))
    assert found == [
        ImportCandidate("Rounding", "com.acme.money.Rounding", "src/com/acme/money/Rounding.java"),
        ImportCandidate("Cart", "com.acme.shop.Cart", f"{SHOP}/Cart.java"),
        ImportCandidate("Price", "com.acme.money.Price", "src/com/acme/money/Price.java"),
    ]
    assert missing_package_imports(index, path, report, 7, 7) == [found[2]]
    fixed = report
    for candidate in found:
        fixed = apply_replacements(fixed, [add_package_import(path, fixed, candidate.module)])
    assert fixed.startswith(
        "package com.acme.report;\n\n"
        "import com.acme.money.Price;\n"
        "import com.acme.money.Rounding;\n"
        "import com.acme.shop.Cart;\n"
        "import java.util.List;\n\n"
        "public class Report {\n"
    )
    index.set_buffer(path, fixed)
    assert _definitions(index, path, "Price.cents") == {("src/com/acme/money/Price.java", "Price")}
    assert missing_package_imports(index, path, fixed, 0, fixed.count("\n")) == []
    (root / path).write_text(fixed, encoding="utf-8")
    _javac(root, tmp_path)
