"""TypeScript/TSX extraction and resolution against ``tests/context/fixtures/typescript`` (tsconfig with
``extends``, ``baseUrl``, ``paths``, comments and trailing commas)."""

from __future__ import annotations

import pytest
import tree_sitter
from index_support import index_with_definitions, write_files
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
from roost.context.languages._ecmascript import parse_jsonc

ROOT = FIXTURES / "typescript"


@pytest.fixture(scope="module")
def user():
    return extract_file(ROOT, "src/models/user.ts")


@pytest.fixture(scope="module")
def app():
    return extract_file(ROOT, "src/app.ts")


def test_tsx_uses_its_own_grammar() -> None:
    language = language_for_path("src/view.tsx")
    assert language is not None and language.name == "typescript"
    assert language.ts_language("a.tsx") != language.ts_language("a.ts")
    # The plain TypeScript grammar cannot parse JSX; the TSX one must.
    source = (ROOT / "src/view.tsx").read_bytes()
    assert not tree_sitter.Parser(language.ts_language("a.tsx")).parse(source).root_node.has_error


def test_interfaces_types_enums_classes(user) -> None:
    defs = definitions_by_qualified_name(user)
    assert {name: d.kind for name, d in defs.items()} == {
        "UserId": SymbolKind.TYPE,
        "Role": SymbolKind.ENUM,
        "Role.Admin": SymbolKind.CONSTANT,
        "Role.Member": SymbolKind.CONSTANT,
        "User": SymbolKind.INTERFACE,
        "User.id": SymbolKind.FIELD,
        "User.name": SymbolKind.FIELD,
        "User.greet": SymbolKind.METHOD,
        "UserService": SymbolKind.CLASS,
        "UserService.users": SymbolKind.FIELD,
        "UserService.find": SymbolKind.METHOD,
        "defaultRole": SymbolKind.FUNCTION,
    }
    assert defs["UserId"].signature == "export type UserId = number;"
    assert defs["UserId"].doc == "Identifier of a user."
    assert defs["User"].signature == "export interface User"
    assert defs["User"].doc == "A registered user."
    assert defs["User.greet"].signature == "greet(other: User): string"
    assert defs["UserService.find"].signature == "find(id: UserId): User | undefined"
    assert defs["UserService.find"].doc == "Finds a user by id."
    assert defs["UserService.find"].parent == "UserService"
    assert defs["defaultRole"].signature == "export function defaultRole(): Role"


def test_exports_and_reexports(user) -> None:
    assert [e.name for e in user.exports] == ["UserId", "Role", "User", "UserService", "defaultRole"]
    barrel = extract_file(ROOT, "src/models/index.ts")
    assert barrel.exports == [
        Export("*", from_module="./user"),
        Export("UserRole", from_module="./user", original_name="Role"),
    ]
    assert [(imp.module, imp.names, imp.is_star) for imp in barrel.imports] == [
        ("./user", (), True),
        ("./user", (ImportedName("Role", "UserRole"),), False),
    ]


def test_imports_including_type_only(app) -> None:
    assert [(imp.module, imp.names, imp.alias) for imp in app.imports] == [
        ("@models/user", (ImportedName("UserService"), ImportedName("defaultRole")), None),
        ("./models", (), "models"),
        ("@models/user", (ImportedName("User"),), None),
        ("./view.js", (ImportedName("Greeting"),), None),
        ("src/lib/extra", (ImportedName("slugify"),), None),
        ("react", (), "React"),
    ]


def test_signature_spans_lines_up_to_body(app) -> None:
    (run,) = app.definitions
    assert run.signature == "export async function run(service: UserService): Promise<User | undefined>"
    assert run.doc == "Entry point of the app."


def test_tsx_const_component() -> None:
    facts = extract_file(ROOT, "src/view.tsx")
    defs = definitions_by_qualified_name(facts)
    assert defs["Greeting"].kind is SymbolKind.FUNCTION
    assert defs["Greeting"].signature == "export const Greeting = ({ user }: Props) =>"
    assert defs["Greeting"].doc == "Renders a greeting."
    assert defs["Props"].kind is SymbolKind.TYPE
    assert ("name", "user") in {(ref.name, ref.receiver) for ref in facts.references}


def test_member_references(app) -> None:
    uses = {(ref.name, ref.receiver) for ref in app.references}
    assert ("find", "service") in uses
    assert ("Admin", "models.Role") in uses
    assert ("UserService", None) in uses  # a type annotation is a use


@pytest.mark.parametrize(
    ("module", "index", "expected"),
    [
        ("@models/user", 0, "src/models/user.ts"),  # tsconfig paths wildcard
        ("./models", 0, "src/models/index.ts"),  # directory index
        ("./view.js", 0, "src/view.tsx"),  # ESM ``.js`` specifier → TSX source
        ("src/lib/extra", 0, "src/lib/extra.ts"),  # baseUrl inherited through ``extends``
    ],
)
def test_resolution(app, module: str, index: int, expected: str) -> None:
    result = resolve(ROOT, "src/app.ts", import_for(app, module, index))
    assert result.paths == (expected,) and not result.external


def test_exact_paths_alias_and_external() -> None:
    language = language_for_path("src/view.tsx")
    layout = DiskLayout(ROOT)
    exact = language.resolve_import(Import("@app", Span(0, 0, 0, 0)), "src/view.tsx", layout)
    assert exact.paths == ("src/app.ts",)
    react = language.resolve_import(Import("react", Span(0, 0, 0, 0)), "src/view.tsx", layout)
    assert react.external and not react.paths
    node_builtin = language.resolve_import(Import("node:fs", Span(0, 0, 0, 0)), "src/view.tsx", layout)
    assert node_builtin.external


def test_without_tsconfig_bare_specifiers_are_external(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1;\n")
    (tmp_path / "src" / "b.ts").write_text("import { a } from 'src/a';\n")
    language = language_for_path("src/b.ts")
    result = language.resolve_import(Import("src/a", Span(0, 0, 0, 0)), "src/b.ts", DiskLayout(tmp_path))
    assert result.external


def test_jsonc_dialect() -> None:
    raw = '{\n  // c\n  "a": "http://x/*not a comment*/", /* b */\n  "b": [1, 2,],\n}\n'
    assert parse_jsonc(raw) == {"a": "http://x/*not a comment*/", "b": [1, 2]}
    assert parse_jsonc("{ not json") is None


def test_jsx_intrinsic_tags_are_not_references(tmp_path) -> None:
    (tmp_path / "v.tsx").write_text("const A = () => <div><Child /><span>{x}</span></div>;\n")
    names = [ref.name for ref in extract_file(tmp_path, "v.tsx").references]
    assert names == ["Child", "x"]


@pytest.mark.parametrize(
    "declaration",
    [
        {"package.json": '{ "private": true, "workspaces": ["packages/*"] }'},
        {"package.json": '{ "workspaces": { "packages": ["packages/*"] } }'},
        {"package.json": "{}", "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n"},
    ],
)
def test_monorepo_workspace_packages_resolve_to_their_sources(tmp_path, declaration: dict[str, str]) -> None:
    write_files(
        tmp_path,
        {
            **declaration,
            "packages/core/package.json": '{ "name": "@acme/core", "types": "src/index.ts" }',
            "packages/core/src/index.ts": "export * from './math';\n",
            "packages/core/src/math.ts": "export const add = (a: number, b: number) => a + b;\n",
            "packages/app/package.json": '{ "name": "@acme/app" }',
            "packages/app/src/main.ts": "import { add } from '@acme/core';\n",
        },
    )
    language = language_for_path("a.ts")
    layout = DiskLayout(tmp_path)
    importer = "packages/app/src/main.ts"

    def resolve_spec(spec: str):
        return language.resolve_import(Import(spec, Span(0, 0, 0, 0)), importer, layout)

    assert resolve_spec("@acme/core").paths == ("packages/core/src/index.ts",)
    assert resolve_spec("@acme/core/src/math").paths == ("packages/core/src/math.ts",)
    assert resolve_spec("@acme/other").external
    assert resolve_spec("left-pad").external


@pytest.mark.parametrize("spec", ["./styles.css", "./data.json", "../logo.svg?url"])
def test_assets_are_external_not_unresolved(spec: str) -> None:
    language = language_for_path("a.ts")
    result = language.resolve_import(Import(spec, Span(0, 0, 0, 0)), "src/app.ts", DiskLayout(ROOT))
    assert result.external and result.paths == ()


def test_enum_members_and_ambient_declarations(tmp_path) -> None:
    (tmp_path / "d.ts").write_text(
        "/** Roles. */\nenum E { A, B = 2 }\n/** X. */\nexport declare const x: number;\n"
        "declare let y: string;\nexport declare function f(a: string): void;\n"
    )
    facts = extract_file(tmp_path, "d.ts")
    assert [(d.qualified_name, d.kind, d.signature) for d in facts.definitions] == [
        ("E", SymbolKind.ENUM, "enum E"),
        ("E.A", SymbolKind.CONSTANT, "A"),
        ("E.B", SymbolKind.CONSTANT, "B = 2"),
        ("x", SymbolKind.CONSTANT, "export declare const x: number"),
        ("y", SymbolKind.VARIABLE, "declare let y: string"),
        ("f", SymbolKind.FUNCTION, "export declare function f(a: string): void;"),
    ]
    assert facts.definitions[3].doc == "X."
    assert [e.name for e in facts.exports] == ["x", "f"]


def test_tsconfig_extends_list(tmp_path) -> None:
    write_files(
        tmp_path,
        {
            "configs/base.json": '{ "compilerOptions": { "baseUrl": "../src" } }',
            "configs/paths.json": '{ "compilerOptions": { "paths": { "~/*": ["../src/*"] } } }',
            "tsconfig.json": '{ "extends": ["@tsconfig/node20/tsconfig.json", "./configs/base", "./configs/paths.json"] }',
            "src/util/a.ts": "export const a = 1;\n",
            "src/main.ts": "import { a } from '~/util/a';\nimport { a as b } from 'util/a';\n",
        },
    )
    language = language_for_path("a.ts")
    layout = DiskLayout(tmp_path)
    for spec in ("~/util/a", "util/a"):
        result = language.resolve_import(Import(spec, Span(0, 0, 0, 0)), "src/main.ts", layout)
        assert result.paths == ("src/util/a.ts",), spec


# ----------------------------------------------------------------- declared types of parameters and locals

DECLARED = {
    "src/store.ts": (
        "export class Store {\n  save(): void {}\n}\n\n"
        "// Same method name: a guess by name finds it too.\n"
        "export class Cache {\n  save(): void {}\n}\n"
    ),
    "src/app.ts": (
        "import { Cache, Store } from './store';\n\n"
        "declare function make<T>(): T;\n\n"
        "const top: Cache = make();\n"
        "top.save(/* module level */);\n\n"
        "function f(store: Store) {\n  store.save(/* parameter */);\n}\n\n"
        "function g() {\n  const s: Store = make();\n  s.save(/* const */);\n}\n\n"
        "function h(store: Store) {\n"
        "  {\n    const store: Cache = make();\n    store.save(/* shadowed */);\n  }\n"
        "  store.save(/* after the block */);\n"
        "}\n"
    ),
}


def test_declared_types_of_parameters_and_locals(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, DECLARED)
    app = "src/app.ts"
    store, cache = ("src/store.ts", "Store.save"), ("src/store.ts", "Cache.save")
    try:
        assert definitions(app, "save(/* parameter */") == {store}
        assert definitions(app, "save(/* const */") == {store}
        # A block's local shadows the parameter inside the block only.
        assert definitions(app, "save(/* shadowed */") == {cache}
        assert definitions(app, "save(/* after the block */") == {store}
        # A module-level constant is no parameter or local: the hook says nothing, the guess by name holds.
        lines = DECLARED[app].splitlines()
        row = next(i for i, line in enumerate(lines) if "module level" in line)
        source = DECLARED[app].encode()
        assert language_for_path(app).declared_type(app, source, "top", (row, 0)) is None
        assert definitions(app, "save(/* module level */") == {store, cache}
    finally:
        index.close()


FIELDS = {
    "src/store.ts": DECLARED["src/store.ts"],
    "src/service.ts": (
        "import { Cache, Store } from './store';\n\n"
        "export class Service {\n"
        "  private store: Store;\n"
        "  readonly cache?: Cache;\n"
        "  backend: Store | Cache;\n\n"
        "  constructor(store: Store, backend: Store | Cache) {\n"
        "    this.store = store;\n"
        "    this.backend = backend;\n"
        "  }\n\n"
        "  run(): void {\n"
        "    this.store.save(/* private */);\n"
        "    if (this.cache) this.cache.save(/* readonly optional */);\n"
        "    this.backend.save(/* union */);\n"
        "  }\n"
        "}\n"
    ),
}


def test_declared_types_of_class_fields(tmp_path) -> None:
    index, definitions = index_with_definitions(tmp_path, FIELDS)
    service = "src/service.ts"
    store, cache = ("src/store.ts", "Store.save"), ("src/store.ts", "Cache.save")
    try:
        assert definitions(service, "save(/* private */") == {store}
        assert definitions(service, "save(/* readonly optional */") == {cache}
        # A union names no one class: the guess by name, as before.
        assert definitions(service, "save(/* union */") == {store, cache}
    finally:
        index.close()
