"""Java refactors on real tree-sitter: add a missing import (a public class of another package, sorted
into the imports) and move a package-private top-level type to another file of its package (imports
follow the moved code; the source drops the ones it no longer uses; public types refuse). Results are
re-indexed, and compiled with ``javac`` when a JDK is installed."""

from __future__ import annotations

import pytest
from index_support import apply_replacements, write_files
from refactor_support import definitions_at_first, javac_compile, move_within_package

from roost.context.languages import language_for_path
from roost.context.languages.base import ImportCandidate
from roost.context.refactor.imports import RefactorError
from roost.context.refactor.package_imports import (
    add_package_import,
    missing_package_imports,
)

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


# ------------------------------------------------------------------------------------------------- move


def test_move_package_private_class_with_its_imports(tmp_path, open_index) -> None:
    javac_compile(write_files(tmp_path / "before", PROJECT), tmp_path / "before-classes" / "classes")
    moved = move_within_package(PROJECT, "Pricer", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
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
    root = write_files(tmp_path / "moved", moved)
    index = open_index(root)
    checkout = f"{SHOP}/Checkout.java"
    assert definitions_at_first(index, checkout, "Pricer()") == {(checkout, "Pricer")}
    assert definitions_at_first(index, checkout, "Price.cents") == {
        ("src/com/acme/money/Price.java", "Price")
    }
    javac_compile(root, tmp_path / "classes")


def test_move_refusals() -> None:
    with pytest.raises(
        RefactorError, match=r"Cart is public: a public top-level type must live in its own file"
    ):
        move_within_package(PROJECT, "Cart", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
    with pytest.raises(RefactorError, match="not in the package"):
        move_within_package(PROJECT, "Pricer", f"{SHOP}/Cart.java", "src/com/acme/money/Price.java")
    with pytest.raises(RefactorError, match="no top-level definition"):
        move_within_package(PROJECT, "total", f"{SHOP}/Cart.java", f"{SHOP}/Checkout.java")
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
    root = write_files(tmp_path / "project", files)
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
    assert definitions_at_first(index, path, "Price.cents") == {("src/com/acme/money/Price.java", "Price")}
    assert missing_package_imports(index, path, fixed, 0, fixed.count("\n")) == []
    (root / path).write_text(fixed, encoding="utf-8")
    javac_compile(root, tmp_path / "classes")
