"""Writing JavaScript/TypeScript imports and moving declarations between modules, in the file's own style.

What the refactors (``refactor.imports``, ``refactor.module_move``) ask of :class:`EcmaScriptSupport`:
specifiers as the file writes them (relative, without extension unless the file uses ``.js`` ESM
specifiers), statements in its quote and semicolon style, ESM or CommonJS (``require``) by what the file
already does, names merged into an existing import of the module, names split out of multi-name imports
and re-exports, declarations cut with their doc comments and decorators, and ``export`` added. Every edit
is computed on a fresh tree-sitter parse of the text it applies to; a form this module does not rewrite
raises ``ValueError`` with the reason (the planner then leaves the file alone and notes why).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from roost.context.facts import Definition, Import, ImportedName, Reference, Span
from roost.context.languages._common import text as node_text
from roost.context.languages._edit_source import EditSource, parse_for_edit

_IMPORT_FORMS = ("import_statement",)
_IMPORT_EQUALS = re.compile(r"\s*import\s+[A-Za-z_$][\w$]*\s*=\s*require\s*\(")
_DECLARATION_HOLDERS = ("lexical_declaration", "variable_declaration")
# What a specifier's extension becomes when the file writes ESM ``.js`` specifiers for TS sources.
_RUNTIME_EXTENSION = {
    ".ts": ".js",
    ".tsx": ".js",
    ".mts": ".mjs",
    ".cts": ".cjs",
    ".js": ".js",
    ".jsx": ".js",
    ".mjs": ".mjs",
    ".cjs": ".cjs",
}
_SOURCE_EXTENSIONS = (".d.ts", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


def _string_value(source: EditSource, node: tree_sitter.Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    raw = source.node_text(node)
    return raw[1:-1] if len(raw) >= 2 else None


def _require_module(source: EditSource, statement: tree_sitter.Node) -> tuple[tree_sitter.Node, str] | None:
    """``const … = require("m")`` at the top level: (its declarator, ``m``)."""
    if statement.type not in _DECLARATION_HOLDERS:
        return None
    declarators = [c for c in statement.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = declarators[0].child_by_field_name("value")
    if value is None or value.type != "call_expression":
        return None
    function = value.child_by_field_name("function")
    arguments = value.child_by_field_name("arguments")
    if function is None or source.node_text(function) != "require" or arguments is None:
        return None
    literal = next((c for c in arguments.named_children), None)
    module = _string_value(source, literal)
    return (declarators[0], module) if module is not None else None


def _statement_module(source: EditSource, statement: tree_sitter.Node) -> str | None:
    """The module an import-like top-level statement names (import, ``export … from``, ``require``)."""
    if statement.type in _IMPORT_FORMS or statement.type == "export_statement":
        clause = next((c for c in statement.named_children if c.type == "import_require_clause"), None)
        if clause is not None:  # TS ``import x = require("m")``
            return _string_value(source, clause.child_by_field_name("source"))
        return _string_value(source, statement.child_by_field_name("source"))
    found = _require_module(source, statement)
    return found[1] if found else None


def _import_like(source: EditSource) -> list[tree_sitter.Node]:
    return [c for c in source.root.named_children if _statement_module(source, c) is not None]


def _is_type_only(source: EditSource, statement: tree_sitter.Node) -> bool:
    return any(child.type == "type" for child in statement.children)


def _same_module(written: str, module: str) -> bool:
    if written == module:
        return True
    return _strip_extension(written) == _strip_extension(module) and written.startswith(".")


def _strip_extension(specifier: str) -> str:
    for extension in _SOURCE_EXTENSIONS:
        if specifier.endswith(extension):
            return specifier[: -len(extension)]
    return specifier


@dataclass(frozen=True)
class _Style:
    quote: str
    semicolon: str
    runtime_extensions: bool  # ``./x.js`` specifiers (ESM as Node and TS ``nodenext`` want them)
    commonjs: bool


def _style(path: str, source: EditSource) -> _Style:
    statements = _import_like(source)
    quote, semicolon, extensions = '"', ";", False
    if statements:
        first = statements[0]
        module_node = first.child_by_field_name("source")
        if module_node is None and (found := _require_module(source, first)) is not None:
            value = found[0].child_by_field_name("value")
            arguments = value.child_by_field_name("arguments") if value is not None else None
            module_node = arguments.named_children[0] if arguments and arguments.named_children else None
        if module_node is not None:
            quote = source.node_text(module_node)[:1] or '"'
        semicolon = ";" if source.node_text(first).rstrip().endswith(";") else ""
        extensions = any(
            posixpath.splitext(module)[1] in _RUNTIME_EXTENSION and module.startswith(".")
            for module in (_statement_module(source, s) for s in statements)
            if module
        )
    else:
        first_string = next((n for n in walk_named(source.root) if n.type == "string"), None)
        if first_string is not None:  # no imports yet: the quotes the file writes strings with
            quote = source.node_text(first_string)[:1] or '"'
        ends = [source.node_text(c).rstrip() for c in source.root.named_children if c.type != "comment"]
        if ends and not any(end.endswith((";", "}")) for end in ends):
            semicolon = ""
    esm = any(c.type in ("import_statement", "export_statement") for c in source.root.named_children)
    commonjs = path.endswith(".cjs") or (
        not esm
        and not path.endswith((".ts", ".tsx", ".mts", ".mjs"))
        # ESM is strict by itself: a "use strict" directive says the file is a script or CommonJS.
        and (
            "require(" in source.text
            or "module.exports" in source.text
            or "exports." in source.text
            or _has_use_strict(source)
        )
    )
    return _Style(quote, semicolon, extensions, commonjs)


def _has_use_strict(source: EditSource) -> bool:
    for child in source.root.named_children:
        if child.type == "comment" or child.type == "hash_bang_line":
            continue
        return child.type == "expression_statement" and source.node_text(child).strip("'\"; ") == "use strict"
    return False


# ------------------------------------------------------------------------------------------- specifiers


def import_specifier(path: str, text: str, target: str, language: tree_sitter.Language) -> str:
    style = _style(path, parse_for_edit(language, text))
    return specifier_for(path, target, style.runtime_extensions)


def specifier_for(importer: str, target: str, runtime_extensions: bool) -> str:
    relative = posixpath.relpath(target, posixpath.dirname(importer) or ".")
    if not relative.startswith("../"):
        relative = "./" + relative
    stem = _strip_extension(relative)
    if runtime_extensions:
        extension = relative[len(stem) :]
        return stem + _RUNTIME_EXTENSION.get(extension if extension != ".d.ts" else ".ts", extension)
    if stem.endswith("/index") and stem not in ("./index", "../index"):
        return stem[: -len("/index")]
    return stem


def sibling_module(module: str, source_path: str, target_path: str) -> str | None:
    """``module`` (naming ``source_path``) rewritten to name ``target_path`` of the same directory."""
    if posixpath.dirname(source_path) != posixpath.dirname(target_path):
        return None
    source_stem = _strip_extension(posixpath.basename(source_path))
    target_name = posixpath.basename(target_path)
    target_stem = _strip_extension(target_name)
    head, _, last = module.rpartition("/")
    last_stem = _strip_extension(last)
    if head and last_stem == source_stem:
        extension = last[len(last_stem) :]
        if extension:
            target_extension = target_name[len(target_stem) :]
            runtime = extension in (".js", ".mjs", ".cjs", ".jsx") and target_extension not in (extension,)
            extension = _RUNTIME_EXTENSION.get(target_extension, extension) if runtime else target_extension
        return f"{head}/{target_stem}{extension}"
    if source_stem == "index" and (module.startswith(".") or "/" in module):
        return f"{module.rstrip('/')}/{target_stem}"
    return None


# -------------------------------------------------------------------------------------- writing imports


def _render_names(names: Sequence[ImportedName], separator: str) -> str:
    return ", ".join(n.name + (f"{separator}{n.alias}" if n.alias else "") for n in names)


def _render(style: _Style, module: str, names: Sequence[ImportedName], type_only: bool) -> list[str]:
    q, semi = style.quote, style.semicolon
    spec = f"{q}{module}{q}"
    named = [n for n in names if n.name not in ("default", "*")]
    statements = []
    for binding in (n for n in names if n.name in ("default", "*")):
        local = binding.alias or binding.name
        if style.commonjs:
            statements.append(f"const {local} = require({spec}){semi}")
        elif binding.name == "default":
            statements.append(f"import {'type ' if type_only else ''}{local} from {spec}{semi}")
        else:
            statements.append(f"import {'type ' if type_only else ''}* as {local} from {spec}{semi}")
    if named:
        if style.commonjs:
            statements.append(f"const {{ {_render_names(named, ': ')} }} = require({spec}){semi}")
        else:
            keyword = "import type" if type_only else "import"
            statements.append(f"{keyword} {{ {_render_names(named, ' as ')} }} from {spec}{semi}")
    return statements


def _bound_locals(source: EditSource) -> set[str]:
    bound: set[str] = set()
    for statement in _import_like(source):
        if statement.type == "export_statement":
            continue
        for node in walk_named(statement):
            if (
                node.type in ("identifier", "shorthand_property_identifier_pattern")
                and node.parent is not None
            ):
                parent = node.parent
                if parent.type == "import_specifier" and parent.child_by_field_name("alias") not in (
                    None,
                    node,
                ):
                    continue
                if parent.type in ("pair_pattern",) and parent.child_by_field_name("key") == node:
                    continue
                if parent.type == "call_expression":
                    continue
                bound.add(source.node_text(node))
    return bound


def walk_named(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    found = [node]
    for child in node.named_children:
        found.extend(walk_named(child))
    return found


def _insertion_point(source: EditSource) -> tuple[int, bool]:
    """Where a new import statement goes: after the last import-like statement, else after the prologue
    (shebang, directives, a header comment followed by a blank line). Second: whether imports exist."""
    statements = _import_like(source)
    if statements:
        return source.line_end(statements[-1].end_byte), True
    offset = 0
    for child in source.root.children:
        if child.type == "hash_bang_line":
            offset = source.line_end(child.end_byte)
        elif (
            child.type == "expression_statement"
            and child.named_child_count == 1
            and (child.named_children[0].type == "string")
        ):
            offset = source.line_end(child.end_byte)  # "use strict"
        elif child.type == "comment":
            after = source.line_end(child.end_byte)
            if source.data[after : after + 1] == b"\n" or after >= len(source.data):
                offset = after  # a header comment: a blank line separates it from the code
            elif child.next_sibling is not None and child.next_sibling.type == "comment":
                continue
            else:
                break
        else:
            break
    return offset, False


def _insert_statements(source: EditSource, statements: list[str]) -> tuple[int, int, str]:
    offset, had_imports = _insertion_point(source)
    block = "".join(f"{s}\n" for s in statements)
    if offset >= len(source.data) and source.data and not source.data.endswith(b"\n"):
        block = "\n" + block
    rest = source.data[offset:]
    if not had_imports and rest and not rest.startswith(b"\n"):
        block += "\n"  # imports stand apart from the code
    if not had_imports and offset > 0 and source.data[offset - 2 : offset] != b"\n\n":
        block = "\n" + block
    return offset, offset, block


def with_import_names(
    path: str,
    text: str,
    module: str,
    names: Sequence[ImportedName],
    like: str | None,
    language: tree_sitter.Language,
) -> str:
    source = parse_for_edit(language, text)
    style = _style(path, source)
    bound = _bound_locals(source)
    # A bare ``*`` (a glob import) does not exist in JS: namespaces are ``ImportedName("*", alias)``.
    wanted = [n for n in names if (n.alias or n.name) not in bound and (n.name != "*" or n.alias)]
    if not wanted:
        return text
    type_only = bool(like and like.lstrip().startswith("import type"))
    edits: list[tuple[int, int, str]] = []
    named = [n for n in wanted if n.name not in ("default", "*")]
    rest = [n for n in wanted if n.name in ("default", "*")]
    if named:
        merged = _merge_named(source, style, module, named, type_only)
        if merged is not None:
            edits.append(merged)
            named = []
        elif (namespace := _namespace_of(source, style, module, type_only)) is not None:
            # The file reaches the module through ``import * as ns``: its uses become ``ns.X`` where they can.
            for name in [n for n in named if not n.alias]:
                qualified = _qualified_uses(source, name.name, name.name, namespace, language)
                if qualified is not None:
                    edits += qualified
                    named.remove(name)
    for binding in list(rest):
        if binding.name == "default" and not style.commonjs:
            merged = _merge_default(source, module, binding, type_only)
            if merged is not None:
                edits.append(merged)
                rest.remove(binding)
    equals = [n for n in rest if like and _IMPORT_EQUALS.match(like)]
    rest = [n for n in rest if n not in equals]
    statements = _render(style, module, rest + named, type_only)
    q = style.quote  # TS ``import x = require("m")`` keeps its form (it is not a default import)
    statements += [f"import {n.alias or n.name} = require({q}{module}{q}){style.semicolon}" for n in equals]
    if statements:
        edits.append(_insert_statements(source, statements))
    return source.with_edits(edits)


def _namespace_of(source: EditSource, style: _Style, module: str, type_only: bool) -> str | None:
    """The name an ``import * as ns from "<module>"`` binds (an ``import type`` one only for a type)."""
    if style.commonjs:
        return None
    for statement in source.root.named_children:
        if statement.type != "import_statement" or (_is_type_only(source, statement) and not type_only):
            continue
        written = _statement_module(source, statement)
        if written is None or not _same_module(written, module):
            continue
        clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
        for namespace in (
            c for c in (clause.named_children if clause else []) if c.type == "namespace_import"
        ):
            binding = next((c for c in namespace.named_children if c.type == "identifier"), None)
            if binding is not None:
                return source.node_text(binding)
    return None


# Nodes naming something whose ``name`` field is not a declaration: a JSX tag, ``a.B`` in a type.
_NAME_FIELD_USES = frozenset(
    {"jsx_opening_element", "jsx_closing_element", "jsx_self_closing_element", "nested_type_identifier"}
)


def _qualified_uses(
    source: EditSource,
    local: str,
    name: str,
    namespace: str,
    language: tree_sitter.Language,
    skipped: tree_sitter.Node | None = None,
) -> list[tuple[int, int, str]] | None:
    """The edits writing each use of the module-level name ``local`` as ``namespace.name`` (``{ X }`` as
    ``{ X: ns.X }``); None when one cannot be written so: a declaration of ``local`` anywhere (a parameter,
    a local, a type parameter would be rewritten with the uses they shadow) or of ``namespace`` (``ns.X``
    would read it there), an export list or another import naming it. ``skipped``: the import statement
    binding it now, which the caller rewrites."""
    if {local, namespace} & local_names(source.text, language):
        return None
    edits: list[tuple[int, int, str]] = []
    for node in walk_named(source.root):
        if node.type not in _USE_NODES or node.end_byte - node.start_byte != len(local.encode()):
            continue
        parent = node.parent
        if source.node_text(node) != local or parent is None:
            continue
        if skipped is not None and skipped.start_byte <= node.start_byte < skipped.end_byte:
            continue
        if node.type == "shorthand_property_identifier":
            edits.append((node.start_byte, node.end_byte, f"{local}: {namespace}.{name}"))
            continue
        if node.type == "shorthand_property_identifier_pattern" or parent.type in _IMPORT_OR_EXPORT_PARTS:
            return None
        if parent.type == "nested_type_identifier" and parent.child_by_field_name("name") == node:
            continue  # ``other.X``: another namespace's
        if parent.child_by_field_name("name") == node and parent.type not in _NAME_FIELD_USES:
            return None  # ``interface X``, ``<X>``: declared here
        edits.append((node.start_byte, node.end_byte, f"{namespace}.{name}"))
    return edits


_USE_NODES = frozenset(
    {
        "identifier",
        "type_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
    }
)
_IMPORT_OR_EXPORT_PARTS = frozenset(
    {"import_specifier", "import_clause", "namespace_import", "export_specifier", "namespace_export"}
)


def _named_list(source: EditSource, statement: tree_sitter.Node) -> tree_sitter.Node | None:
    """``{ … }`` of an import, a re-export or a ``require`` destructuring."""
    if statement.type == "import_statement":
        clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
        return next((c for c in clause.named_children if c.type == "named_imports"), None) if clause else None
    if statement.type == "export_statement":
        return next((c for c in statement.named_children if c.type == "export_clause"), None)
    found = _require_module(source, statement)
    if found is None:
        return None
    pattern = found[0].child_by_field_name("name")
    return pattern if pattern is not None and pattern.type == "object_pattern" else None


def _elements(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [
        c
        for c in node.named_children
        if c.type
        in ("import_specifier", "export_specifier", "shorthand_property_identifier_pattern", "pair_pattern")
    ]


def _mergeable_list(
    source: EditSource, style: _Style, module: str, type_only: bool
) -> tree_sitter.Node | None:
    """The ``{ … }`` of an import of ``module`` (of the file's kind: ESM or ``require``) that new names
    can join."""
    for statement in _import_like(source):
        if statement.type == "export_statement":
            continue
        if (statement.type == "import_statement") == style.commonjs:
            continue
        written = _statement_module(source, statement)
        if written is None or not _same_module(written, module):
            continue
        if statement.type == "import_statement" and _is_type_only(source, statement) != type_only:
            continue
        listing = _named_list(source, statement)
        if listing is not None:
            return listing
    return None


def _join_list(listing: tree_sitter.Node, rendered: str) -> tuple[int, int, str]:
    elements = _elements(listing)
    if elements:
        return elements[-1].end_byte, elements[-1].end_byte, ", " + rendered
    closing = listing.end_byte - 1
    return closing, closing, f" {rendered} "


def _merge_named(
    source: EditSource, style: _Style, module: str, names: Sequence[ImportedName], type_only: bool
) -> tuple[int, int, str] | None:
    listing = _mergeable_list(source, style, module, type_only)
    if listing is None:
        return None
    separator = ": " if listing.type == "object_pattern" else " as "
    return _join_list(listing, _render_names(names, separator))


def _merge_default(
    source: EditSource, module: str, binding: ImportedName, type_only: bool
) -> tuple[int, int, str] | None:
    for statement in source.root.named_children:
        if statement.type != "import_statement" or _is_type_only(source, statement) != type_only:
            continue
        written = _statement_module(source, statement)
        if written is None or not _same_module(written, module):
            continue
        clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
        if clause is None or any(c.type in ("identifier", "namespace_import") for c in clause.named_children):
            continue
        return clause.start_byte, clause.start_byte, f"{binding.alias or binding.name}, "
    return None


# ---------------------------------------------------------------------------------- redirecting imports


def _statement_at(source: EditSource, imp: Import) -> tree_sitter.Node:
    byte = source.byte_at(imp.span.start_line, imp.span.start_col)
    for child in source.root.named_children:
        if child.start_byte <= byte < child.end_byte:
            return child
    raise ValueError(f"no statement at line {imp.span.start_line + 1}")


def element_name(source: EditSource, element: tree_sitter.Node) -> str:
    if element.type == "shorthand_property_identifier_pattern":
        return source.node_text(element)
    field = "key" if element.type == "pair_pattern" else "name"
    name = element.child_by_field_name(field)
    return source.node_text(name) if name is not None else ""


def statement_removal(source: EditSource, statement: tree_sitter.Node) -> tuple[int, int]:
    start, end = statement.start_byte, statement.end_byte
    line_start = source.line_start(start)
    line_end = source.line_end(end)
    if not source.data[line_start:start].strip() and not source.data[end:line_end].strip():
        blank_before = line_start == 0 or source.data[max(0, line_start - 2) : line_start] == b"\n\n"
        if blank_before and source.data[line_end : line_end + 1] == b"\n":
            line_end += 1  # no double blank line where the statement was
        return line_start, line_end
    return start, end


def with_import_redirected(
    path: str, text: str, imp: Import, name: str, module: str | None, language: tree_sitter.Language
) -> str:
    source = parse_for_edit(language, text)
    style = _style(path, source)
    statement = _statement_at(source, imp)
    q, semi = style.quote, style.semicolon
    if statement.type == "export_statement" and imp.is_star:
        if module is None:
            return text
        end = source.line_end(statement.end_byte)
        return source.with_edits([(end, end, f"export {{ {name} }} from {q}{module}{q}{semi}\n")])
    listing = _named_list(source, statement)
    if listing is None:
        raise ValueError(
            f"{path}: the import of {name!r} on line {imp.span.start_line + 1} is not a list of names"
        )
    elements = _elements(listing)
    index = next((i for i, e in enumerate(elements) if element_name(source, e) == name), None)
    if index is None:
        raise ValueError(f"{path}: line {imp.span.start_line + 1} does not import {name!r}")
    element = elements[index]
    spec = source.node_text(element)
    edits: list[tuple[int, int, str]] = []
    statement_removed = False
    if len(elements) > 1:
        if index + 1 < len(elements):
            edits.append((element.start_byte, elements[index + 1].start_byte, ""))
        else:
            edits.append((elements[index - 1].end_byte, element.end_byte, ""))
    else:
        clause = listing.parent
        bindings = [c for c in clause.named_children if c != listing] if clause is not None else []
        if statement.type == "import_statement" and bindings:
            edits.append((bindings[-1].end_byte, listing.end_byte, ""))  # ``D, { X }`` → ``D``
        else:
            edits.append(statement_removal(source, statement) + ("",))
            statement_removed = True
    if module is not None:
        type_only = statement.type == "import_statement" and _is_type_only(source, statement)
        if statement.type == "import_statement" or _require_module(source, statement) is not None:
            listing = _mergeable_list(source, style, module, type_only)
            if listing is not None and not statement.start_byte <= listing.start_byte < statement.end_byte:
                edits.append(_join_list(listing, spec))
                return source.with_edits(edits)
            namespace = _namespace_of(source, style, module, type_only)
            if statement.type == "import_statement" and namespace is not None:
                # ``import * as ns`` of the new module: the uses become ``ns.X`` rather than a second import.
                name, alias = element_name(source, element), element.child_by_field_name("alias")
                local = source.node_text(alias) if alias is not None else name
                uses = _qualified_uses(source, local, name, namespace, language, statement)
                if uses is not None:
                    return source.with_edits(edits + uses)
        if statement.type == "import_statement":
            new = f"{'import type' if type_only else 'import'} {{ {spec} }} from {q}{module}{q}{semi}"
        elif statement.type == "export_statement":
            keyword = "export type" if _is_type_only(source, statement) else "export"
            new = f"{keyword} {{ {spec} }} from {q}{module}{q}{semi}"
        else:
            keyword = source.node_text(statement).split(None, 1)[0]
            new = f"{keyword} {{ {spec} }} = require({q}{module}{q}){semi}"
        if statement_removed:
            start, end, _ = edits.pop()
            line_whole = source.data[end - 1 : end] == b"\n"
            if line_whole:  # replaced in place: the blank line a removal would have taken along stays
                end = source.line_end(statement.end_byte)
            edits.append((start, end, new + ("\n" if line_whole else "")))
        else:
            end = source.line_end(statement.end_byte)
            edits.append((end, end, new + "\n"))
    return source.with_edits(edits)


# ---------------------------------------------------------------------------------- moving declarations


def declared_names(source: bytes, declaration: tree_sitter.Node) -> list[str]:
    """The names a declaration binds (``const a = 1, b = 2`` → a, b); extraction and moves share it."""
    name = declaration.child_by_field_name("name")
    if name is not None:
        return [node_text(source, name)]
    names: list[str] = []
    for child in declaration.named_children:
        if child.type == "variable_declarator":
            bound = child.child_by_field_name("name")
            if bound is not None and bound.type == "identifier":
                names.append(node_text(source, bound))
        elif child.type == "function_signature" or child.type.endswith("declaration"):
            names.extend(declared_names(source, child))  # ``export declare const x`` / ``function f()``
    return names


def _declared(source: EditSource, node: tree_sitter.Node) -> tuple[list[str], bool, tree_sitter.Node]:
    """Names a top-level statement declares, whether it is a default export, and the declaration node."""
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        is_default = any(child.type == "default" for child in node.children)
        if declaration is None:
            value = node.child_by_field_name("value")
            named = value.child_by_field_name("name") if value is not None else None
            return ([source.node_text(named)] if named is not None else []), is_default, node
        return declared_names(source.data, declaration), is_default, declaration
    if node.type == "ambient_declaration":
        inner = next((c for c in node.named_children), None)
        return (declared_names(source.data, inner) if inner is not None else []), False, node
    if node.type.endswith(("declaration", "signature")) or node.type == "internal_module":
        return declared_names(source.data, node), False, node
    if node.type == "expression_statement" and node.named_children:
        inner = node.named_children[0]
        if inner.type == "internal_module":  # ``namespace X { }``
            return declared_names(source.data, inner), False, node
    return [], False, node


def _declarations_of(source: EditSource, name: str) -> list[tree_sitter.Node]:
    found = []
    for child in source.root.named_children:
        names, is_default, _ = _declared(source, child)
        if name in names:
            if is_default:
                raise ValueError(f"{name!r} is the default export; move default exports by hand")
            if len(names) > 1:
                raise ValueError(
                    f"{name!r} is declared together with {', '.join(n for n in names if n != name)}"
                )
            found.append(child)
    return found


def _refuse_commonjs(path: str, source: EditSource) -> None:
    if _style(path, source).commonjs:
        raise ValueError(f"{path} is a CommonJS module (module.exports): move its code by hand")


def declaration_ranges(
    path: str, text: str, definition: Definition, language: tree_sitter.Language
) -> list[tuple[int, int]]:
    source = parse_for_edit(language, text)
    _refuse_commonjs(path, source)
    nodes = _declarations_of(source, definition.name)
    if not nodes:
        raise ValueError(f"no top-level declaration of {definition.name!r}")
    ranges = []
    for node in nodes:
        first = node
        while (
            first.prev_sibling is not None
            and first.prev_sibling.type == "comment"
            and first.prev_sibling.end_point[0] >= first.start_point[0] - 1
        ):
            first = first.prev_sibling
        start = source.line_start(first.start_byte)
        end = source.line_end(node.end_byte)
        while end < len(source.data) and source.data[end : end + 1] == b"\n":
            end += 1
        ranges.append((source.char(start), source.char(end)))
    return ranges


def with_definition_exported(
    path: str, text: str, definition: Definition, language: tree_sitter.Language
) -> str:
    source = parse_for_edit(language, text)
    _refuse_commonjs(path, source)
    nodes = _declarations_of(source, definition.name)
    if not nodes:
        raise ValueError(f"no top-level declaration of {definition.name!r}")
    for child in source.root.named_children:  # ``export { helper }``
        if child.type == "export_statement" and child.child_by_field_name("source") is None:
            listing = _named_list(source, child)
            if listing is not None and any(
                element_name(source, e) == definition.name for e in _elements(listing)
            ):
                return text
    edits = []
    for node in nodes:
        if node.type == "export_statement":
            continue
        if node.type == "expression_statement" and not node.type.endswith("declaration"):
            inner = node.named_children[0] if node.named_children else None
            if inner is None or inner.type != "internal_module":
                raise ValueError(f"{definition.name!r} is not declared by a statement that can be exported")
            node = inner
        keyword = next((c for c in node.children if c.type != "decorator"), node)
        edits.append((keyword.start_byte, keyword.start_byte, "export "))
    return source.with_edits(edits)


# Parents under which an identifier binds a name (parameters, declarators, destructuring, catch, loops).
_BINDING_PARENTS = frozenset(
    {
        "required_parameter",
        "optional_parameter",
        "formal_parameters",
        "array_pattern",
        "rest_pattern",
        "catch_clause",
        "for_in_statement",
        "function_declaration",
        "function_expression",
        "generator_function_declaration",
        "class_declaration",
        "class",
    }
)


def local_names(text: str, language: tree_sitter.Language) -> frozenset[str]:
    source = parse_for_edit(language, text)
    names: set[str] = set()
    for node in walk_named(source.root):
        parent = node.parent
        if parent is None:
            continue
        if node.type == "shorthand_property_identifier_pattern":
            names.add(source.node_text(node))
        elif node.type != "identifier":
            continue
        elif (
            parent.type in _BINDING_PARENTS
            or parent.type == "variable_declarator"
            and parent.child_by_field_name("name") == node
            or parent.type == "arrow_function"
            and parent.child_by_field_name("parameter") == node
            or parent.type in ("pair_pattern", "assignment_pattern")
            and parent.child_by_field_name("value" if parent.type == "pair_pattern" else "left") == node
        ):
            names.add(source.node_text(node))
    return frozenset(names)


def namespace_type_uses(text: str, name: str, language: tree_sitter.Language) -> list[Reference]:
    """``ns.Name`` / ``a.ns.Name`` in type positions (TypeScript ``nested_type_identifier``), which the
    file's references give without their namespace: each with the namespace path as the receiver."""
    source = parse_for_edit(language, text)
    found = []
    for node in walk_named(source.root):
        if node.type != "nested_type_identifier":
            continue
        module, type_name = node.child_by_field_name("module"), node.child_by_field_name("name")
        if module is None or type_name is None or source.node_text(type_name) != name:
            continue
        (row, col), (end_row, end_col) = type_name.start_point, type_name.end_point
        receiver = re.sub(r"\s+", "", source.node_text(module))
        found.append(Reference(name, Span(row, col, end_row, end_col), receiver))
    return found
