"""What JavaScript and TypeScript share: extraction driven by ``queries/{javascript,typescript}.scm``;
module resolution is in :mod:`._ecmascript_resolve`, import and declaration edits in
:mod:`._ecmascript_edits`.

Representation choices (the graph reads them):
- ``import D from 'm'`` and ``import * as ns from 'm'`` → ``Import(module='m', alias=D|ns)`` (the contract's
  "default/namespace import"); named imports → ``names``; ``import 'm'`` → no names, no alias.
- ``const x = require('m')`` → alias ``x``; ``const {a, b: c} = require('m')`` → names ``a``, ``b as c``.
- ``export … from 'm'`` is both an Export (with ``from_module``) and an Import, so the file depends on ``m``.
- ``export default Foo`` / ``export default class Foo`` → ``Export('default', original_name='Foo')``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial

import tree_sitter

from roost.context.facts import (
    Definition,
    Export,
    FileFacts,
    Import,
    ImportedName,
    Reference,
    ResolvedImport,
    SymbolKind,
)
from roost.context.languages import _ecmascript_dynamic_imports as _dynamic_imports
from roost.context.languages import _ecmascript_edits as _edits
from roost.context.languages import _ecmascript_types
from roost.context.languages._common import (
    FunctionOrScope,
    OutlineSkips,
    RawDefinition,
    function_statement_counts,
    leading_comment,
    load_query,
    qualify,
    query_matches,
    reference_pass,
    signature_text,
    span_of,
    text,
    unquote,
)
from roost.context.languages._ecmascript_fields import instance_fields_to_classes
from roost.context.languages._ecmascript_resolve import parse_jsonc as parse_jsonc  # re-exported (tests)
from roost.context.languages._ecmascript_resolve import resolve_specifier
from roost.context.languages.base import (
    FunctionBody,
    LanguageSupport,
    MemberAccess,
    ScopeDeclaration,
    WorkspaceLayout,
    declared_type_in_scopes,
    modifiers_of,
    parsed_for_lookup,
    parsed_snippet,
)

_COMMENT = frozenset({"comment"})
_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_CLASS_VALUES = frozenset({"class"})
_WRAPPERS = frozenset({"export_statement", "ambient_declaration"})


def _doc_anchor(node: tree_sitter.Node) -> tree_sitter.Node:
    """The node a leading comment sits above: ``export``/``declare`` wrappers and the whole declaration for
    a ``const`` binding."""
    if node.type == "variable_declarator" and node.parent is not None:
        node = node.parent
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    return node


def _is_module_level(declarator: tree_sitter.Node) -> bool:
    declaration = declarator.parent
    if declaration is None:
        return False
    holder = declaration.parent
    while holder is not None and holder.type in _WRAPPERS:  # ``export``, ``declare``
        holder = holder.parent
    if holder is None:
        return False
    if holder.type == "program":
        return True
    # Inside ``namespace X { … }`` the body is a statement_block whose parent is the namespace.
    return (
        holder.type == "statement_block"
        and holder.parent is not None
        and holder.parent.type == "internal_module"
    )


def _declarator_definition(
    node: tree_sitter.Node, anchor: tree_sitter.Node, source: bytes
) -> tuple[SymbolKind, str] | None:
    """Kind and signature of a ``const``/``let``/``var`` binding, or None for locals and ``require``."""
    value = node.child_by_field_name("value")
    declaration = node.parent
    keyword = declaration.child(0).type if declaration is not None and declaration.child_count else "const"
    prefix = (
        source[anchor.start_byte : declaration.start_byte].decode("utf-8", "replace") if declaration else ""
    )
    head = f"{prefix}{keyword} "
    if value is not None and (value.type in _FUNCTION_VALUES or value.type in _CLASS_VALUES):
        body = value.child_by_field_name("body")
        end = body.start_byte if body is not None else value.end_byte
        kind = SymbolKind.FUNCTION if value.type in _FUNCTION_VALUES else SymbolKind.CLASS
        return kind, head + signature_text(source, node.start_byte, end)
    if not _is_module_level(node):
        return None
    if value is not None and value.type == "call_expression":
        function = value.child_by_field_name("function")
        if function is not None and text(source, function) == "require":
            return None  # an import, recorded as such
    kind = SymbolKind.CONSTANT if keyword == "const" else SymbolKind.VARIABLE
    return kind, head + signature_text(source, node.start_byte, node.end_byte)


def _definition(
    kind_name: str, node: tree_sitter.Node, name_node: tree_sitter.Node, source: bytes
) -> RawDefinition | None:
    name = text(source, name_node)
    anchor = _doc_anchor(node)
    if kind_name == "variable":
        found = _declarator_definition(node, anchor, source)
        if found is None:
            return None
        kind, signature = found
    elif kind_name == "instance_field":  # ``this.x = …``: its first line, as a field's declaration
        kind = SymbolKind.FIELD
        signature = signature_text(source, node.start_byte, node.end_byte).split("\n", 1)[0]
    else:
        kind = SymbolKind(kind_name)
        if kind is SymbolKind.METHOD and name == "constructor" and node.type == "method_definition":
            kind = SymbolKind.CONSTRUCTOR
        start = anchor.start_byte if anchor.type == "export_statement" else node.start_byte
        if kind in (SymbolKind.FIELD, SymbolKind.TYPE) or node.type.endswith("signature"):
            end = node.end_byte
        else:
            body = node.child_by_field_name("body")
            end = body.start_byte if body is not None else node.end_byte
        signature = signature_text(source, start, end)
    doc = leading_comment(anchor, source, _COMMENT)
    return RawDefinition(node, name, name_node, kind, signature, doc)


def _string_value(source: bytes, node: tree_sitter.Node | None) -> str | None:
    """A literal specifier; None for anything computed (``require(`./${name}`)``)."""
    if node is None or node.type not in ("string", "template_string"):
        return None
    value = unquote(text(source, node))
    return None if node.type == "template_string" and "${" in value else value


def _named_list(source: bytes, node: tree_sitter.Node) -> tuple[ImportedName, ...]:
    """``{ a, b as c }`` of an import or export clause."""
    names: list[ImportedName] = []
    for spec in node.named_children:
        if spec.type not in ("import_specifier", "export_specifier"):
            continue
        name = spec.child_by_field_name("name")
        alias = spec.child_by_field_name("alias")
        if name is None:
            continue
        names.append(
            ImportedName(unquote(text(source, name)), unquote(text(source, alias)) if alias else None)
        )
    return tuple(names)


def _imports_of_statement(source: bytes, node: tree_sitter.Node) -> list[Import]:
    span = span_of(node)
    source_node = node.child_by_field_name("source")
    require_clause = next((c for c in node.named_children if c.type == "import_require_clause"), None)
    if require_clause is not None:  # TS ``import x = require('m')``
        module = _string_value(source, require_clause.child_by_field_name("source"))
        ident = next((c for c in require_clause.named_children if c.type == "identifier"), None)
        if module is None:
            return []
        return [Import(module, span, alias=text(source, ident) if ident else None)]
    module = _string_value(source, source_node)
    if module is None:
        return []
    clause = next((c for c in node.named_children if c.type == "import_clause"), None)
    if clause is None:
        return [Import(module, span)]
    imports: list[Import] = []
    names: tuple[ImportedName, ...] = ()
    for part in clause.named_children:
        if part.type == "identifier":
            imports.append(Import(module, span, alias=text(source, part)))
        elif part.type == "namespace_import":
            ident = next((c for c in part.named_children if c.type == "identifier"), None)
            if ident is not None:
                imports.append(Import(module, span, alias=text(source, ident)))
        elif part.type == "named_imports":
            names = _named_list(source, part)
    if names or not imports:
        imports.append(Import(module, span, names=names))
    return imports


def _exports_of_statement(source: bytes, node: tree_sitter.Node) -> tuple[list[Export], list[Import]]:
    span = span_of(node)
    is_default = any(child.type == "default" for child in node.children)
    module = _string_value(source, node.child_by_field_name("source"))
    exports: list[Export] = []
    imports: list[Import] = []
    clause = next((c for c in node.named_children if c.type == "export_clause"), None)
    namespace = next((c for c in node.named_children if c.type == "namespace_export"), None)
    declaration = node.child_by_field_name("declaration")
    value = node.child_by_field_name("value")
    if module is not None:
        if clause is not None:
            names = _named_list(source, clause)
            exports.extend(Export(n.local_name, from_module=module, original_name=n.name) for n in names)
            imports.append(Import(module, span, names=names))
        elif namespace is not None:
            ident = namespace.named_children[-1] if namespace.named_children else None
            if ident is not None:
                exports.append(Export(unquote(text(source, ident)), from_module=module, original_name="*"))
            imports.append(Import(module, span, alias=text(source, ident) if ident is not None else None))
        else:
            exports.append(Export("*", from_module=module))
            imports.append(Import(module, span, is_star=True))
    elif clause is not None:
        for spec in _named_list(source, clause):
            exports.append(Export(spec.local_name, original_name=spec.name if spec.alias else None))
    elif declaration is not None:
        declared = _edits.declared_names(source, declaration)
        if is_default:
            exports.append(Export("default", original_name=declared[0] if declared else None))
        else:
            exports.extend(Export(name) for name in declared)
    elif value is not None:
        value_name = value.child_by_field_name("name")
        if value.type in ("function_expression", "function", "class") and value_name is not None:
            original: str | None = text(source, value_name)
        else:
            original = text(source, value) if value.type == "identifier" else None
        exports.append(Export("default", original_name=original))
    else:
        ident = next((c for c in node.named_children if c.type == "identifier"), None)
        if ident is not None:  # TS ``export = Foo``
            exports.append(Export("default", original_name=text(source, ident)))
    return exports, imports


def _require_import(source: bytes, call: tree_sitter.Node, module: str) -> Import:
    span = span_of(call)
    holder = call.parent
    while holder is not None and holder.type in ("await_expression", "parenthesized_expression"):
        holder = holder.parent
    if holder is not None and holder.type == "variable_declarator":
        bound = holder.child_by_field_name("name")
        if bound is not None and bound.type == "identifier":
            return Import(module, span, alias=text(source, bound))
        if bound is not None and bound.type == "object_pattern":
            names: list[ImportedName] = []
            for part in bound.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    names.append(ImportedName(text(source, part)))
                elif part.type == "pair_pattern":
                    key, val = part.child_by_field_name("key"), part.child_by_field_name("value")
                    if key is not None and val is not None and val.type == "identifier":
                        names.append(ImportedName(text(source, key), text(source, val)))
            return Import(module, span, names=tuple(names))
    return Import(module, span)


def _commonjs_function(source: bytes, captures: dict[str, list[tree_sitter.Node]]) -> RawDefinition | None:
    """``exports.f = function (…) {…}`` / ``module.exports.f = (…) => …``: the only definition of ``f``."""
    obj = text(source, captures["cjs_object"][0])
    if obj not in ("exports", "module.exports"):
        return None
    assignment = captures["cjs_export"][0]
    value = assignment.child_by_field_name("right")
    if value is None or value.type not in _FUNCTION_VALUES:
        return None
    name_node = captures["cjs_property"][0]
    statement = assignment.parent if assignment.parent is not None else assignment
    body = value.child_by_field_name("body")
    signature = signature_text(source, assignment.start_byte, body.start_byte if body else value.end_byte)
    doc = leading_comment(statement, source, _COMMENT)
    return RawDefinition(assignment, text(source, name_node), name_node, SymbolKind.FUNCTION, signature, doc)


def _commonjs_export(source: bytes, captures: dict[str, list[tree_sitter.Node]]) -> list[Export]:
    obj = text(source, captures["cjs_object"][0])
    prop = text(source, captures["cjs_property"][0])
    if obj == "exports" or obj == "module.exports":
        return [Export(prop)]
    if obj == "module" and prop == "exports":
        right = captures["cjs_export"][0].child_by_field_name("right")
        if right is not None and right.type == "object":
            names = []
            for part in right.named_children:
                if part.type == "shorthand_property_identifier":
                    names.append(Export(text(source, part)))
                elif part.type in ("pair", "method_definition"):
                    key = part.child_by_field_name("key") or part.child_by_field_name("name")
                    if key is not None:
                        names.append(Export(unquote(text(source, key))))
            return names
        original = text(source, right) if right is not None and right.type == "identifier" else None
        return [Export("default", original_name=original)]
    return []


def outline_ecmascript(
    language_name: str,
    query_file: str,
    ts_language: tree_sitter.Language,
    path: str,
    source: bytes,
    tree: tree_sitter.Tree,
) -> tuple[FileFacts, OutlineSkips]:
    """Definitions, imports and exports (no references) plus what the reference pass must skip."""
    query = load_query(ts_language, query_file)
    facts = FileFacts(path=path, language=language_name)
    raws: list[RawDefinition] = []
    # Definition names bind rather than use; the reference query ignores local declarator names itself.
    skips = OutlineSkips(set(), [])
    for _, captures in query_matches(query, tree.root_node):
        def_key = next((key for key in captures if key.startswith("def.")), None)
        if def_key is not None:
            name_node = captures["name"][0]
            if name_node.start_byte in skips.name_starts:
                continue  # a module-level ``const f = () => …`` matches two patterns
            skips.name_starts.add(name_node.start_byte)
            raw = _definition(def_key[4:], captures[def_key][0], name_node, source)
            if raw is not None:
                raws.append(raw)
        elif "import" in captures:
            node = captures["import"][0]
            facts.imports.extend(_imports_of_statement(source, node))
            skips.import_ranges.append((node.start_byte, node.end_byte))
        elif "export" in captures:
            node = captures["export"][0]
            exports, imports = _exports_of_statement(source, node)
            facts.exports.extend(exports)
            facts.imports.extend(imports)
            if imports:  # ``export … from``: its names live in the other module
                skips.import_ranges.append((node.start_byte, node.end_byte))
        elif "require" in captures:
            module = _string_value(source, captures["specifier"][0])
            if module is not None:
                facts.imports.append(_require_import(source, captures["require"][0], module))
        elif "dynamic_import" in captures:
            module = _string_value(source, captures["specifier"][0])
            if module is not None:
                facts.imports.append(Import(module, span_of(captures["dynamic_import"][0])))
        elif "cjs_export" in captures:
            facts.exports.extend(_commonjs_export(source, captures))
            raw = _commonjs_function(source, captures)
            if raw is not None and raw.name_node.start_byte not in skips.name_starts:
                skips.name_starts.add(raw.name_node.start_byte)
                raws.append(raw)
    facts.definitions = instance_fields_to_classes(qualify(raws))
    facts.imports.sort(key=lambda imp: (imp.span.start_line, imp.span.start_col))
    return facts, skips


# Globals every JS/TS file sees without an import. A workspace may export a name like ``Map`` or ``Promise``
# itself; a bare use of the global must still never be offered an import of it ("add missing import",
# the names a moved declaration takes along). A file's own definitions and imports are handled elsewhere.
_ECMASCRIPT_BUILTINS = frozenset(
    {
        "globalThis", "Object", "Function", "Array", "Number", "Boolean", "String", "Symbol", "BigInt",
        "Math", "JSON", "Date", "RegExp", "Error", "AggregateError", "EvalError", "RangeError",
        "ReferenceError", "SyntaxError", "TypeError", "URIError", "Map", "Set", "WeakMap", "WeakSet",
        "WeakRef", "FinalizationRegistry", "Promise", "Proxy", "Reflect", "ArrayBuffer", "SharedArrayBuffer",
        "DataView", "Atomics", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
        "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
        "Intl", "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURI", "encodeURIComponent",
        "decodeURI", "decodeURIComponent", "eval", "undefined", "NaN", "Infinity", "arguments",
    }
)  # fmt: skip
_BROWSER_GLOBALS = frozenset(
    {
        "window", "document", "navigator", "location", "history", "localStorage", "sessionStorage",
        "fetch", "Request", "Response", "Headers", "URL", "URLSearchParams", "FormData", "Blob", "File",
        "FileReader", "AbortController", "AbortSignal", "Event", "EventTarget", "CustomEvent",
        "HTMLElement", "Element", "Node", "console", "setTimeout", "clearTimeout", "setInterval",
        "clearInterval", "queueMicrotask", "structuredClone", "requestAnimationFrame",
        "cancelAnimationFrame", "atob", "btoa", "crypto", "performance", "TextEncoder", "TextDecoder",
        "WebSocket", "Worker", "alert", "confirm", "prompt",
    }
)  # fmt: skip
_NODE_GLOBALS = frozenset(
    {
        "process", "Buffer", "global", "require", "module", "exports", "__dirname", "__filename",
        "setImmediate", "clearImmediate",
    }
)  # fmt: skip
_JAVASCRIPT_GLOBALS = _ECMASCRIPT_BUILTINS | _BROWSER_GLOBALS | _NODE_GLOBALS
# TypeScript's global utility and library types: type positions name them as freely as values name globals.
_TYPESCRIPT_GLOBALS = _JAVASCRIPT_GLOBALS | frozenset(
    {
        "Partial", "Required", "Readonly", "Record", "Pick", "Omit", "Exclude", "Extract", "NonNullable",
        "ReturnType", "Parameters", "ConstructorParameters", "InstanceType", "Awaited", "PromiseLike",
        "ArrayLike", "Iterable", "Iterator", "AsyncIterable", "PropertyKey", "ThisType", "Uppercase",
        "Lowercase", "Capitalize", "Uncapitalize",
    }
)  # fmt: skip


class EcmaScriptSupport(LanguageSupport):
    """Shared by the JavaScript and TypeScript modules; they pick the grammar and the query files."""

    query_stem: str
    prefer_ts: bool

    def _grammar(self, tree: tree_sitter.Tree) -> tree_sitter.Language:
        # Queries are compiled for the grammar that produced the tree (TypeScript vs TSX).
        return tree.language

    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts, skips = self._outline(path, source, tree)
        facts.references = self._references(source, tree, skips)
        return facts

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        return self._outline(path, source, tree)[0]

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        _, skips = self._outline(path, source, tree)
        return self._references(source, tree, skips)

    def _outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> tuple[FileFacts, OutlineSkips]:
        return outline_ecmascript(
            self.name, f"{self.query_stem}.scm", self._grammar(tree), path, source, tree
        )

    def _references(self, source: bytes, tree: tree_sitter.Tree, skips: OutlineSkips) -> list[Reference]:
        grammar = self._grammar(tree)
        return reference_pass(grammar, self._reference_query_file(grammar), tree, source, skips)

    def _reference_query_file(self, grammar: tree_sitter.Language) -> str:
        return f"{self.query_stem}_references.scm"

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        return resolve_specifier(imp.module, importer, layout, prefer_ts=self.prefer_ts)

    def member_access(self, definition: Definition) -> MemberAccess:
        # ``#name`` is private in JS and TS alike; ``private``/``protected`` are TypeScript's, checked by tsc.
        if definition.name.startswith("#"):
            return "private"
        if definition.parent is None:
            return "public"
        modifiers = modifiers_of(definition)
        return "private" if "private" in modifiers else "protected" if "protected" in modifiers else "public"

    def self_names(self) -> tuple[str, ...]:
        return ("this",)

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        return function_statement_counts(
            tree.root_node, partial(_ecmascript_function, source), _BODY_COMMENTS
        )

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        # TypeScript annotations (``store: Store``, ``const s: Store = …``); JavaScript declares untyped names.
        root = parsed_for_lookup(self.ts_language(path), source).root_node
        return declared_type_in_scopes(root, name, at, lambda scope: _scope_declarations(source, scope))

    def bound_value(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        root = parsed_for_lookup(self.ts_language(path), source).root_node
        return declared_type_in_scopes(root, name, at, partial(_ecmascript_types.bound_values, source))

    def written_type(self, definition: Definition) -> str | None:
        return _ecmascript_types.written_type(self.ts_language("_.ts"), definition)

    def element_type(self, written: str) -> str | None:
        return _ecmascript_types.element_type(self.ts_language("_.ts"), written)

    def callback_parameter_type(self, function: Definition, argument: int, parameter: int) -> str | None:
        return _ecmascript_types.callback_parameter_type(
            self.ts_language("_.ts"), function, argument, parameter
        )

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        # The signature is the class field as written (``private store: Store``, ``readonly s?: Store``):
        # parsed back in a class body for its annotation. JavaScript fields carry none.
        if field.kind is not SymbolKind.FIELD:
            return None
        assigned = _ASSIGNED_FROM_NAME.match(field.signature)
        if assigned is not None:
            # ``this.v0 = v0;`` in a method: the type that method's parameter (or local) declares or
            # defaults to (``v0 = new Vector2()``), as Python's ``self.store = store`` reads ``store: Store``.
            at = (field.span.start_line, field.span.start_col)
            return self.declared_type(path, source, assigned.group(1), at) if source else None
        written = f"class _ {{\n{field.signature}\n}}\n".encode()
        root = parsed_snippet(self.ts_language(path), written).root_node
        body = root.named_children[0].child_by_field_name("body") if root.named_child_count == 1 else None
        member = body.named_children[0] if body is not None and body.named_child_count == 1 else None
        if root.has_error or member is None or member.type != "public_field_definition":
            return None
        declared = _annotated_type(written, member.child_by_field_name("type"))
        if declared is None or "." in declared or not source:
            return declared
        # ``_zod: Internals`` where ``Internals`` is a type parameter of the interface: its bound.
        root = parsed_for_lookup(self.ts_language(path), source).root_node
        return _type_parameter_bound(source, root, (field.span.start_line, field.span.start_col), declared)

    def builtin_names(self) -> frozenset[str]:
        return _TYPESCRIPT_GLOBALS if self.name == "typescript" else _JAVASCRIPT_GLOBALS

    def module_binding_export(self, imp: Import, statement: str) -> str | None:
        """``import D from 'm'``, ``const D = require('m')`` and TS ``import D = require('m')`` take the
        module's default export (``module.exports = …`` is recorded as ``default`` too); ``import * as ns``
        binds the module itself."""
        if imp.alias is None or re.search(rf"\*\s*as\s+{re.escape(imp.alias)}\b", statement):
            return None
        return "default"

    # -- writing imports and moving declarations (``_ecmascript_edits``) ---------------------------------

    moves_between_modules = True
    exports_gate_imports = True

    def import_specifier(
        self, path: str, text: str, target: str, exists: Callable[[str], bool]
    ) -> str | None:
        return _edits.import_specifier(path, text, target, self.ts_language(path))

    def with_import_names(
        self, path: str, text: str, module: str, names: Sequence[ImportedName], like: str | None = None
    ) -> str | None:
        return _edits.with_import_names(path, text, module, names, like, self.ts_language(path))

    def with_import_redirected(
        self, path: str, text: str, imp: Import, name: str, module: str | None
    ) -> str | None:
        return _edits.with_import_redirected(path, text, imp, name, module, self.ts_language(path))

    def with_dynamic_import_redirected(
        self, path: str, text: str, imp: Import, name: str, module: str | None
    ) -> str | None:
        return _dynamic_imports.with_dynamic_import_redirected(
            path, text, imp, name, module, self.ts_language(path)
        )

    def sibling_module(self, module: str, source_path: str, target_path: str) -> str | None:
        return _edits.sibling_module(module, source_path, target_path)

    def declaration_ranges(
        self, path: str, text: str, definition: Definition
    ) -> list[tuple[int, int]] | None:
        return _edits.declaration_ranges(path, text, definition, self.ts_language(path))

    def with_definition_exported(self, path: str, text: str, definition: Definition) -> str | None:
        return _edits.with_definition_exported(path, text, definition, self.ts_language(path))

    def local_names(self, path: str, text: str) -> frozenset[str]:
        return _edits.local_names(text, self.ts_language(path))

    def qualified_uses_missed(self, path: str, text: str, name: str) -> list[Reference]:
        return _edits.namespace_type_uses(text, name, self.ts_language(path))

    def move_target_allowed(self, source_path: str, target_path: str) -> bool:
        # JSX stays in files whose grammar parses it; declaration files hold no code to move into.
        return not target_path.endswith(".d.ts") and not source_path.endswith(".d.ts")


# ---------------------------------------------------------------- declared types of parameters and locals

_PARAMETERS = frozenset({"required_parameter", "optional_parameter"})
# A field the class gets by assignment from a name (``this.v0 = v0;``, see ``_ecmascript_fields``).
_ASSIGNED_FROM_NAME = re.compile(r"this\.[A-Za-z_$][\w$]*\s*=\s*([A-Za-z_$][\w$]*)\s*;?\s*$")
_UNTYPED_BINDERS = frozenset({"for_in_statement", "catch_clause", "arrow_function"})


def _scope_declarations(source: bytes, scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` (a function, block, ``for … of``, ``catch``) declares directly: parameters and
    ``const``/``let``/``var`` names with their annotated types (None when not annotated)."""
    if scope.type in _UNTYPED_BINDERS:  # ``for (const x of xs)``, ``catch (e)``, ``x => …``
        bound = scope.child_by_field_name("parameter" if scope.type != "for_in_statement" else "left")
        if bound is not None and bound.type == "identifier":
            yield bound, None
    for child in scope.named_children:
        if child.type == "formal_parameters":
            for parameter in child.named_children:
                if parameter.type == "identifier":  # JavaScript
                    yield parameter, None
                elif parameter.type == "assignment_pattern":  # JavaScript ``v0 = new Vector2()``
                    left = parameter.child_by_field_name("left")
                    if left is not None and left.type == "identifier":
                        yield left, _constructed_type(source, parameter.child_by_field_name("right"))
                elif parameter.type in _PARAMETERS:
                    pattern = parameter.child_by_field_name("pattern")
                    if pattern is not None and pattern.type == "identifier":
                        annotated = _annotated_type(source, parameter.child_by_field_name("type"))
                        yield (
                            pattern,
                            annotated or _constructed_type(source, parameter.child_by_field_name("value")),
                        )
        elif child.type in ("lexical_declaration", "variable_declaration"):
            for declarator in child.named_children:
                if declarator.type != "variable_declarator":
                    continue
                name = declarator.child_by_field_name("name")
                if name is not None and name.type == "identifier":
                    yield name, _annotated_type(source, declarator.child_by_field_name("type"))


def _type_parameter_bound(
    source: bytes, root: tree_sitter.Node, at: tuple[int, int], name: str
) -> str | None:
    """``name`` as seen at ``at``: where a declaration around it has a type parameter so named (zod's
    ``interface $ZodType<…, Internals extends $ZodTypeInternals<O, I> = …> { _zod: Internals }``), the type
    its bound says, else its default's (None when it has neither); else ``name`` itself."""
    node: tree_sitter.Node | None = root.named_descendant_for_point_range(at, at)
    while node is not None:
        parameters = node.child_by_field_name("type_parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            named = parameter.child_by_field_name("name")
            if named is not None and text(source, named) == name:
                return _annotated_type(
                    source, parameter.child_by_field_name("constraint")
                ) or _annotated_type(source, parameter.child_by_field_name("value"))
        node = node.parent
    return name


def _constructed_type(source: bytes, value: tree_sitter.Node | None) -> str | None:
    """A parameter's default ``new Vector2()`` / ``new ns.Box<T>()`` → ``Vector2`` / ``ns.Box``: what three.js
    types most of its constructor parameters with (no annotation, no JSDoc)."""
    if value is None or value.type != "new_expression":
        return None
    constructor = value.child_by_field_name("constructor")
    if constructor is None or constructor.type not in ("identifier", "member_expression"):
        return None
    return text(source, constructor)


def _annotated_type(source: bytes, annotation: tree_sitter.Node | None) -> str | None:
    """``: Store``, ``: ns.Store``, ``: Box<T>`` → ``Store``, ``ns.Store``, ``Box``; unions, arrays → None."""
    written = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    if written is not None and written.type == "generic_type":
        written = written.child_by_field_name("name")
        if written is not None and text(source, written) in ("Array", "ReadonlyArray"):
            return None  # an array of the type argument, not one (``_ecmascript_types.element_type``)
    if written is None or written.type not in ("type_identifier", "nested_type_identifier"):
        return None
    return text(source, written)


_BODY_COMMENTS = frozenset({"comment", "html_comment"})  # what a body may hold besides statements
_DECLARED_FUNCTIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "method_definition"}
)
_DECLARED_SCOPES = frozenset({"class_declaration", "abstract_class_declaration", "internal_module"})
_SCOPE_VALUES = frozenset({"class", "object"})
# Nodes that name the value they hold, and the fields of that name and value.
_NAMING_FIELDS = {
    "variable_declarator": ("name", "value"),
    "pair": ("key", "value"),
    "assignment_expression": ("left", "right"),
    "field_definition": ("property", "value"),  # JavaScript class field
    "public_field_definition": ("name", "value"),  # TypeScript class field
}


def _ecmascript_function(source: bytes, node: tree_sitter.Node) -> FunctionOrScope:
    """Functions, generators and methods with their statement block (TypeScript's overload signatures,
    interface and abstract methods have none and are other node types); a function or arrow function
    with a block body is named by what holds it (``const f = () => {…}``, ``{ f() {…} }``,
    ``exports.f = function () {…}``, a class field), objects and classes by the same means are scopes,
    and unnamed ones (callbacks) are anonymous. An arrow function with an expression body has no
    statements to lose: a scope."""
    if node.type in _DECLARED_FUNCTIONS or node.type in _DECLARED_SCOPES:
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body") if node.type in _DECLARED_FUNCTIONS else None
        return (text(source, name) if name is not None else None), body
    fields = _NAMING_FIELDS.get(node.type)
    if fields is None:
        return None
    name, value = node.child_by_field_name(fields[0]), node.child_by_field_name(fields[1])
    if name is None or value is None or name.type in ("array_pattern", "object_pattern"):
        return None
    named = unquote(text(source, name)) if name.type == "string" else text(source, name)
    if value.type in _SCOPE_VALUES:
        return named, None
    if value.type not in _FUNCTION_VALUES:
        return None
    body = value.child_by_field_name("body")
    return named, (body if body is not None and body.type == "statement_block" else None)
