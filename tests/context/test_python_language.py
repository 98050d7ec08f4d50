"""The Python language module on its own: extraction and import resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter
from index_support import index_with_definitions

from roost.context.facts import Import, ImportedName, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.languages.python import LANGUAGE as PYTHON
from roost.context.layout import FileSetLayout
from roost.context.options import IndexOptions

SOURCE = b'''"""Module doc."""
import os.path, numpy as np
from . import sibling
from ..pkg.mod import a as b, c
from x import *
from __future__ import annotations

__all__ = ["Shape", "b"]
__all__ += ["helper"]
TIMEOUT: float = 3.0

if True:
    PLATFORM = "posix"


class Shape(Base, metaclass=Meta):
    """A shape.

    Second line."""

    sides = 3

    def __init__(self, name):
        self.name = name
        self.name = "again"

    @property
    def area(self, scale: float = 1.0) -> float:
        \'\'\'Area.\'\'\'
        return self.sides * os.path.join(x)


def helper(x,
           y):
    def inner():
        pass
    return Shape(x).area
'''


def extract(path: str, source: bytes):
    tree = tree_sitter.Parser(PYTHON.ts_language(path)).parse(source)
    return PYTHON.extract(path, source, tree)


def test_registered_for_py_and_pyi():
    assert language_for_path("a/b.py") is PYTHON
    assert language_for_path("a/b.pyi") is PYTHON


def test_definitions_kinds_parents_signatures_docs():
    facts = extract("pkg/mod.py", SOURCE)
    by_name = {d.qualified_name: d for d in facts.definitions}
    assert list(by_name) == [
        "__all__",
        "TIMEOUT",
        "PLATFORM",
        "Shape",
        "Shape.sides",
        "Shape.__init__",
        "Shape.name",
        "Shape.area",
        "helper",
        "helper.inner",
    ]
    shape = by_name["Shape"]
    assert shape.kind is SymbolKind.CLASS
    assert shape.signature == "class Shape(Base, metaclass=Meta):"
    assert shape.doc == "A shape.\n\nSecond line."
    assert shape.name_span == Span(15, 6, 15, 11)
    assert by_name["Shape.area"].kind is SymbolKind.METHOD
    assert by_name["Shape.area"].signature == "def area(self, scale: float = 1.0) -> float:"
    assert by_name["Shape.area"].doc == "Area."
    assert by_name["Shape.area"].parent == "Shape"
    assert by_name["Shape.sides"].kind is SymbolKind.FIELD
    assert by_name["Shape.name"].kind is SymbolKind.FIELD
    assert by_name["Shape.name"].signature == "self.name = name"  # the first assignment wins
    assert by_name["TIMEOUT"].kind is SymbolKind.CONSTANT
    assert by_name["TIMEOUT"].signature == "TIMEOUT: float = 3.0"
    assert by_name["helper"].signature == "def helper(x,\n           y):"
    assert by_name["helper.inner"].kind is SymbolKind.FUNCTION
    assert by_name["helper.inner"].parent == "helper"


def test_imports():
    facts = extract("pkg/mod.py", SOURCE)
    assert [(i.module, i.names, i.alias, i.is_star) for i in facts.imports] == [
        ("os.path", (), None, False),
        ("numpy", (), "np", False),
        (".", (ImportedName("sibling"),), None, False),
        ("..pkg.mod", (ImportedName("a", "b"), ImportedName("c")), None, False),
        ("x", (), None, True),
        ("__future__", (ImportedName("annotations"),), None, False),
    ]
    assert PYTHON.bound_name(facts.imports[0]) == "os"
    assert PYTHON.bound_name(facts.imports[1]) == "np"
    assert PYTHON.bound_name(facts.imports[2]) is None


def test_all_with_augmented_assignment_and_reexport_origin():
    facts = extract("pkg/mod.py", SOURCE)
    assert [(e.name, e.from_module, e.original_name) for e in facts.exports] == [
        ("Shape", None, None),
        ("b", "..pkg.mod", "a"),
        ("helper", None, None),
    ]


def test_init_without_all_reexports_public_from_imports():
    source = b"from .core import Engine, _private\nfrom .util import helper as public_helper\nimport json\n"
    facts = extract("pkg/__init__.py", source)
    assert [(e.name, e.from_module, e.original_name) for e in facts.exports] == [
        ("Engine", ".core", "Engine"),
        ("public_helper", ".util", "helper"),
    ]
    assert extract("pkg/other.py", source).exports == []


def test_references_with_receivers():
    facts = extract("pkg/mod.py", SOURCE)
    refs = [(r.name, r.receiver) for r in facts.references if r.span.start_line == 29]
    assert refs == [
        ("self", None),
        ("sides", "self"),
        ("os", None),
        ("path", "os"),
        ("join", "os.path"),
        ("x", None),
    ]
    assert ("area", "Shape(x)") in [(r.name, r.receiver) for r in facts.references]


def test_outline_has_no_references_and_references_are_sorted():
    tree = tree_sitter.Parser(PYTHON.ts_language("m.py")).parse(SOURCE)
    assert PYTHON.extract_outline("m.py", SOURCE, tree).references == []
    refs = PYTHON.extract_references("m.py", SOURCE, tree)
    assert refs == sorted(refs, key=lambda r: (r.span.start_line, r.span.start_col))


def test_broken_and_odd_sources_do_not_raise():
    for source in (
        b"def broken(:\n  pass\nclass\n",
        b"",
        b"\xff\xfe garbage \x00",
        b"class A:\n    pass\n" * 3,
    ):
        extract("m.py", source)


LAYOUT_FILES = [
    "app/__init__.py",
    "app/core.py",
    "app/sub/__init__.py",
    "app/sub/leaf.py",
    "src/lib/__init__.py",
    "src/lib/tools.py",
    "vendor/extra/thing.py",
    "scripts/run.py",
    "scripts/helper_mod.py",
    "plain.py",
    "nsp/mod.py",
]


@pytest.fixture
def layout(tmp_path: Path) -> FileSetLayout:
    return FileSetLayout(tmp_path, LAYOUT_FILES, IndexOptions(python_roots=("vendor",)))


def resolve(layout, importer: str, module: str, *names: str, star: bool = False, alias: str | None = None):
    imp = Import(module, Span(0, 0, 0, 0), tuple(ImportedName(n) for n in names), alias, star)
    return PYTHON.resolve_import(imp, importer, layout)


@pytest.mark.parametrize(
    ("importer", "module", "names", "paths", "external"),
    [
        ("app/core.py", "app.sub.leaf", (), ("app/sub/leaf.py",), False),
        ("app/core.py", "app.sub", (), ("app/sub/__init__.py",), False),
        ("plain.py", "lib.tools", (), ("src/lib/tools.py",), False),  # src/ layout
        ("plain.py", "extra.thing", (), ("vendor/extra/thing.py",), False),  # configured root
        ("scripts/run.py", "helper_mod", (), ("scripts/helper_mod.py",), False),  # script directory
        ("app/core.py", ".sub.leaf", (), ("app/sub/leaf.py",), False),
        ("app/sub/leaf.py", "..core", (), ("app/core.py",), False),
        ("app/sub/leaf.py", ".", ("leaf",), ("app/sub/__init__.py", "app/sub/leaf.py"), False),
        (
            "app/core.py",
            "app",
            ("sub", "core", "missing"),
            ("app/__init__.py", "app/sub/__init__.py", "app/core.py"),
            False,
        ),
        ("app/core.py", "numpy", (), (), True),
        ("app/core.py", "app.nothing", (), (), False),  # ours, but missing: unresolved, not external
        ("app/sub/leaf.py", "....too.far", (), (), False),
        ("plain.py", "nsp.mod", (), ("nsp/mod.py",), False),  # namespace package
        ("plain.py", "plain.attr", (), ("plain.py",), False),  # `import os.path` style
    ],
)
def test_resolution(layout, importer, module, names, paths, external):
    resolved = resolve(layout, importer, module, *names)
    assert resolved.paths == paths
    assert resolved.external is external


def test_from_package_import_submodule_records_name_paths(layout):
    resolved = resolve(layout, "plain.py", "app", "sub", "core")
    assert resolved.path_for_name("sub") == "app/sub/__init__.py"
    assert resolved.path_for_name("core") == "app/core.py"
    assert resolved.path_for_name("other") is None


def test_encoded_fast_path_equals_outline_on_stdlib_sample():
    import marshal
    import sysconfig

    from roost.context.codec import decode_facts, encode_facts

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sample = [
        "dataclasses.py",
        "json/decoder.py",
        "unittest/case.py",
        "email/__init__.py",
        "typing.py",
        "os.py",
    ]
    for name in sample:
        source = (stdlib / name).read_bytes()
        tree = tree_sitter.Parser(PYTHON.ts_language(name)).parse(source)
        blob, imports, count = PYTHON.extract_outline_encoded(name, source, tree)
        facts = PYTHON.extract_outline(name, source, tree)
        # marshal's bytes depend on object identity (back-references), so compare what they decode to.
        assert marshal.loads(blob) == marshal.loads(encode_facts(facts)), name
        assert decode_facts(blob) == facts
        assert imports == facts.imports and count == len(facts.definitions)


def test_project_name_maps_onto_package_dir_folders(tmp_path):
    # setuptools package_dir: the "acme" distribution installs folder core/ as acme.core.
    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = []\n\n[project]\nname = "acme"\n')
    layout = FileSetLayout(tmp_path, ["core/__init__.py", "core/engine.py", "app/main.py"], IndexOptions())
    assert resolve(layout, "app/main.py", "acme.core.engine").paths == ("core/engine.py",)
    assert resolve(layout, "app/main.py", "acme.core", "engine").path_for_name("engine") == "core/engine.py"
    assert resolve(layout, "app/main.py", "acme.nothing").external
    assert resolve(layout, "app/main.py", "other.core.engine").external


# ----------------------------------------------------------------- declared types of parameters and locals

DECLARED = {
    "store.py": (
        "class Store:\n    def save(self):\n        return 1\n\n\n"
        "# The same method name: a guess by name finds it too.\n"
        "class Cache:\n    def save(self):\n        return 2\n"
    ),
    "app.py": (
        "from typing import Optional\n\nimport store as stores\nfrom store import Cache, Store\n\n"
        "top: Cache = Cache()\ntop.save()  # module level\n\n\n"
        "def f(store: Store):\n    store.save()  # parameter\n\n\n"
        "def g(a: 'Store', b: Optional[Store] = None, c: Store | None = None, d: stores.Cache = None):\n"
        "    a.save()  # string\n    b.save()  # optional\n    c.save()  # union with None\n"
        "    d.save()  # qualified\n\n\n"
        "def h():\n    s: Store = make()\n    s.save()  # annotated local\n\n\n"
        "def k(store: Store, items: list[Store]):\n"
        "    items.save()  # a list of Store is no Store\n"
        "    for store in caches():\n        store.save()  # rebound by the loop\n\n\n"
        "class Holder:\n    value: Cache\n\n    def m(self, value: Store):\n        value.save()  # not the field\n"
    ),
}


def test_declared_types_of_parameters_and_locals(tmp_path: Path) -> None:
    index, definitions = index_with_definitions(tmp_path, DECLARED)
    store, cache = ("store.py", "Store.save"), ("store.py", "Cache.save")
    try:
        for comment in (
            "parameter",
            "string",
            "optional",
            "union with None",
            "annotated local",
            "not the field",
        ):
            assert definitions("app.py", f"save()  # {comment}") == {store}, comment
        assert definitions("app.py", "save()  # qualified") == {cache}
        # No declared class: the hook says nothing and the guess by name holds (both classes).
        assert definitions("app.py", "save()  # rebound by the loop") == {store, cache}
        # Module level: no parameter or local, the hook says nothing; the constructor assignment types it.
        assert definitions("app.py", "save()  # module level") == {cache}
        lines = DECLARED["app.py"].splitlines()
        row = next(i for i, line in enumerate(lines) if "# module level" in line)
        assert PYTHON.declared_type("app.py", DECLARED["app.py"].encode(), "top", (row, 0)) is None
        row = next(i for i, line in enumerate(lines) if "a list of Store" in line)
        assert PYTHON.declared_type("app.py", DECLARED["app.py"].encode(), "items", (row, 4)) is None
        # ``except … as`` and ``with … as`` rebind a name: untyped there, the parameter's type before.
        rebinding = b"def f(err: Store):\n    err.x()\n    try:\n        pass\n    except E as err:\n        err.x()\n"
        assert PYTHON.declared_type("r.py", rebinding, "err", (1, 4)) == "Store"
        assert PYTHON.declared_type("r.py", rebinding, "err", (5, 8)) is None
        rebinding = b"def f(fh: Store):\n    with open() as fh:\n        fh.x()\n"
        assert PYTHON.declared_type("r.py", rebinding, "fh", (2, 8)) is None
    finally:
        index.close()


FIELDS = {
    "store.py": DECLARED["store.py"],
    "service.py": (
        "from store import Cache, Store\n\n\n"
        "class Service:\n"
        "    cache: Cache\n"
        "    backup: 'Store | None' = None\n\n"
        "    def __init__(self, store: Store, name):\n"
        "        self.store = store\n"
        "        self.name = name\n"
        "        self.made = Cache()\n\n"
        "    def run(self):\n"
        "        self.store.save()  # typed parameter assigned\n"
        "        self.cache.save()  # class annotation\n"
        "        self.made.save()  # constructor\n"
        "        self.name.save()  # untyped parameter\n"
    ),
}


def test_fields_typed_by_annotations_and_typed_parameters(tmp_path: Path) -> None:
    index, definitions = index_with_definitions(tmp_path, FIELDS)
    store, cache = ("store.py", "Store.save"), ("store.py", "Cache.save")
    try:
        assert definitions("service.py", "save()  # typed parameter assigned") == {store}
        assert definitions("service.py", "save()  # class annotation") == {cache}
        assert definitions("service.py", "save()  # constructor") == {cache}  # as before: ``= Cache()``
        assert definitions("service.py", "save()  # untyped parameter") == {
            store,
            cache,
        }  # nothing known: by name
    finally:
        index.close()
