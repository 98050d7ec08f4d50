"""Refactors as text replacements: the language module writes imports; the move planner says which files
change and how, computed on a real index of a small package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from index_support import apply_replacements as _apply
from index_support import make_index

from roost.context.facts import ImportedName
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import (
    RefactorError,
    add_import,
    import_statements,
    unimported_names,
    writes_imports,
)
from roost.context.refactor.move import FileText, move_dependents, move_targets, plan_move

FILES = {
    "shop/__init__.py": "",
    "shop/pricing.py": (
        '"""Prices."""\nfrom decimal import Decimal\n\nRATE = 2\n\n\n@staticmethod\ndef price(x):\n'
        "    return Decimal(x) * RATE\n\n\ndef total(xs):\n    return sum(price(x) for x in xs)\n"
    ),
    "shop/money.py": '"""Money."""\n',
    "shop/cart.py": "from .pricing import price, RATE\n\nprint(price(1), RATE)\n",
    "main.py": "from shop.pricing import price\n\nprint(price(3))\n",
}


def test_python_writes_imports_and_other_languages_say_they_cannot() -> None:
    python = language_for_path("a.py")
    go = language_for_path("a.go")
    assert python is not None and go is not None
    exists = {"pkg/__init__.py", "pkg/sub/__init__.py"}.__contains__
    assert python.import_module_name("pkg/sub/a.py", "pkg/b.py", True, exists) == "..b"
    assert python.import_module_name("pkg/sub/a.py", "pkg/b.py", False, exists) == "pkg.b"
    assert (
        python.render_import("..b", [ImportedName("x"), ImportedName("y", "z")])
        == "from ..b import x, y as z"
    )
    assert python.import_insertion_line(None, ['"""Doc', 'string."""', "x = 1"]) == 2
    assert go.render_import("m", [ImportedName("x")]) is None
    assert python.render_module_import("pkg.b", "b2") == "import pkg.b as b2"
    assert python.render_module_import("..b") is None and go.render_module_import("m") is None
    assert go.import_insertion_line(None, []) is None
    assert writes_imports("a.py") and not writes_imports("a.go") and not writes_imports("a.txt")
    with pytest.raises(RefactorError, match="not implemented for go"):
        add_import("a.go", "package a\n", "X", "b.go", lambda path: True)


def test_missing_names_skip_builtins_definitions_and_imports() -> None:
    text = "import os\n\n\ndef f():\n    return len(os.sep) + helper(VALUE) + f()\n"
    facts = parse_facts("m.py", text)
    assert facts is not None
    assert unimported_names("m.py", facts, 0, 10) == ["helper", "VALUE"]
    assert unimported_names("m.py", facts, 0, 3) == []
    assert import_statements("m.py", text) == "import os"


def test_add_import_goes_after_the_docstring_in_the_file_style() -> None:
    exists = set(FILES).__contains__
    insertion = add_import("shop/money.py", FILES["shop/money.py"], "price", "shop/pricing.py", exists)
    assert _apply(FILES["shop/money.py"], [insertion]) == '"""Money."""\nfrom shop.pricing import price\n'


def test_move_plan_moves_the_definition_and_rewrites_every_importer(tmp_path: Path) -> None:
    root = tmp_path / "w"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    index = make_index(root, tmp_path / "cache")
    try:
        index.index()
        assert move_targets("shop/pricing.py", list(index.paths()), 6) == [
            "shop/__init__.py",
            "shop/cart.py",
            "shop/money.py",
        ]
        # total() still uses price, so pricing would import it from money, which imports RATE from
        # pricing: neither module could be imported first.
        with pytest.raises(RefactorError, match="shop/money.py → shop/pricing.py → shop/money.py"):
            plan_move(
                "price",
                FileText("shop/pricing.py", FILES["shop/pricing.py"]),
                FileText("shop/money.py", FILES["shop/money.py"]),
                list(index.dependents("shop/pricing.py")),
                lambda path: FILES[path],
                index.resolve_import,
                lambda path: (root / path).exists(),
            )
        pricing = FILES["shop/pricing.py"].split("\n\n\ndef total")[0] + "\n"
        files = {**FILES, "shop/pricing.py": pricing}
        plan = plan_move(
            "price",
            FileText("shop/pricing.py", pricing),
            FileText("shop/money.py", FILES["shop/money.py"]),
            list(index.dependents("shop/pricing.py")),
            files.__getitem__,
            index.resolve_import,
            lambda path: (root / path).exists(),
        )
    finally:
        index.close()
    after = {change.path: _apply(change.text, change.replacements) for change in plan.changes}
    # Neither module imports its package; the package's other importer of it (cart.py) does, relatively.
    assert after["shop/money.py"] == (
        '"""Money."""\nfrom decimal import Decimal\nfrom .pricing import RATE\n\n\n'
        "@staticmethod\ndef price(x):\n    return Decimal(x) * RATE\n"
    )
    assert "def price" not in after["shop/pricing.py"]
    assert "shop.money" not in after["shop/pricing.py"]  # nothing there uses price any more
    assert after["shop/cart.py"].startswith("from .pricing import RATE\nfrom .money import price\n")
    assert after["main.py"].startswith("from shop.money import price\n")
    with pytest.raises(RefactorError, match="already defines"):
        plan_move(
            "total",
            FileText("shop/pricing.py", FILES["shop/pricing.py"]),
            FileText("shop/cart.py", "def total():\n    pass\n"),
            [],
            FILES.__getitem__,
            lambda importer, imp: None,
            lambda path: True,
        )


MODULE_USERS = {
    "pkg/__init__.py": "",
    "pkg/source.py": (
        "def Symbol(x):\n    return x * 2\n\n\ndef other():\n    return 1\n\n\n"
        "def twice(x):\n    return other() + other() + x\n"
    ),
    "pkg/target.py": "VALUE = 3\n",
    "pkg/inner.py": "from . import source\n\nprint(source.Symbol(6))\n",
    "dep_import.py": "import pkg.source\n\nprint(pkg.source.Symbol(2), pkg.source.other())\n",
    "dep_alias.py": "import pkg.source as src\n\nprint(src.Symbol(3))\n",
    "dep_from.py": (
        "from pkg import source\n\n\ndef target():\n    return source.Symbol(4)\n\n\nprint(target())\n"
    ),
    "dep_star.py": "from pkg.source import *\n\nprint(Symbol(5), other())\n",
    "dep_both.py": "from pkg import source, target\n\nprint(source.Symbol(7), target.VALUE)\n",
    "dep_local.py": "def f():\n    import pkg.source as s\n    return s.Symbol(8)\n\n\nprint(f())\n",
}
PROGRAMS = [
    "pkg.inner",
    "dep_import",
    "dep_alias",
    "dep_from",
    "dep_star",
    "dep_both",
    "dep_local",
    "pkg.source",
    "pkg.target",
]


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def _run_programs(root: Path, programs: tuple[str, ...] = ()) -> str:
    script = f"import importlib\nfor name in {[*PROGRAMS, *programs]!r}:\n    importlib.import_module(name)\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _plan_on_index(
    tmp_path: Path,
    files: dict[str, str],
    symbol: str,
    package_peers: bool = False,
    source: str = "pkg/source.py",
    target: str = "pkg/target.py",
) -> dict[str, str]:
    root = tmp_path / "w"
    _write(root, files)
    index = make_index(root, tmp_path / "cache")
    try:
        index.index()
        plan = plan_move(
            symbol,
            FileText(source, files[source]),
            FileText(target, files.get(target, "")),  # a new module when not there
            move_dependents(
                source,
                index.dependents(source),
                list(index.paths()),
                lambda path: (root / path).exists(),
                index.dependents if package_peers else None,
            ),
            files.__getitem__,
            index.resolve_import,
            lambda path: (root / path).exists(),
        )
    finally:
        index.close()
    assert not plan.notes
    for change in plan.changes:  # what the server's exact verification demands: no two edits overlap
        ordered = sorted(change.replacements, key=lambda r: (r.start, r.end))
        assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:], strict=False)), change.path
    return {change.path: _apply(change.text, change.replacements) for change in plan.changes}


def test_move_rewrites_uses_through_the_module_and_star_imports(tmp_path: Path) -> None:
    before = _run_programs(_write_tree(tmp_path / "before", MODULE_USERS))
    after = _plan_on_index(tmp_path, MODULE_USERS, "Symbol")
    # other() is still used through pkg.source: that import stays, the new one joins it.
    assert after["dep_import.py"] == (
        "import pkg.source\nimport pkg.target\n\nprint(pkg.target.Symbol(2), pkg.source.other())\n"
    )
    # The alias was only used for Symbol: the import of the source goes.
    assert after["dep_alias.py"] == "from pkg import target\n\nprint(target.Symbol(3))\n"
    # ``target`` is taken by a function here: the module comes in under a free name.
    assert after["dep_from.py"].startswith("from pkg import target as target_module\n")
    assert "return target_module.Symbol(4)\n" in after["dep_from.py"]
    assert after["dep_star.py"] == (
        "from pkg.source import *\nfrom pkg.target import Symbol\n\nprint(Symbol(5), other())\n"
    )
    assert after["pkg/inner.py"] == "from . import target\n\nprint(target.Symbol(6))\n"
    # The file already binds the target module: it is reused, no second import.
    assert after["dep_both.py"] == "from pkg import target\n\nprint(target.Symbol(7), target.VALUE)\n"
    # An import inside a function is rewritten where it is, at its indentation.
    assert after["dep_local.py"].startswith(
        "def f():\n    from pkg import target\n    return target.Symbol(8)\n"
    )
    moved = {**MODULE_USERS, **after}
    assert _run_programs(_write_tree(tmp_path / "after", moved)) == before


def test_move_leaves_the_source_importing_what_it_still_uses(tmp_path: Path) -> None:
    before = _run_programs(_write_tree(tmp_path / "before", MODULE_USERS))
    after = _plan_on_index(tmp_path, MODULE_USERS, "other")
    assert "def other" not in after["pkg/source.py"]
    # twice() still calls it; pkg/inner.py, the package's one import of itself, is relative.
    assert after["pkg/source.py"].startswith("from .target import other\n")
    assert "pkg.target.other()" in after["dep_import.py"]
    assert after["dep_star.py"].startswith("from pkg.source import *\nfrom pkg.target import other\n")
    assert _run_programs(_write_tree(tmp_path / "after", {**MODULE_USERS, **after})) == before


def _write_tree(root: Path, files: dict[str, str]) -> Path:
    _write(root, files)
    return root


def test_move_into_a_module_that_used_the_symbol_through_the_source(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/target.py": (
            "from pkg import source\n\nVALUE = 3\n\n\ndef use():\n    return source.Symbol(1) + source.other()\n"
        ),
        "dep_use.py": "from pkg.target import use\n\nprint(use())\n",
    }
    # The moved definition goes at the end of the target: the target's own top-level code calling it
    # before that point is not handled, so the program calling use() is a dependent.
    before = _run_programs(_write_tree(tmp_path / "before", files), ("dep_use",))
    after = _plan_on_index(tmp_path, files, "Symbol")
    assert "    return Symbol(1) + source.other()\n" in after["pkg/target.py"]
    assert "def Symbol(x):" in after["pkg/target.py"]
    assert _run_programs(_write_tree(tmp_path / "after", {**files, **after}), ("dep_use",)) == before


def _run_alone(root: Path, program: str) -> str:
    """One program in a fresh interpreter: nothing else has imported the modules it reaches."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {program}"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_move_rewrites_uses_reached_through_the_package(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/__init__.py": "from . import source\n",  # ``import pkg`` alone reaches pkg.source
        "dep_package.py": "import pkg\n\nprint(pkg.source.Symbol(2), pkg.source.other())\n",
        "dep_sibling.py": "import pkg.target\n\nprint(pkg.source.Symbol(3), pkg.target.VALUE)\n",
        "dep_package_alias.py": "import pkg as p\n\nprint(p.source.Symbol(4))\n",
    }
    programs = ("dep_package", "dep_sibling", "dep_package_alias")
    before_root = _write_tree(tmp_path / "before", files)
    before = [_run_alone(before_root, program) for program in programs]
    # The importers of the source's package and of its peers are looked at, besides the source's own.
    after = _plan_on_index(tmp_path, files, "Symbol", package_peers=True)
    # The package import stays (other() still goes through it); pkg.target is an attribute of the package
    # only once imported, so the import is added.
    assert after["dep_package.py"] == (
        "import pkg\nimport pkg.target\n\nprint(pkg.target.Symbol(2), pkg.source.other())\n"
    )
    assert after["dep_sibling.py"] == "import pkg.target\n\nprint(pkg.target.Symbol(3), pkg.target.VALUE)\n"
    assert (
        after["dep_package_alias.py"] == "import pkg as p\nimport pkg.target\n\nprint(p.target.Symbol(4))\n"
    )
    assert "pkg/__init__.py" not in after  # it does not use Symbol
    after_root = _write_tree(tmp_path / "after", {**files, **after})
    assert [_run_alone(after_root, program) for program in programs] == before
    assert _run_programs(after_root, programs) == _run_programs(before_root, programs)


def test_move_places_the_definition_before_the_targets_import_time_uses(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/target.py": (
            '"""Target."""\nfrom pkg.source import Symbol, other\n\nVALUE = 3\nDOUBLED = Symbol(VALUE)\n\n\n'
            "def later():\n    return Symbol(other())\n"
        ),
        "dep_use.py": "from pkg.target import DOUBLED, later\n\nprint(DOUBLED, later())\n",
    }
    before = _run_programs(_write_tree(tmp_path / "before", files), ("dep_use",))
    after = _plan_on_index(tmp_path, files, "Symbol")
    # Before the first top-level statement calling it, after VALUE; the call in later() runs later.
    assert after["pkg/target.py"] == (
        '"""Target."""\nfrom pkg.source import other\n\nVALUE = 3\n\n\ndef Symbol(x):\n    return x * 2\n\n\n'
        "DOUBLED = Symbol(VALUE)\n\n\ndef later():\n    return Symbol(other())\n"
    )
    assert _run_programs(_write_tree(tmp_path / "after", {**files, **after}), ("dep_use",)) == before


def test_move_places_the_definition_before_a_decorator_use_right_after_the_imports(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/source.py": MODULE_USERS["pkg/source.py"]
        + "\n\ndef register(f):\n    f.registered = other()\n    return f\n",
        "pkg/helpers.py": "class Base:\n    kind = 'base'\n",
        "pkg/target.py": (
            "import pkg.helpers\n@pkg.source.register\nclass Task(pkg.helpers.Base):\n    pass\n\n\n"
            "VALUE = 3\nprint(Task.registered, Task.kind)\n"
        ),
    }
    before = _run_programs(_write_tree(tmp_path / "before", files))
    after = _plan_on_index(tmp_path, files, "register", package_peers=True)
    assert after["pkg/target.py"] == (
        "import pkg.helpers\nfrom pkg.source import other\n\n\ndef register(f):\n    f.registered = other()\n    return f\n\n\n"
        "@register\nclass Task(pkg.helpers.Base):\n    pass\n\n\nVALUE = 3\nprint(Task.registered, Task.kind)\n"
    )
    assert _run_programs(_write_tree(tmp_path / "after", {**files, **after})) == before


def test_move_drops_the_targets_imports_that_served_only_the_moved_symbol(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/source.py": MODULE_USERS["pkg/source.py"] + "\n\ndef uses():\n    return Symbol(10)\n",
        "pkg/helpers.py": "class Base:\n    kind = 'base'\n",
        "pkg/target.py": (
            "from pkg import source, helpers\nimport pkg.source as src\n\nVALUE = 3\n\n\n"
            "def use():\n    return source.Symbol(1) + src.Symbol(2), helpers.Base.kind\n"
        ),
        "dep_use.py": "import pkg.source\nfrom pkg.target import use\n\nprint(use(), pkg.source.uses())\n",
    }
    before_root = _write_tree(tmp_path / "before", files)
    before = _run_alone(before_root, "dep_use")
    after = _plan_on_index(tmp_path, files, "Symbol")
    # Both bindings of the source served only Symbol: ``source`` leaves its import, ``src`` its statement.
    assert after["pkg/target.py"] == (
        "from pkg import helpers\n\nVALUE = 3\n\n\n"
        "def use():\n    return Symbol(1) + Symbol(2), helpers.Base.kind\n\n\ndef Symbol(x):\n    return x * 2\n"
    )
    # The source imports Symbol back for uses(): with the target's imports of it gone there is no cycle.
    assert after["pkg/source.py"].startswith("from pkg.target import Symbol\n")
    after_root = _write_tree(tmp_path / "after", {**files, **after})
    assert _run_alone(after_root, "dep_use") == before
    assert _run_alone(after_root, "pkg.source") == _run_alone(before_root, "pkg.source")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (  # the qualified use opens the statement: the definition goes before it, the prefix goes
            "from pkg import source\nsource.Symbol(1)\nOTHER = source.other()\nVALUE = 3\n",
            "from pkg import source\n\n\ndef Symbol(x):\n    return x * 2\n\n\n"
            "Symbol(1)\nOTHER = source.other()\nVALUE = 3\n",
        ),
        (  # the only import goes with its line: the definition opens the module
            "import pkg.source\nVALUE = pkg.source.Symbol(2) - 1\n",
            "def Symbol(x):\n    return x * 2\n\n\nVALUE = Symbol(2) - 1\n",
        ),
        (  # a class body runs at import time, a method body does not
            "from pkg.source import Symbol\n\n\nclass A:\n    x = Symbol(2)\n\n    def m(self):\n"
            "        return Symbol(3)\n\n\nVALUE = A.x + A().m() - 7\n",
            "def Symbol(x):\n    return x * 2\n\n\nclass A:\n    x = Symbol(2)\n\n    def m(self):\n"
            "        return Symbol(3)\n\n\nVALUE = A.x + A().m() - 7\n",
        ),
        (  # a function body runs when called: f() at module level needs the symbol, the def does not;
            # the function's own import goes with its line
            "VALUE = 3\n\n\ndef f():\n    from pkg.source import Symbol\n    return Symbol(1)\n\n\nf()\n",
            "VALUE = 3\n\n\ndef f():\n    return Symbol(1)\n\n\ndef Symbol(x):\n    return x * 2\n\n\nf()\n",
        ),
        (  # the comment lines right above the using statement stay with it; a blank line ends them, and
            # a comment trailing code or a "# ..." line inside a string is not one
            'from pkg.source import Symbol\nTEXT = """\n# in a string"""\n# About OTHER.\n# Two lines.\n'
            "OTHER = Symbol(1)  # trailing\nVALUE = 3\n",
            'TEXT = """\n# in a string"""\n\n\ndef Symbol(x):\n    return x * 2\n\n\n# About OTHER.\n# Two lines.\n'
            "OTHER = Symbol(1)  # trailing\nVALUE = 3\n",
        ),
        (  # a comment separated by a blank line belongs to no statement: the definition goes after it
            "from pkg.source import Symbol\nA = 1\n# Section.\n\nB = Symbol(2)\nVALUE = 3\n",
            "A = 1\n# Section.\n\n\ndef Symbol(x):\n    return x * 2\n\n\nB = Symbol(2)\nVALUE = 3\n",
        ),
        (  # never called at import time: the end, as before
            "VALUE = 3\n\n\ndef f():\n    return g()\n\n\ndef g():\n    from pkg.source import Symbol\n"
            "    return Symbol(1)\n",
            "VALUE = 3\n\n\ndef f():\n    return g()\n\n\ndef g():\n    return Symbol(1)\n\n\n"
            "def Symbol(x):\n    return x * 2\n",
        ),
    ],
)
def test_move_into_a_target_using_the_symbol_at_import_time(
    tmp_path: Path, target: str, expected: str
) -> None:
    files = {**MODULE_USERS, "pkg/target.py": target}
    before = _run_programs(_write_tree(tmp_path / "before", files))
    after = _plan_on_index(tmp_path, files, "Symbol")
    assert after["pkg/target.py"] == expected
    assert _run_programs(_write_tree(tmp_path / "after", {**files, **after})) == before


def test_move_says_when_no_place_in_the_target_works() -> None:
    source = "def helper():\n    return 2\n\n\ndef Symbol(x):\n    return x * helper()\n"
    # X needs Symbol, which needs the target's helper, defined only after X: no order of the two works.
    target = "X = Symbol(1)\n\n\ndef helper():\n    return 2\n"
    plan = plan_move(
        "Symbol",
        FileText("pkg/source.py", source),
        FileText("pkg/target.py", target),
        [],
        {}.__getitem__,
        lambda importer, imp: None,
        lambda path: True,
    )
    after = {change.path: _apply(change.text, change.replacements) for change in plan.changes}
    assert after["pkg/target.py"] == target + "\n\ndef Symbol(x):\n    return x * helper()\n"
    assert plan.notes == ["pkg/target.py: uses Symbol at import time before names it needs; moved to the end"]


def test_move_into_a_target_that_imported_the_symbol_under_another_name(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "pkg/target.py": (
            "from pkg.source import Symbol as double, other\n\nVALUE = double(1) + other() - 2\n\n\n"
            "def use():\n    return double(VALUE)\n"
        ),
        "dep_use.py": "from pkg.target import use\n\nprint(use())\n",
    }
    before = _run_programs(_write_tree(tmp_path / "before", files), ("dep_use",))
    after = _plan_on_index(tmp_path, files, "Symbol")
    # The alias's uses become the name the module now defines, the first one needing it at import time.
    assert after["pkg/target.py"] == (
        "from pkg.source import other\n\n\ndef Symbol(x):\n    return x * 2\n\n\n"
        "VALUE = Symbol(1) + other() - 2\n\n\ndef use():\n    return Symbol(VALUE)\n"
    )
    assert _run_programs(_write_tree(tmp_path / "after", {**files, **after}), ("dep_use",)) == before


def test_move_rewrites_uses_reached_through_a_package_two_levels_up(tmp_path: Path) -> None:
    files = {
        "top/__init__.py": "from top.pkg import source\n",  # ``import top`` alone reaches top.pkg.source
        "top/other.py": "LIMIT = 1\n",
        "top/pkg/__init__.py": "",
        "top/pkg/source.py": "def Symbol(x):\n    return x * 2\n\n\ndef other():\n    return 1\n",
        "top/pkg/target.py": "VALUE = 3\n",
        "use_top.py": "import top\n\nprint(top.pkg.source.Symbol(2), top.pkg.source.other())\n",
        "use_other.py": "import top.other\n\nprint(top.pkg.source.Symbol(3), top.other.LIMIT)\n",
    }
    programs = ("use_top", "use_other")
    before_root = _write_tree(tmp_path / "before", files)
    before = [_run_alone(before_root, program) for program in programs]
    after = _plan_on_index(
        tmp_path, files, "Symbol", package_peers=True, source="top/pkg/source.py", target="top/pkg/target.py"
    )
    # Neither file imports the source or a module beside it: ``import top`` / ``import top.other`` bind the
    # package two levels up, whose importers are looked at too.
    assert after["use_top.py"] == (
        "import top\nimport top.pkg.target\n\nprint(top.pkg.target.Symbol(2), top.pkg.source.other())\n"
    )
    assert after["use_other.py"] == (
        "import top.other\nimport top.pkg.target\n\nprint(top.pkg.target.Symbol(3), top.other.LIMIT)\n"
    )
    after_root = _write_tree(tmp_path / "after", {**files, **after})
    assert [_run_alone(after_root, program) for program in programs] == before


EXPORTING = {
    "pkg/__init__.py": "",
    "pkg/source.py": '__all__ = [\n    "keep",\n    "Symbol",\n]\n\n\ndef keep():\n    return 1\n\n\ndef Symbol(x):\n    return x * 2\n',
    "pkg/target.py": "__all__ = ['other']\n\n\ndef other():\n    return 3\n",
    "star_users.py": (
        "from pkg.source import *\nfrom pkg.target import *\n\nprint(keep(), other(), sorted(dir()))\n"
    ),
}


def test_a_moved_name_leaves_the_sources_all_and_joins_the_targets(tmp_path: Path) -> None:
    """A name left in the source's ``__all__`` after it moved is an export that no longer exists there:
    ``from pkg.source import *`` raised AttributeError."""
    root = tmp_path / "w"
    _write(root, EXPORTING)
    index = make_index(root, tmp_path / "cache")
    try:
        index.index()
        plan = plan_move(
            "Symbol",
            FileText("pkg/source.py", EXPORTING["pkg/source.py"]),
            FileText("pkg/target.py", EXPORTING["pkg/target.py"]),
            list(index.dependents("pkg/source.py")),
            EXPORTING.__getitem__,
            index.resolve_import,
            lambda path: (root / path).exists(),
        )
    finally:
        index.close()
    after = {change.path: _apply(change.text, change.replacements) for change in plan.changes}
    assert after["pkg/source.py"].startswith('__all__ = [\n    "keep",\n]\n')
    assert after["pkg/target.py"].startswith("__all__ = ['other', 'Symbol']\n")
    assert "def Symbol(x):" in after["pkg/target.py"]
    assert any("__all__" in note and "pkg/target.py" in note for note in plan.notes), plan.notes
    moved = _write_tree(tmp_path / "after", {**EXPORTING, **after})
    done = subprocess.run(
        [sys.executable, "star_users.py"], cwd=moved, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'Symbol'" in done.stdout and done.stdout.startswith("1 3 ")


CYCLE_FILES = {
    "app/__init__.py": "from .util import CONST, helper\n",
    "app/util.py": (
        "CONST = 3\n\n\ndef helper(x):\n    return x * CONST\n\n\ndef other():\n    return helper(2)\n"
    ),
    "app/extra.py": '"""Extra."""\n',
    "app/errors.py": "from .util import CONST\n\n\nclass Failed(Exception):\n    code = CONST\n",
    "app/files.py": (
        "from typing import TYPE_CHECKING\n\nfrom .errors import Failed\n\nif TYPE_CHECKING:\n"
        "    from .extra import Later\n\n\ndef load(path):\n    raise Failed(path)\n"
    ),
}


@pytest.mark.parametrize(
    ("symbol", "source", "target", "cycle"),
    [
        # util keeps calling helper (imports it from extra), and helper needs CONST from util.
        ("helper", "app/util.py", "app/extra.py", "app/extra.py → app/util.py → app/extra.py"),
        # The same through a module the move creates.
        ("helper", "app/util.py", "app/calc.py", "app/calc.py → app/util.py → app/calc.py"),
        # The package imports util, which would import helper from the package.
        ("helper", "app/util.py", "app/__init__.py", "app/util.py → app/__init__.py → app/util.py"),
        # load brings its import of Failed into util, and errors imports CONST from util.
        ("load", "app/files.py", "app/util.py", "app/util.py → app/errors.py → app/util.py"),
    ],
)
def test_a_move_closing_an_import_cycle_at_load_time_is_refused(
    tmp_path: Path, symbol: str, source: str, target: str, cycle: str
) -> None:
    files = dict(CYCLE_FILES)
    with pytest.raises(RefactorError, match="import each other while they load") as refused:
        _plan_on_index(tmp_path, files, symbol, source=source, target=target)
    assert cycle in str(refused.value)


def test_imports_inside_functions_and_under_type_checking_make_no_cycle(tmp_path: Path) -> None:
    files = {
        **CYCLE_FILES,
        # extra imports util only when called, or only for the type checker: util may import extra.
        "app/extra.py": (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .util import CONST\n\n\n"
            "def late():\n    from .util import other\n\n    return other()\n"
        ),
    }
    after = _plan_on_index(tmp_path, files, "other", source="app/util.py", target="app/extra.py")
    assert "def other" in after["app/extra.py"]


def test_a_comment_closing_a_rewritten_import_line_stays_on_that_line(tmp_path: Path) -> None:
    files = {
        **MODULE_USERS,
        "dep_star.py": "from pkg.source import *  # noqa: F403\n\nprint(Symbol(5), other())  # noqa: F405\n",
        "dep_both.py": ("from pkg.source import Symbol, other  # noqa: F401\n\nprint(Symbol(7), other())\n"),
    }
    after = _plan_on_index(tmp_path, files, "Symbol")
    assert after["dep_star.py"].startswith(
        "from pkg.source import *  # noqa: F403\nfrom pkg.target import Symbol\n\n"
    )
    assert after["dep_both.py"].startswith(
        "from pkg.source import other  # noqa: F401\nfrom pkg.target import Symbol\n\n"
    )


def test_move_rewrites_strings_naming_the_symbol_by_its_dotted_path(tmp_path: Path) -> None:
    patching = (
        "from unittest import mock\n\nimport pkg.source\n\n"
        'with mock.patch("pkg.source.Symbol", return_value=9), mock.patch("pkg.source.other"):\n'
        "    print(pkg.source.Symbol(1))\n\nNAMES = ('pkg.source.Symbol.__name__', \"pkg.source.Symbolic\")\n"
    )
    files = {**MODULE_USERS, "dep_patch.py": patching}
    before = _run_alone(_write_tree(tmp_path / "before", files), "dep_patch")
    after = _plan_on_index(tmp_path, files, "Symbol")
    assert (
        'mock.patch("pkg.target.Symbol", return_value=9), mock.patch("pkg.source.other")'
        in (after["dep_patch.py"])
    )
    assert "'pkg.target.Symbol.__name__', \"pkg.source.Symbolic\"" in after["dep_patch.py"]
    assert _run_alone(_write_tree(tmp_path / "after", {**files, **after}), "dep_patch") == before


def test_a_facade_star_importing_the_source_keeps_the_moved_name(tmp_path: Path) -> None:
    # ``api.py`` is only a star import: ``api.Symbol`` is reached through it, and lost with the move.
    files = {
        **MODULE_USERS,
        "pkg/api.py": "from pkg.source import *  # noqa: F403\n",
        "dep_api.py": "from pkg import api\n\nprint(api.Symbol(9), api.other())\n",
    }
    before = _run_alone(_write_tree(tmp_path / "before", files), "dep_api")
    after = _plan_on_index(tmp_path, files, "Symbol", package_peers=True)
    assert after["pkg/api.py"] == "from pkg.source import *  # noqa: F403\nfrom pkg.target import Symbol\n"
    assert _run_alone(_write_tree(tmp_path / "after", {**files, **after}), "dep_api") == before


def test_move_brings_the_imports_its_decorators_use(tmp_path: Path) -> None:
    # ``abc`` is used only on the decorator line: the target lacked the import (NameError on import).
    files = {
        **MODULE_USERS,
        "pkg/source.py": (
            "from collections import abc\n\n\n@abc.MutableMapping.register\nclass Cache:\n"
            "    def size(self):\n        return 0\n"
        ),
        "dep_cache.py": "from pkg.source import Cache\n\nprint(Cache().size())\n",
    }
    after = _plan_on_index(tmp_path, files, "Cache")
    assert after["pkg/target.py"].startswith("from collections import abc\n")
    assert _run_alone(_write_tree(tmp_path / "after", {**files, **after}), "dep_cache") == "0\n"


def test_move_refuses_a_target_importing_another_thing_of_that_name(tmp_path: Path) -> None:
    # target.py's own other() is the one from pkg.inner2: a moved def other() would silently replace it.
    files = {
        **MODULE_USERS,
        "pkg/inner2.py": "def other():\n    return 2\n",
        "pkg/target.py": "from pkg.inner2 import other\n\nVALUE = other()\n",
    }
    with pytest.raises(
        RefactorError, match=r"pkg/target.py already imports another 'other' \(from pkg.inner2\)"
    ):
        _plan_on_index(tmp_path, files, "other")
