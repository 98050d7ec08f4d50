"""JavaScript/TypeScript refactors on real tree-sitter and a real index: add a missing import in the file's
own style (relative specifier, quotes, ``.js`` ESM specifiers, merged into an existing import, default
exports, CommonJS ``require``), and move a top-level symbol to a sibling module (its ``export`` and doc
comment go with it, importers and re-exports are redirected, namespace uses rewritten, the moved code's
imports and siblings follow). Results are asserted as exact texts and re-indexed: the moved name still
resolves, now to the target."""

from __future__ import annotations

import pytest
from index_support import apply_replacements, write_files
from refactor_support import definition_files_at_first, move_between_modules, tsc_check

from roost.context.facts import ImportedName
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import (
    RefactorError,
    add_import,
    import_sources,
    is_type_only,
    replacements_between,
    unimported_names,
    writes_imports,
)
from roost.context.refactor.move import move_targets

TS = language_for_path("x.ts")
JS = language_for_path("x.js")

PROJECT = {
    "tsconfig.json": '{ "compilerOptions": { "strict": true } }\n',
    "src/format.ts": (
        'import { Money } from "./money";\n'
        'import type { UserId } from "./user";\n'
        "\n"
        'const SEP = ", ";\n'
        "\n"
        "/** Joins labels. */\n"
        "export function join(items: string[], owner: UserId): string {\n"
        "  return items.map(label).join(SEP) + owner + new Money(1).cents;\n"
        "}\n"
        "\n"
        "function label(item: string): string {\n"
        "  return `<${item}>`;\n"
        "}\n"
        "\n"
        "export function shout(s: string): string {\n"
        '  return join([s], "me").toUpperCase();\n'
        "}\n"
    ),
    "src/money.ts": "export class Money {\n  constructor(readonly cents: number) {}\n}\n",
    "src/user.ts": "export type UserId = string;\n",
    "src/text.ts": 'export const EMPTY = "";\n',
    "src/app.ts": (
        'import { join, shout } from "./format";\n'
        'import * as fmt from "./format";\n'
        "\n"
        'export { join } from "./format";\n'
        'console.log(join(["a"], "u"), shout("x"), fmt.join([], "v"));\n'
    ),
    "src/barrel.ts": 'export * from "./format";\n',
    "src/view.ts": (
        'import * as fmt from "./format";\n\nexport const join = (a: string) => a;\nfmt.join([], "v");\n'
    ),
}


# ----------------------------------------------------------------------------------------- add import


def test_specifiers_follow_the_file_style() -> None:
    assert TS is not None and JS is not None
    assert writes_imports("a.ts") and writes_imports("a.tsx") and writes_imports("a.js")
    assert TS.import_specifier("src/a.ts", "", "src/util/format.ts", bool) == "./util/format"
    assert TS.import_specifier("src/a/b.ts", "", "src/models/index.ts", bool) == "../models"
    esm = "import { x } from './x.js';\n"
    assert TS.import_specifier("src/a.ts", esm, "src/util/format.ts", bool) == "./util/format.js"
    assert TS.import_specifier("src/a.ts", esm, "src/models/index.tsx", bool) == "./models/index.js"
    assert TS.sibling_module("@/models/user", "src/models/user.ts", "src/models/order.ts") == "@/models/order"
    assert TS.sibling_module("./models", "src/models/index.ts", "src/models/order.ts") == "./models/order"
    assert TS.sibling_module("./user.js", "src/user.ts", "src/order.ts") == "./order.js"
    assert TS.sibling_module("react", "src/user.ts", "src/order.ts") is None


def test_add_import_after_the_imports_merged_and_in_the_quote_style() -> None:
    text = "import { a } from './util/format.js'\nimport b from './b.js'\n\nexport const x = formatCents(a)\n"
    insertion = add_import("src/cli.ts", text, "formatCents", "src/util/format.ts", bool)
    assert apply_replacements(text, [insertion]) == (
        "import { a, formatCents } from './util/format.js'\nimport b from './b.js'\n\n"
        "export const x = formatCents(a)\n"
    )
    other = add_import("src/cli.ts", text, "Money", "src/money.ts", bool)
    assert apply_replacements(text, [other]) == (
        "import { a } from './util/format.js'\nimport b from './b.js'\nimport { Money } from './money.js'\n\n"
        "export const x = formatCents(a)\n"
    )


def test_add_import_at_the_top_after_a_header_comment_and_as_default() -> None:
    text = "// Reports.\n\nexport function main() {\n  return formatCents(1);\n}\n"
    insertion = add_import("src/cli.ts", text, "formatCents", "src/util/format.ts", bool, "default")
    assert apply_replacements(text, [insertion]) == (
        '// Reports.\n\nimport formatCents from "./util/format";\n\n'
        "export function main() {\n  return formatCents(1);\n}\n"
    )
    doc = "/** Main. */\nexport function main() {\n  return formatCents(1);\n}\n"
    insertion = add_import("src/cli.ts", doc, "formatCents", "src/util/format.ts", bool)
    assert apply_replacements(doc, [insertion]).startswith(
        'import { formatCents } from "./util/format";\n\n/** Main. */\n'
    )


def test_add_import_in_commonjs_after_use_strict() -> None:
    text = "#!/usr/bin/env node\n'use strict';\nconst fs = require('fs');\n\nmain(fs, formatCents);\n"
    insertion = add_import("bin/cli.js", text, "formatCents", "lib/format.js", bool)
    assert apply_replacements(text, [insertion]) == (
        "#!/usr/bin/env node\n'use strict';\nconst fs = require('fs');\n"
        "const { formatCents } = require('../lib/format');\n\nmain(fs, formatCents);\n"
    )
    merged = "const { parse } = require('../lib/format');\n\nparse(formatCents);\n"
    insertion = add_import("bin/cli.js", merged, "formatCents", "lib/format.js", bool)
    assert apply_replacements(merged, [insertion]).startswith(
        "const { parse, formatCents } = require('../lib/format');\n"
    )
    bare = "'use strict';\nmain(formatCents);\n"
    insertion = add_import("bin/cli.js", bare, "formatCents", "lib/format.js", bool, "default")
    assert apply_replacements(bare, [insertion]) == (
        "'use strict';\n\nconst formatCents = require('../lib/format');\n\nmain(formatCents);\n"
    )


def test_missing_names_leave_out_locals_and_need_an_export(tmp_path, open_index) -> None:
    text = (
        "export function f(x: number, { p }: { p: number }, r = 2) {\n"
        "  const y = x + p + r;\n  return helper(y) + Money + shout(`${y}`) + label(y);\n}\n"
    )
    facts = parse_facts("src/new.ts", text)
    assert facts is not None
    names = unimported_names("src/new.ts", facts, 0, 3, text)
    assert names == ["helper", "Money", "shout", "label"]
    index = open_index(write_files(tmp_path / "w", PROJECT))
    found = {
        name: import_sources(
            "src/new.ts",
            name,
            [
                (loc.path, loc.definition)
                for loc in index.find_symbols(name)
                if loc.definition is not None and loc.definition.parent is None
            ],
            index.file_facts,
        )
        for name in names
    }
    # ``label`` is defined in format.ts but not exported: nothing to import.
    assert found == {
        "helper": [],
        "Money": [("src/money.ts", "Money")],
        "shout": [("src/format.ts", "shout")],
        "label": [],
    }


@pytest.mark.parametrize("ext", ["ts", "js"])
def test_globals_are_never_missing_even_when_the_workspace_exports_them(tmp_path, open_index, ext) -> None:
    files = {
        f"src/shims.{ext}": "export class Map {}\nexport const Promise = 1;\nexport function helper() {}\n",
        f"src/use.{ext}": (
            "export async function f() {\n"
            "  const m = new Map();\n"
            "  await Promise.resolve(m);\n"
            "  console.log(process.env, document.title, JSON.stringify(m), globalThis);\n"
            "  setTimeout(() => helper(), 1);\n"
            "}\n"
        ),
    }
    path = f"src/use.{ext}"
    facts = parse_facts(path, files[path])
    assert facts is not None
    names = unimported_names(path, facts, 0, 5, files[path])
    assert names == ["helper"]  # ``Map`` and ``Promise`` are the globals, whatever shims exports
    index = open_index(write_files(tmp_path / ext, files))
    found = [(loc.path, loc.definition) for loc in index.find_symbols("helper") if loc.definition is not None]
    assert import_sources(path, "helper", found, index.file_facts) == [(f"src/shims.{ext}", "helper")]
    assert JS is not None and TS is not None
    # Utility types are TypeScript's globals only.
    assert "Partial" in TS.builtin_names() and "Partial" not in JS.builtin_names()
    assert {"Map", "require", "__dirname", "fetch"} <= JS.builtin_names()


def test_import_hooks_split_and_redirect_statements() -> None:
    assert TS is not None
    text = (
        "import Def, { a as b, c } from './x';\n"
        "import type { T } from './x';\n"
        "export { c, d } from './x';\n"
        "const { r, s: t } = require('./x');\n"
    )
    facts = parse_facts("src/a.ts", text)
    assert facts is not None
    named, type_only, reexport, required = (imp for imp in facts.imports if imp.names)
    assert TS.with_import_redirected("src/a.ts", text, named, "a", "./y").split("\n")[:2] == [
        "import Def, { c } from './x';",
        "import { a as b } from './y';",
    ]
    assert TS.with_import_redirected("src/a.ts", text, type_only, "T", "./y").split("\n")[1] == (
        "import type { T } from './y';"
    )
    assert TS.with_import_redirected("src/a.ts", text, reexport, "d", "./y").split("\n")[2:4] == [
        "export { c } from './x';",
        "export { d } from './y';",
    ]
    assert TS.with_import_redirected("src/a.ts", text, required, "s", None).split("\n")[3] == (
        "const { r } = require('./x');"
    )
    only = "import { a } from './x';\n\nuse(a);\n"
    only_facts = parse_facts("src/a.ts", only)
    assert only_facts is not None
    assert TS.with_import_redirected("src/a.ts", only, only_facts.imports[0], "a", None) == "use(a);\n"
    assert TS.with_import_names("src/a.ts", only, "./x", [ImportedName("a")]) == only  # already there


# ----------------------------------------------------------------------------------------------- move


def test_move_function_redirects_importers_reexports_and_namespaces(tmp_path, open_index) -> None:
    moved, plan = move_between_modules(tmp_path, open_index, PROJECT, "join", "src/format.ts", "src/text.ts")
    assert moved["src/format.ts"] == (
        'import { join } from "./text";\n'
        "\n"
        'export const SEP = ", ";\n'
        "\n"
        "export function label(item: string): string {\n"
        "  return `<${item}>`;\n"
        "}\n"
        "\n"
        "export function shout(s: string): string {\n"
        '  return join([s], "me").toUpperCase();\n'
        "}\n"
    )
    assert moved["src/text.ts"] == (
        'import { Money } from "./money";\n'
        'import type { UserId } from "./user";\n'
        'import { SEP, label } from "./format";\n'
        "\n"
        'export const EMPTY = "";\n'
        "\n"
        "/** Joins labels. */\n"
        "export function join(items: string[], owner: UserId): string {\n"
        "  return items.map(label).join(SEP) + owner + new Money(1).cents;\n"
        "}\n"
    )
    assert moved["src/app.ts"] == (
        'import { shout } from "./format";\n'
        'import { join } from "./text";\n'
        'import * as fmt from "./format";\n'
        "\n"
        'export { join } from "./text";\n'
        'console.log(join(["a"], "u"), shout("x"), join([], "v"));\n'
    )
    assert moved["src/barrel.ts"] == 'export * from "./format";\nexport { join } from "./text";\n'
    # view.ts has its own ``join``: ``fmt.join`` cannot become bare there, so the file is left alone.
    assert moved["src/view.ts"] == PROJECT["src/view.ts"]
    assert plan.notes == [
        "src/view.ts: not rewritten ('join' is already a name there; its namespace uses are not rewritten)"
    ]
    root = write_files(tmp_path / "after", moved)
    index = open_index(root)
    assert definition_files_at_first(index, "src/app.ts", "join([") == {"src/text.ts"}
    assert definition_files_at_first(index, "src/format.ts", "join([s]") == {"src/text.ts"}
    assert definition_files_at_first(index, "src/text.ts", "label)") == {"src/format.ts"}
    assert definition_files_at_first(index, "src/text.ts", "Money(1)") == {"src/money.ts"}


def test_move_interface_into_a_file_that_imported_it(tmp_path, open_index) -> None:
    files = {
        "src/models/user.ts": (
            "/** Identifier. */\nexport type UserId = string;\n\n"
            "/** A user. */\nexport interface User {\n  id: UserId;\n}\n"
        ),
        "src/models/order.ts": (
            'import type { User, UserId } from "./user";\n\n'
            "export interface Order {\n  customer: UserId;\n  user: User;\n}\n"
        ),
        "src/models/index.ts": 'export { User, UserId } from "./user";\nexport * from "./order";\n',
        "src/api.tsx": 'import { User } from "./models/user";\n\nexport const view = (u: User) => <b>{u.id}</b>;\n',
    }
    moved, plan = move_between_modules(
        tmp_path, open_index, files, "User", "src/models/user.ts", "src/models/order.ts"
    )
    assert moved["src/models/user.ts"] == "/** Identifier. */\nexport type UserId = string;\n"
    assert moved["src/models/order.ts"] == (
        'import type { UserId } from "./user";\n\n'
        "export interface Order {\n  customer: UserId;\n  user: User;\n}\n\n"
        "/** A user. */\nexport interface User {\n  id: UserId;\n}\n"
    )
    assert moved["src/models/index.ts"] == (
        'export { UserId } from "./user";\nexport { User } from "./order";\nexport * from "./order";\n'
    )
    assert moved["src/api.tsx"].startswith('import { User } from "./models/order";\n')
    assert plan.notes == []
    index = open_index(write_files(tmp_path / "after", moved))
    assert definition_files_at_first(index, "src/api.tsx", "u: User", 3) == {"src/models/order.ts"}


def test_move_refuses_default_exports_and_shared_declarations(tmp_path, open_index) -> None:
    files = {
        "src/a.ts": "export default function main() {}\nexport const A = 1, B = 2;\n",
        "src/b.ts": "export const C = 3;\n",
    }
    with pytest.raises(RefactorError, match="default export"):
        move_between_modules(tmp_path, open_index, files, "main", "src/a.ts", "src/b.ts")
    with pytest.raises(RefactorError, match="declared together"):
        move_between_modules(tmp_path, open_index, files, "A", "src/a.ts", "src/b.ts")
    with pytest.raises(RefactorError, match="already defines"):
        move_between_modules(
            tmp_path, open_index, {**files, "src/b.ts": "export const A = 0;\n"}, "A", "src/a.ts", "src/b.ts"
        )


def test_move_targets_are_same_directory_same_extension() -> None:
    paths = ["src/a.ts", "src/b.ts", "src/c.tsx", "src/types.d.ts", "src/sub/d.ts", "src/e.js"]
    assert move_targets("src/a.ts", paths, 6) == ["src/b.ts"]
    assert move_targets("src/c.tsx", paths, 6) == []


def test_replacements_are_line_level() -> None:
    old = "a\nb\nc\n"
    assert [(r.start, r.end, r.new_text) for r in replacements_between(old, "a\nB\nc\n")] == [(2, 4, "B\n")]


def test_move_refuses_commonjs_sources_and_keeps_type_only_reexports(tmp_path, open_index) -> None:
    files = {
        "lib/a.js": "function join(xs) {\n  return xs.join();\n}\n\nmodule.exports = { join };\n",
        "lib/b.js": "module.exports = {};\n",
    }
    with pytest.raises(RefactorError, match="CommonJS"):
        move_between_modules(tmp_path, open_index, files, "join", "lib/a.js", "lib/b.js")
    types = {
        "src/a.ts": "export interface A {\n  x: number;\n}\n\nexport interface B {\n  y: number;\n}\n",
        "src/b.ts": "export const C = 1;\n",
        "src/index.ts": 'export type { A, B } from "./a";\n',
    }
    moved, _ = move_between_modules(tmp_path / "types", open_index, types, "A", "src/a.ts", "src/b.ts")
    assert moved["src/index.ts"] == 'export type { B } from "./a";\nexport type { A } from "./b";\n'
    assert moved["src/b.ts"] == "export const C = 1;\n\nexport interface A {\n  x: number;\n}\n"


def test_typescript_import_equals_keeps_its_form() -> None:
    assert TS is not None
    text = 'import fs = require("fs");\nexport const a = 1;\n'
    assert TS.with_import_names("src/a.ts", text, "./x", [ImportedName("b")]) == (
        'import fs = require("fs");\nimport { b } from "./x";\nexport const a = 1;\n'
    )
    like = 'import path = require("path");'
    assert TS.with_import_names("src/a.ts", text, "path", [ImportedName("default", "path")], like) == (
        'import fs = require("fs");\nimport path = require("path");\nexport const a = 1;\n'
    )


DYNAMIC = {
    "src/source.js": "export function X() {}\nexport function Y() {}\n",
    "src/target.js": "export const Z = 1;\n",
    "src/all.js": "export async function f() {\n  const { X } = await import('./source.js');\n  return X();\n}\n",
    "src/some.js": (
        "export async function g() {\n"
        '  let { Y: why, X } = await import("./source");\n'
        "  return X() + why();\n"
        "}\n"
        "var { X: ex, Y } = import('./source.js')\n"
    ),
    "src/then.js": "import('./source.js').then((m) => m.X());\n",
    "src/ns.js": "export async function h() {\n  const mod = await import('./source.js');\n  return mod.X();\n}\n",
    "src/only_y.js": "export async function k() {\n  const { Y } = await import('./source.js');\n  return Y() + 'X';\n}\n",
    "src/computed.js": "const n = 'source';\nimport(`./${n}.js`).then((m) => m.X());\n",
    "src/side.js": "import { X } from './source.js';\n\nawait import('./source.js');\nconfig.X = X;\n",
}


def test_move_redirects_destructured_dynamic_imports_and_notes_other_forms(tmp_path, open_index) -> None:
    index = open_index(write_files(tmp_path / "graph", DYNAMIC))
    # ``import('./source.js')`` with a literal specifier is an edge of the graph; a computed one is not.
    assert set(index.dependents("src/source.js")) == {
        "src/all.js", "src/some.js", "src/then.js", "src/ns.js", "src/only_y.js", "src/side.js"
    }  # fmt: skip
    moved, plan = move_between_modules(tmp_path, open_index, DYNAMIC, "X", "src/source.js", "src/target.js")
    assert moved["src/all.js"] == (
        "export async function f() {\n  const { X } = await import('./target.js');\n  return X();\n}\n"
    )
    # Only some names moved: the moved one is split off into the same declaration of the target.
    assert moved["src/some.js"] == (
        "export async function g() {\n"
        '  let { Y: why } = await import("./source");\n'
        '  let { X } = await import("./target");\n'
        "  return X() + why();\n"
        "}\n"
        "var { Y } = import('./source.js')\n"
        "var { X: ex } = import('./target.js')\n"
    )
    assert moved["src/target.js"] == "export const Z = 1;\n\nexport function X() {}\n"
    # A dynamic import for its side effects takes no name: the static import next to it is redirected.
    assert (
        moved["src/side.js"]
        == "import { X } from './target.js';\n\nawait import('./source.js');\nconfig.X = X;\n"
    )
    # Forms not exactly rewritable are left alone, with a note; ``only_y`` never takes ``X``.
    for path in ("src/then.js", "src/ns.js", "src/only_y.js", "src/computed.js"):
        assert moved[path] == DYNAMIC[path]
    assert plan.notes == [
        f"{path}: not rewritten (the dynamic import of './source.js' on line {line} takes 'X' in a form not "
        "rewritten (only `const { X } = …`))"
        for path, line in (("src/ns.js", 2), ("src/then.js", 1))
    ]
    after = open_index(write_files(tmp_path / "after", moved))
    assert "src/some.js" in after.dependents("src/target.js")


def test_move_into_a_file_that_imported_it_dynamically(tmp_path, open_index) -> None:
    files = {
        "src/a.ts": "export function X(): number {\n  return 1;\n}\n",
        "src/b.ts": (
            "export async function z(): Promise<number> {\n"
            '  const { X } = await import("./a");\n'
            "  return X();\n"
            "}\n"
        ),
    }
    moved, plan = move_between_modules(tmp_path, open_index, files, "X", "src/a.ts", "src/b.ts")
    assert moved["src/a.ts"] == ""
    assert moved["src/b.ts"] == (
        "export async function z(): Promise<number> {\n  return X();\n}\n\n"
        "export function X(): number {\n  return 1;\n}\n"
    )
    assert plan.notes == []


def test_move_rewrites_types_written_through_a_namespace_import(tmp_path, open_index) -> None:
    # ``util.JSONType`` in a type is a nested type identifier: the file's references give it without
    # ``util``, so the namespace uses were left pointing at a module that no longer has the type. Used as a
    # type only, it comes in by a type-only import (``verbatimModuleSyntax`` refuses a plain one).
    files = {
        "src/util.ts": "export type JSONType = string | number;\nexport const one: JSONType = 1;\n",
        "src/json.ts": "export const K = 1;\n",
        "src/use.ts": (
            'import * as util from "./util";\n\n'
            "export interface Box {\n  value: util.JSONType;\n  list: Array<util.JSONType>;\n}\n"
            "export const two: util.JSONType = util.one;\n"
        ),
    }
    moved, _ = move_between_modules(tmp_path, open_index, files, "JSONType", "src/util.ts", "src/json.ts")
    assert moved["src/use.ts"] == (
        'import * as util from "./util";\nimport type { JSONType } from "./json";\n\n'
        "export interface Box {\n  value: JSONType;\n  list: Array<JSONType>;\n}\n"
        "export const two: JSONType = util.one;\n"
    )


BARREL = {
    "src/core/util.ts": (
        "export type JSONType = string | number;\nexport function join(xs: string[]): string {\n"
        '  return xs.join(",");\n}\n'
    ),
    "src/core/json.ts": "export const K = 1;\n",
    "src/core/index.ts": 'export * as util from "./util";\nexport * from "./json";\n',
    "src/named.ts": (
        'import { util } from "./core/index";\n\n'
        "export const j: util.JSONType = 1;\nexport const s = util.join([]);\n"
    ),
    "src/star.ts": 'import * as core from "./core/index";\n\nexport const k: core.util.JSONType = 2;\n',
}


def test_move_rewrites_uses_through_a_barrels_namespace_of_the_source(tmp_path, open_index) -> None:
    # ``export * as util from "./util"``: importers of the barrel reach the symbol as ``util.JSONType``
    # without importing the source; they were not even looked at.
    moved, _ = move_between_modules(
        tmp_path, open_index, BARREL, "JSONType", "src/core/util.ts", "src/core/json.ts"
    )
    assert moved["src/named.ts"] == (
        'import { util } from "./core/index";\nimport type { JSONType } from "./core/json";\n\n'
        "export const j: JSONType = 1;\nexport const s = util.join([]);\n"
    )
    assert moved["src/star.ts"] == (
        'import * as core from "./core/index";\nimport type { JSONType } from "./core/json";\n\n'
        "export const k: JSONType = 2;\n"
    )


def test_move_refuses_a_use_through_a_barrels_namespace_it_cannot_rewrite(tmp_path, open_index) -> None:
    files = {**BARREL, "src/named.ts": BARREL["src/named.ts"] + "type JSONType = boolean;\n"}
    with pytest.raises(RefactorError, match="uses util.JSONType through the namespace util"):
        move_between_modules(tmp_path, open_index, files, "JSONType", "src/core/util.ts", "src/core/json.ts")


def test_a_function_merged_with_an_interface_is_one_import_source(tmp_path, open_index) -> None:
    # zod's ``$constructor`` is an interface and a function of one name: the import was offered twice.
    files = {
        "src/core.ts": (
            "export interface make {\n  tag: string;\n}\n"
            "export function make(tag: string): make {\n  return { tag };\n}\n"
        ),
        "src/use.ts": 'export const m = make("x");\n',
    }
    index = open_index(write_files(tmp_path / "w", files))
    found = [(loc.path, loc.definition) for loc in index.find_symbols("make") if loc.definition is not None]
    assert len(found) == 2
    assert import_sources("src/use.ts", "make", found, index.file_facts) == [("src/core.ts", "make")]


def test_move_refuses_a_target_importing_another_thing_of_that_name(tmp_path, open_index) -> None:
    # The moved declaration next to an import of the same name: tsc's "Import declaration conflicts".
    files = {
        "src/util.ts": "export function pick(x: number): number {\n  return x;\n}\n",
        "src/other.ts": "export function pick(x: string): string {\n  return x;\n}\n",
        "src/json.ts": 'import { pick } from "./other";\n\nexport const K = pick("a");\n',
    }
    with pytest.raises(RefactorError, match=r"src/json.ts already imports another 'pick' \(from ./other\)"):
        move_between_modules(tmp_path, open_index, files, "pick", "src/util.ts", "src/json.ts")


def test_a_missing_type_is_imported_type_only(tmp_path, open_index) -> None:
    # ``verbatimModuleSyntax`` refuses a plain import of a type (TS1484).
    files = {
        "src/shapes.ts": (
            "export interface Shape {\n  area: number;\n}\nexport type Id = string;\n"
            "export interface make {\n  tag: string;\n}\nexport function make(): make {\n  return { tag: '' };\n}\n"
        ),
        "src/use.ts": "export const s: Shape = { area: 1 };\n",
    }
    index = open_index(write_files(tmp_path / "w", files))

    def found(name: str) -> list:
        return [(loc.path, loc.definition) for loc in index.find_symbols(name) if loc.definition is not None]

    assert is_type_only("src/use.ts", "src/shapes.ts", found("Shape"))
    assert is_type_only("src/use.ts", "src/shapes.ts", found("Id"))
    assert not is_type_only("src/use.ts", "src/shapes.ts", found("make"))  # a function too: a value
    assert not is_type_only("src/use.js", "src/shapes.ts", found("Shape"))
    insertion = add_import(
        "src/use.ts", files["src/use.ts"], "Shape", "src/shapes.ts", files.__contains__, type_only=True
    )
    assert insertion.new_text.startswith('import type { Shape } from "./shapes";\n')


# ---------------------------------------------------------------------------------- namespace imports

NAMESPACE_PROJECT = {
    "tsconfig.json": '{ "compilerOptions": { "strict": true, "jsx": "preserve" }, "include": ["src"] }\n',
    "src/m.ts": (
        "export function one(): number {\n  return 1;\n}\n\n"
        "export function two(x: number): number {\n  return x * 2;\n}\n\n"
        "export interface Shape {\n  size: number;\n}\n"
    ),
}


def test_add_import_uses_the_files_namespace_import_of_that_module(tmp_path) -> None:
    # ``import * as m`` already brings "./m": the names become ``m.two``, ``m.Shape`` (a type too), and a
    # shorthand property keeps its key; a second import of "./m" is what a reviewer would not write.
    text = (
        'import * as m from "./m";\n\n'
        "export const a = m.one() + two(1);\n"
        "export const b: Shape = { size: two(2) };\n"
        "export const c = { two };\n"
    )
    qualified = text
    for name in ("two", "Shape"):
        qualified = apply_replacements(
            qualified, [add_import("src/app.ts", qualified, name, "src/m.ts", bool)]
        )
    assert qualified == (
        'import * as m from "./m";\n\n'
        "export const a = m.one() + m.two(1);\n"
        "export const b: m.Shape = { size: m.two(2) };\n"
        "export const c = { two: m.two };\n"
    )
    tsc_check(write_files(tmp_path, {**NAMESPACE_PROJECT, "src/app.ts": qualified}))


def test_add_import_writes_a_named_import_where_a_local_shadows_the_name(tmp_path) -> None:
    # A parameter named ``two``: rewriting every ``two`` would rewrite it too, so the import is named.
    text = (
        'import * as m from "./m";\n\n'
        "export const a = m.one() + two(1);\n"
        "export function f(two: number): number {\n  return two;\n}\n"
    )
    imported = apply_replacements(text, [add_import("src/app.ts", text, "two", "src/m.ts", bool)])
    assert imported.startswith('import * as m from "./m";\nimport { two } from "./m";\n')
    tsc_check(write_files(tmp_path, {**NAMESPACE_PROJECT, "src/app.ts": imported}))
    # A local named like the namespace: ``m.two`` there would read the local.
    text = (
        'import * as m from "./m";\n\n'
        "export const a = m.one();\n"
        "export function f(m: number): number {\n  return two(m);\n}\n"
    )
    imported = apply_replacements(text, [add_import("src/app.ts", text, "two", "src/m.ts", bool)])
    assert imported.startswith('import * as m from "./m";\nimport { two } from "./m";\n')
    tsc_check(write_files(tmp_path, {**NAMESPACE_PROJECT, "src/app.ts": imported}))


def test_move_into_a_module_a_dependent_imports_as_a_namespace(tmp_path, open_index) -> None:
    files = {
        **NAMESPACE_PROJECT,
        "src/a.ts": "export function moved(x: number): number {\n  return x + 1;\n}\n\nexport const stay = 1;\n",
        "src/use.ts": (
            'import { moved, stay } from "./a";\nimport * as m from "./m";\n\n'
            "export const v = m.one() + moved(stay);\nexport const o = { moved };\n"
        ),
        "src/alias.ts": (
            'import { moved as mv } from "./a";\nimport * as m from "./m";\n\nexport const w = mv(2) + m.one();\n'
        ),
    }
    moved, plan = move_between_modules(tmp_path, open_index, files, "moved", "src/a.ts", "src/m.ts")
    assert moved["src/use.ts"] == (
        'import { stay } from "./a";\nimport * as m from "./m";\n\n'
        "export const v = m.one() + m.moved(stay);\nexport const o = { moved: m.moved };\n"
    )
    assert moved["src/alias.ts"] == 'import * as m from "./m";\n\nexport const w = m.moved(2) + m.one();\n'
    assert not plan.notes
    root = write_files(tmp_path / "after", moved)
    tsc_check(root)
    assert definition_files_at_first(open_index(root), "src/alias.ts", "moved(2)", 2) == {"src/m.ts"}


def test_moved_code_using_the_target_through_a_namespace_names_it_bare_there(tmp_path, open_index) -> None:
    # a.ts reaches m.ts as ``m``; in m.ts itself ``m`` is bound to nothing: ``m.one()`` becomes ``one()``,
    # ``m.Shape`` becomes ``Shape``, and a.ts's remaining use goes through its namespace import.
    files = {
        **NAMESPACE_PROJECT,
        "src/a.ts": (
            'import * as m from "./m";\n\n'
            "export function moved(s: m.Shape): number {\n  return s.size + m.one();\n}\n\n"
            "export const stay = moved({ size: 1 });\n"
        ),
    }
    moved, plan = move_between_modules(tmp_path, open_index, files, "moved", "src/a.ts", "src/m.ts")
    assert moved["src/m.ts"].endswith(
        "export function moved(s: Shape): number {\n  return s.size + one();\n}\n"
    )
    assert moved["src/a.ts"] == 'import * as m from "./m";\n\nexport const stay = m.moved({ size: 1 });\n'
    assert not plan.notes
    tsc_check(write_files(tmp_path / "after", moved))


def test_a_move_refuses_moved_code_passing_the_targets_namespace_as_a_value(tmp_path, open_index) -> None:
    files = {
        **NAMESPACE_PROJECT,
        "src/a.ts": (
            'import * as m from "./m";\n\n'
            "export function moved(): number {\n  return Object.keys(m).length + m.one();\n}\n"
        ),
    }
    with pytest.raises(RefactorError, match="uses m, the target module itself"):
        move_between_modules(tmp_path, open_index, files, "moved", "src/a.ts", "src/m.ts")
