"""Go extraction and resolution against ``tests/context/fixtures/go`` (go.mod module path, a local
``replace``, two packages, a test file)."""

from __future__ import annotations

import pytest
from index_support import index_with_definitions
from langtest_support import FIXTURES, definitions_by_qualified_name, extract_file, import_for, resolve

from roost.context.facts import Import, ResolvedImport, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.languages.go import go_package_name, parse_go_mod, parse_go_work

ROOT = FIXTURES / "go"


@pytest.fixture(scope="module")
def store():
    return extract_file(ROOT, "store/store.go")


@pytest.fixture(scope="module")
def main():
    return extract_file(ROOT, "main.go")


def test_package_clause(store, main) -> None:
    assert store.package == "store"
    assert main.package == "main"
    assert extract_file(ROOT, "store/models/item.go").package == "models"


def test_definitions_with_docs(store) -> None:
    defs = definitions_by_qualified_name(store)
    assert {name: d.kind for name, d in defs.items()} == {
        "MaxItems": SymbolKind.CONSTANT,
        "ErrFull": SymbolKind.VARIABLE,
        "Store": SymbolKind.STRUCT,
        "Store.items": SymbolKind.FIELD,
        "New": SymbolKind.FUNCTION,
        "Store.Add": SymbolKind.METHOD,
    }
    add = defs["Store.Add"]
    assert add.signature == "func (s *Store) Add(item models.Item) error"
    assert add.doc == "Add appends an item unless the store is full."
    assert add.parent == "Store"
    assert add.name_span == Span(27, 16, 27, 19)
    assert defs["Store"].signature == "type Store struct"
    assert defs["Store"].doc == "Store holds items."
    assert defs["Store.items"].doc == "items in insertion order"
    assert defs["MaxItems"].signature == "const MaxItems = 100"
    assert defs["ErrFull"].signature == 'var ErrFull = errors.New("store full")'
    assert defs["New"].signature == "func New() *Store"


def test_types_interfaces_aliases_and_grouped_consts() -> None:
    facts = extract_file(ROOT, "store/models/item.go")
    defs = definitions_by_qualified_name(facts)
    assert defs["Item"].kind is SymbolKind.STRUCT
    assert defs["Item.Price"].kind is SymbolKind.FIELD
    assert defs["Pricer"].kind is SymbolKind.INTERFACE
    assert defs["Pricer"].signature == "type Pricer interface"
    assert defs["Pricer.Price"].kind is SymbolKind.METHOD
    assert defs["ID"].kind is SymbolKind.TYPE and defs["ID"].signature == "type ID = int"
    # ``Small, Large = 1, 2`` declares two constants, siblings (not nested), sharing the group's comment.
    assert defs["Small"].parent is None and defs["Large"].parent is None
    assert defs["Large"].kind is SymbolKind.CONSTANT
    assert defs["Small"].doc == "Small is a size."


def test_imports_with_aliases(main) -> None:
    assert [(imp.module, imp.alias) for imp in main.imports] == [
        ("fmt", None),
        ("example.com/inventory/store", None),
        ("example.com/inventory/store/models", "m"),
        ("example.com/shared/util", None),
        ("github.com/google/uuid", None),
    ]


def test_dot_and_blank_imports(tmp_path) -> None:
    (tmp_path / "x.go").write_text('package x\n\nimport (\n\t. "strings"\n\t_ "embed"\n)\n')
    facts = extract_file(tmp_path, "x.go")
    dot, blank = facts.imports
    assert dot.is_star and dot.module == "strings"
    assert blank.alias == "_"
    language = language_for_path("x.go")
    assert language.bound_name(dot) is None and language.bound_name(blank) is None


def test_references_with_package_receivers(main) -> None:
    uses = {(ref.name, ref.receiver) for ref in main.references}
    assert ("New", "store") in uses
    assert ("Item", "m") in uses
    assert ("Upper", "util") in uses


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("example.com/inventory/store", ("store/store.go",)),  # _test.go excluded for a non-test importer
        ("example.com/inventory/store/models", ("store/models/item.go",)),
        ("example.com/shared/util", ("third/shared/util/util.go",)),  # local replace directive
    ],
)
def test_module_resolution(main, module: str, expected: tuple[str, ...]) -> None:
    result = resolve(ROOT, "main.go", import_for(main, module))
    assert result.paths == expected and not result.external


@pytest.mark.parametrize("module", ["fmt", "github.com/google/uuid"])
def test_stdlib_and_third_party_are_external(main, module: str) -> None:
    result = resolve(ROOT, "main.go", import_for(main, module))
    assert result.external and result.paths == ()


def test_test_importer_sees_test_files() -> None:
    facts = extract_file(ROOT, "store/store_test.go")
    result = resolve(ROOT, "store/store_test.go", import_for(facts, "example.com/inventory/store"))
    assert result.paths == ("store/store.go", "store/store_test.go")


def test_missing_package_inside_module_is_unresolved() -> None:
    result = resolve(ROOT, "main.go", Import("example.com/inventory/nope", Span(0, 0, 0, 0)))
    assert result.paths == () and not result.external


def test_bound_name_is_the_package_name(main) -> None:
    language = language_for_path("main.go")
    assert language.bound_name(import_for(main, "example.com/inventory/store")) == "store"
    assert language.bound_name(import_for(main, "example.com/inventory/store/models")) == "m"
    assert go_package_name("github.com/x/y/v2") == "y"
    assert go_package_name("gopkg.in/yaml.v3") == "yaml"


def test_go_mod_parsing() -> None:
    raw = "module example.com/a // the module\n\nreplace (\n\texample.com/b v1.0.0 => ../b\n\texample.com/c => github.com/c v1\n)\n"
    assert parse_go_mod(raw) == ("example.com/a", (("example.com/b", "../b"),))


def test_go_work_workspace_modules(tmp_path) -> None:
    files = {
        "go.work": "go 1.22\n\nuse (\n\t./app\n\t./lib // shared code\n)\nuse ./tools\n",
        "app/go.mod": "module example.com/app\n",
        "app/main.go": 'package main\n\nimport "example.com/lib/text"\n',
        "lib/go.mod": "module example.com/lib\n",
        "lib/text/text.go": "package text\n",
        "tools/go.mod": "module example.com/tools\n",
    }
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    assert parse_go_work(files["go.work"]) == ("./app", "./lib", "./tools")
    facts = extract_file(tmp_path, "app/main.go")
    assert resolve(tmp_path, "app/main.go", facts.imports[0]).paths == ("lib/text/text.go",)
    missing = Import("example.com/lib/nope", Span(0, 0, 0, 0))
    assert resolve(tmp_path, "app/main.go", missing) == ResolvedImport()
    assert resolve(tmp_path, "app/main.go", Import("example.com/other", Span(0, 0, 0, 0))).external


def test_vendored_package(tmp_path) -> None:
    (tmp_path / "vendor" / "github.com" / "x" / "y").mkdir(parents=True)
    (tmp_path / "vendor" / "github.com" / "x" / "y" / "y.go").write_text("package y\n")
    (tmp_path / "go.mod").write_text("module example.com/m\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "github.com/x/y"\n')
    facts = extract_file(tmp_path, "main.go")
    assert resolve(tmp_path, "main.go", facts.imports[0]).paths == ("vendor/github.com/x/y/y.go",)


def test_capitalised_top_level_names_are_exports(store) -> None:
    assert [e.name for e in store.exports] == ["MaxItems", "ErrFull", "Store", "New"]
    # Methods and fields are reached through their type, not exported by the file.
    assert all(e.from_module is None for e in store.exports)


# ------------------------------------------------------------------------- keys of struct composite literals

KEYED = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "cfg/config.go": (
        "package cfg\n\n"
        "// Config is the app's configuration.\n"
        "type Config struct {\n\tName string\n\tSize int\n}\n\n"
        "type Box[T any] struct {\n\tValue T\n}\n"
    ),
    "cfg/defaults.go": (
        "package cfg\n\n"
        'var Name = "top-level, not the field"\n\n'
        "func Default() Config {\n\treturn Config{Name: Name, Size: 1}\n}\n"
    ),
    "main.go": (
        "package main\n\n"
        'import "example.com/app/cfg"\n\n'
        "func main() {\n"
        '\tc := cfg.Config{Name: "y"}\n'
        "\tall := []cfg.Config{{Size: 2}}\n"
        "\tb := cfg.Box[int]{Value: 3}\n"
        "\tm := map[string]int{key: 1}\n"
        "\t_, _, _, _ = c, all, b, m\n"
        "}\n\n"
        'var key = "k"\n'
    ),
}


def test_composite_literal_keys_are_struct_fields(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, KEYED)
    config = "cfg/config.go"
    try:
        # Same package, other file; the value ``Name`` stays the package-level variable.
        assert definitions("cfg/defaults.go", "Name: Name") == {(config, "Config.Name")}
        assert definitions("cfg/defaults.go", "Name: Name", len("Name: ")) == {("cfg/defaults.go", "Name")}
        assert definitions("cfg/defaults.go", "Size: 1") == {(config, "Config.Size")}
        # An imported package's type, an elided element type, a generic type.
        assert definitions("main.go", 'Name: "y"') == {(config, "Config.Name")}
        assert definitions("main.go", "Size: 2") == {(config, "Config.Size")}
        assert definitions("main.go", "Value: 3") == {(config, "Box.Value")}
        # Map literal keys are expressions: the variable, not a field.
        assert definitions("main.go", "key: 1") == {("main.go", "key")}
        # Find references of the field sees the keyed uses.
        uses = {(r.path, r.span.start_line) for r in index.references_to(config, "Config.Name")}
        assert uses == {("cfg/defaults.go", 5), ("main.go", 5)}
    finally:
        index.close()


EMBEDDING = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "audit/log.go": "package audit\n\ntype Log struct {\n\tEntries []string\n}\n\nfunc (l *Log) Record() {}\n",
    "shop/base.go": "package shop\n\ntype Base struct {\n\tID int\n}\n\nfunc (b *Base) Touch() {}\n",
    "shop/item.go": (
        "package shop\n\n"
        'import "example.com/app/audit"\n\n'
        "type Item struct {\n"
        "\tBase\n"
        '\t*audit.Log `json:"log"`\n'
        "\tName string\n"
        "}\n\n"
        "func (i *Item) Save() {\n"
        "\ti.Touch()\n"
        "\ti.ID = 2\n"
        "\ti.Record()\n"
        "\t_ = i.Base\n"
        "\ti.Missing()\n"
        "}\n"
    ),
    "main.go": (
        "package main\n\n"
        'import "example.com/app/shop"\n\n'
        "func main() {\n"
        "\tit := shop.Item{Base: shop.Base{ID: 1}}\n"
        "\tit.Touch()\n"
        "}\n"
    ),
}


def test_embedded_fields_promote_their_members(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, EMBEDDING)
    item = "shop/item.go"
    try:
        # Embedded fields are fields named by their type.
        assert [
            (d.qualified_name, d.signature)
            for d in index.symbols(item)
            if d.parent == "Item" and d.kind == "field"
        ] == [
            ("Item.Base", "Base"),
            ("Item.Log", '*audit.Log `json:"log"`'),
            ("Item.Name", "Name string"),
        ]
        # Promoted methods and fields: same package, and through an imported package's type.
        assert definitions(item, "i.Touch", len("i.")) == {("shop/base.go", "Base.Touch")}
        assert definitions(item, "i.ID", len("i.")) == {("shop/base.go", "Base.ID")}
        assert definitions(item, "i.Record", len("i.")) == {("audit/log.go", "Log.Record")}
        assert definitions(item, "i.Base", len("i.")) == {(item, "Item.Base")}
        assert definitions(item, "i.Missing", len("i.")) == set()
        # From another package: the embedded field as a literal key, and a promoted method.
        assert definitions("main.go", "Base:") == {(item, "Item.Base")}
        assert definitions("main.go", "ID: 1") == {("shop/base.go", "Base.ID")}
        assert definitions("main.go", "it.Touch", len("it.")) == {("shop/base.go", "Base.Touch")}
    finally:
        index.close()


# ------------------------------------------------------------------------------------- interface embedding

INTERFACES = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "iox/iox.go": (
        "package iox\n\n"
        "type Reader interface {\n\tRead(p []byte) (int, error)\n}\n\n"
        "type Writer interface {\n\tWrite(p []byte) (int, error)\n}\n"
    ),
    "stream/stream.go": (
        "package stream\n\n"
        'import "example.com/app/iox"\n\n'
        "type Closer interface{ Close() error }\n\n"
        "type ReadWriter interface {\n\tiox.Reader\n\tiox.Writer\n}\n\n"
        "type ReadWriteCloser interface {\n\tReadWriter\n\tCloser\n\tFlush() error\n}\n\n"
        "type Number interface {\n\t~int | ~float64\n}\n\n"
        "// File has methods named like the interfaces': a guess by name would find them too.\n"
        "type File struct{}\n\n"
        "func (f *File) Read(p []byte) (int, error) { return 0, nil }\n\n"
        "func (f *File) Close() error { return nil }\n\n"
        "type logged struct {\n\tReadWriteCloser\n}\n\n"
        "func (l *logged) Sync() {\n\tl.Read(nil)\n\tl.Write(nil)\n\tl.Close()\n\tl.Flush()\n\tl.Missing()\n}\n\n"
        "func wrap() {\n\tw := logged{}\n\tw.Read(nil)\n}\n"
    ),
}


def test_embedded_interfaces_promote_their_methods(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, INTERFACES)
    stream = "stream/stream.go"
    try:
        # Interface methods are definitions of their interface; the embedded types are in the signature.
        assert {
            (d.qualified_name, d.kind, d.signature, d.parent)
            for d in index.symbols(stream)
            if d.kind == "interface" or d.parent in ("Closer", "ReadWriteCloser")
        } == {
            ("Closer", SymbolKind.INTERFACE, "type Closer interface", None),
            ("Closer.Close", SymbolKind.METHOD, "Close() error", "Closer"),
            (
                "ReadWriter",
                SymbolKind.INTERFACE,
                "type ReadWriter interface { iox.Reader; iox.Writer }",
                None,
            ),
            (
                "ReadWriteCloser",
                SymbolKind.INTERFACE,
                "type ReadWriteCloser interface { ReadWriter; Closer }",
                None,
            ),
            ("ReadWriteCloser.Flush", SymbolKind.METHOD, "Flush() error", "ReadWriteCloser"),
            # A constraint's union embeds no interface.
            ("Number", SymbolKind.INTERFACE, "type Number interface", None),
        }
        # The struct embeds ReadWriteCloser, which embeds ReadWriter (embedding two interfaces of another
        # package) and Closer: each method lands on its interface, never on File's same-named methods.
        assert definitions(stream, "l.Read", len("l.")) == {("iox/iox.go", "Reader.Read")}
        assert definitions(stream, "l.Write", len("l.")) == {("iox/iox.go", "Writer.Write")}
        assert definitions(stream, "l.Close", len("l.")) == {(stream, "Closer.Close")}
        assert definitions(stream, "l.Flush", len("l.")) == {(stream, "ReadWriteCloser.Flush")}
        assert definitions(stream, "w.Read", len("w.")) == {("iox/iox.go", "Reader.Read")}
        assert definitions(stream, "l.Missing", len("l.")) == set()
        # The embedding itself names the other package's interface.
        assert definitions(stream, "iox.Reader", len("iox.")) == {("iox/iox.go", "Reader")}
    finally:
        index.close()


def test_base_names_of_an_interface_are_its_embedded_types(tmp_path) -> None:
    (tmp_path / "x.go").write_text(
        "package x\n\n"
        "type Set[T comparable] interface {\n\tBox[map[string]T]\n\tio.Reader // reads\n\t~int | string\n\tLen() int\n}\n"
    )
    facts = extract_file(tmp_path, "x.go")
    defs = definitions_by_qualified_name(facts)
    assert defs["Set"].signature == "type Set[T comparable] interface { Box[map[string]T]; io.Reader }"
    assert defs["Set.Len"].parent == "Set"
    language = language_for_path("x.go")
    members = [d for d in facts.definitions if d.parent == "Set"]
    assert language.base_names(defs["Set"], members) == ["Box", "io.Reader"]


# ------------------------------------------------------------------------ local names are not package names

# Every function binds ``v`` (and ``k``) its own way; the workspace has packages named ``v`` and ``k``.
LOCALS = (
    "package a\n\n"
    "func typeSwitch(x any) {\n\tswitch v := x.(type) {\n\tcase int:\n\t\t_ = v.Name\n\t}\n}\n\n"
    "func ranged(m map[int]int) {\n\tfor k, v := range m {\n\t\t_ = k.Name + v.Name\n\t}\n}\n\n"
    "func literal() {\n\tg := func(k, v int) {\n\t\t_ = k.Name + v.Name\n\t}\n\t_ = g\n}\n\n"
    "func variadic() {\n\t_ = func(v ...int) { _ = v.Name }\n}\n\n"
    "func results() (k, v int) {\n\t_ = k.Name + v.Name\n\treturn\n}\n\n"
    "type T struct{}\n\nfunc (v T) receiver() { _ = v.Name }\n\n"
    "func selected(ch chan int) {\n\tselect {\n\tcase v := <-ch:\n\t\t_ = v.Name\n\t}\n}\n\n"
    "func declared() {\n\tconst k = 1\n\tvar v int\n\t_ = k.Name + v.Name\n}\n\n"
    "// Here ``v`` is the package (a comment saying v := 1 binds nothing).\n"
    "func usesPackage(f func(v int)) {\n\t_ = v.Name\n}\n"
)


def test_local_names_are_never_offered_an_import(tmp_path) -> None:
    from roost.context.languages.base import ImportCandidate
    from roost.context.refactor.package_imports import missing_package_imports

    files = {
        "go.mod": "module example.com/app\n\ngo 1.22\n",
        "v/v.go": "package v\n\nconst Name = 1\n",
        "k/k.go": "package k\n\nconst Name = 1\n",
        "a/a.go": LOCALS,
    }
    index, _ = index_with_definitions(tmp_path, files)
    try:
        lines = LOCALS.splitlines()
        package_use = lines.index("func usesPackage(f func(v int)) {") + 1
        assert lines[package_use] == "\t_ = v.Name"
        # Above usesPackage every ``v``/``k`` is bound locally: nothing to import.
        assert missing_package_imports(index, "a/a.go", LOCALS, 0, package_use - 1) == []
        # In usesPackage ``v`` is the package, though other functions (and a comment) bind a ``v``.
        assert missing_package_imports(index, "a/a.go", LOCALS, 0, len(lines)) == [
            ImportCandidate("v", "example.com/app/v", "v/v.go")
        ]
    finally:
        index.close()


def test_local_names_of_a_go_file() -> None:
    language = language_for_path("a.go")
    assert language.local_names("a/a.go", LOCALS) == {"x", "v", "m", "k", "g", "ch", "f"}
    # Top-level names and the parameter names of function types bind nothing below the top level.
    source = "package a\n\nvar top = 1\n\ntype F func(unused int)\n\nfunc f(g func(alsoUnused int)) {}\n"
    assert language.local_names("a/a.go", source) == {"g"}


# ----------------------------------------------------------------- declared types of parameters and locals

DECLARED = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "iox/iox.go": "package iox\n\ntype Reader interface {\n\tRead(p []byte) (int, error)\n}\n",
    "cfg/config.go": "package cfg\n\ntype Config struct {\n\tName string\n}\n",
    "app/types.go": (
        "package app\n\n"
        'import "example.com/app/iox"\n\n'
        "type ReadWriter interface {\n\tiox.Reader\n\tWrite(p []byte) (int, error)\n}\n\n"
        "type Local struct {\n\tName string\n}\n\n"
        "type Other struct {\n\tName string\n}\n\n"
        "// File's method is named like the interface's: a guess by name finds it too.\n"
        "type File struct{}\n\n"
        "func (f *File) Read(p []byte) (int, error) { return 0, nil }\n"
    ),
    "app/use.go": (
        "package app\n\n"
        'import "example.com/app/cfg"\n\n'
        "var current Local\n\n"
        "func use(rw ReadWriter, c *cfg.Config, o Other) {\n"
        "\trw.Read(nil)\n"
        '\tc.Name = "x"\n'
        "\tvar l Local\n"
        "\t_ = l.Name\n"
        "\tif rw != nil {\n"
        "\t\to := &Local{}\n"
        "\t\t_ = o.Name // shadowed\n"
        "\t}\n"
        "\t_ = o.Name // the parameter\n"
        "\t_ = current.Name\n"
        "}\n"
    ),
}


def test_declared_types_of_parameters_and_locals(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, DECLARED)
    use, types = "app/use.go", "app/types.go"
    try:
        # A parameter's interface type: the method comes from the interface it embeds, never File's.
        assert definitions(use, "rw.Read", len("rw.")) == {("iox/iox.go", "Reader.Read")}
        # A pointer to another package's struct; a ``var`` of a struct.
        assert definitions(use, "c.Name", len("c.")) == {("cfg/config.go", "Config.Name")}
        assert definitions(use, "l.Name", len("l.")) == {(types, "Local.Name")}
        # A local declared in an inner block shadows the parameter there, and only there.
        assert definitions(use, "o.Name // shadowed", len("o.")) == {(types, "Local.Name")}
        assert definitions(use, "o.Name // the parameter", len("o.")) == {(types, "Other.Name")}
        # A package-level variable is no parameter or local: ``declared_type`` says nothing, ``field_type``
        # reads its ``var current Local``.
        language = language_for_path(use)
        lines = DECLARED[use].splitlines()
        row = next(i for i, line in enumerate(lines) if "current.Name" in line)
        source = DECLARED[use].encode()
        assert language.declared_type(use, source, "current", (row, lines[row].index("current"))) is None
        assert definitions(use, "current.Name", len("current.")) == {(types, "Local.Name")}
    finally:
        index.close()


# ------------------------------------------------------------------------- declared types of struct fields

FIELDS = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "remote/remote.go": "package remote\n\ntype Store struct{}\n\nfunc (s *Store) Save() {}\n",
    "app/types.go": (
        "package app\n\n"
        "type Store struct{}\n\nfunc (s *Store) Save() {}\n\n"
        "// Same method name: a guess by name finds it too.\n"
        "type Cache struct{}\n\nfunc (c *Cache) Save() {}\n"
    ),
    "app/service.go": (
        "package app\n\n"
        'import "example.com/app/remote"\n\n'
        "type Service struct {\n"
        "\tstore *Store\n"
        "\tcache, spare Cache\n"
        "\tfar *remote.Store\n"
        "\tbackend interface{ Save() }\n"
        "}\n\n"
        "var (\n\tshared *Cache\n)\n\n"
        "func (s *Service) Run() {\n"
        "\ts.store.Save() // pointer field\n"
        "\ts.spare.Save() // second name of a field list\n"
        "\ts.far.Save() // another package's type\n"
        "\tshared.Save() // package-level var\n"
        "\ts.backend.Save() // no named type\n"
        "}\n"
    ),
}


def test_declared_types_of_struct_fields(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, FIELDS)
    service, types = "app/service.go", "app/types.go"
    store, cache, far = (types, "Store.Save"), (types, "Cache.Save"), ("remote/remote.go", "Store.Save")
    try:
        assert definitions(service, "Save() // pointer field") == {store}
        assert definitions(service, "Save() // second name") == {cache}
        assert definitions(service, "Save() // another package") == {far}
        assert definitions(service, "Save() // package-level var") == {cache}
        # An anonymous interface names no type: the guess by name, as before (its own method included).
        assert definitions(service, "Save() // no named type") == {
            store,
            cache,
            far,
            (service, "Service.backend.Save"),
        }
    finally:
        index.close()
