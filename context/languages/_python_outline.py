"""Python outline extraction: definitions, imports, ``__all__``/re-exports and references of one tree.

Two extractors, kept equal by a test over the standard library: :func:`outline_records_by_walk` walks the
statements of an error-free tree once (the cold index's path: it enters only statement containers and
knows each definition's parent from where it is), and the outline query (``queries/python.scm``, through
:func:`collect` and :func:`definition_records`) serves trees with syntax errors and the re-extraction of
one edited statement (:mod:`._python_incremental`). Definitions travel as records (tuples in the codec's
layout) until someone needs :class:`Definition` objects. References come from
``queries/python_references.scm``.
"""

from __future__ import annotations

import posixpath
import re
from functools import cache
from inspect import cleandoc
from operator import itemgetter
from pathlib import Path
from typing import Protocol

import tree_sitter
import tree_sitter_python

from roost.context.facts import (
    Definition,
    DefinitionRecord,
    Export,
    Import,
    ImportedName,
    Reference,
    Span,
    SymbolKind,
)
from roost.context.languages._common import query_cursor

LANGUAGE_NAME = "python"

_QUERY_DIR = Path(__file__).with_name("queries")
# A receiver longer than this (a chained call over lines) does not help resolution and costs memory.
_MAX_RECEIVER_CHARS = 120
_MAX_SIGNATURE_LINES = 8
_MAX_DOC_CHARS = 2000
_STRING_PREFIX = re.compile(r"^[rRbBuUfF]{0,2}('''|\"\"\"|'|\")")
# A string literal's start: optional prefix letters, then a quote (``return``, ``raise`` and ``f(...)`` do
# not pass, as they would on the first letter alone).
_STRING_START = re.compile(rb"[rRbBuUfF]{0,2}['\"]")
_STRING_FIRST = frozenset(bytes([c]) for c in b"'\"rRbBuUfF")
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
# Kind values as definition records hold them.
KIND_CLASS, KIND_FUNCTION, KIND_METHOD = (
    SymbolKind.CLASS.value,
    SymbolKind.FUNCTION.value,
    SymbolKind.METHOD.value,
)
KIND_FIELD, KIND_CONSTANT, KIND_VARIABLE = (
    SymbolKind.FIELD.value,
    SymbolKind.CONSTANT.value,
    SymbolKind.VARIABLE.value,
)
_DEFINITION_CAPTURES = (
    "definition.class",
    "definition.function",
    "definition.variable",
    "definition.field",
    "definition.instance_field",
)


class ByteRange(Protocol):
    """Where a node, or a run of statements standing in for one, lies in the source."""

    @property
    def start_byte(self) -> int: ...
    @property
    def end_byte(self) -> int: ...


# One definition the outline query (or the walk) found: (start_byte, end_byte, capture name, name node,
# definition node, body node or None for an assignment).
OutlineCapture = tuple[int, int, str, tree_sitter.Node, tree_sitter.Node, tree_sitter.Node | None]
# A whole outline: definition records, import statement nodes, and each ``__all__`` value with whether it
# is added to (``+=``) rather than assigned.
Outline = tuple[list[DefinitionRecord], list[tree_sitter.Node], list[tuple[bool, tree_sitter.Node]]]
# The outline query's captures: like :data:`Outline`, with captures in place of records.
OutlineCaptures = tuple[list[OutlineCapture], list[tree_sitter.Node], list[tuple[bool, tree_sitter.Node]]]
# module(0) > class(1) > block(2) > def(3) > block(4) > if(5) > block(6) > def/import(7) > block(8)
MAX_OUTLINE_DEPTH = 8


@cache
def grammar() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_python.language())


@cache
def query(file_name: str) -> tree_sitter.Query:
    return tree_sitter.Query(grammar(), (_QUERY_DIR / file_name).read_text(encoding="utf-8"))


def node_text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def node_span(node: tree_sitter.Node) -> Span:
    (sl, sc), (el, ec) = node.start_point, node.end_point
    return Span(sl, sc, el, ec)


def _signature(source: bytes, start: int, end: int) -> str:
    raw = source[start:end].decode("utf-8", errors="replace").strip()
    if "\n" not in raw:
        return raw
    lines = raw.splitlines()
    if len(lines) > _MAX_SIGNATURE_LINES:
        lines = [*lines[:_MAX_SIGNATURE_LINES], "…"]
    return "\n".join(line.rstrip() for line in lines).strip()


def _string_value(literal: str) -> str | None:
    """The content of a plain string literal (no escape processing), None for f-strings/concatenations."""
    match = _STRING_PREFIX.match(literal)
    if match is None or "f" in literal[: match.start(1)].lower():
        return None
    quote = match.group(1)
    body = literal[match.end() :]
    if not body.endswith(quote):
        return None
    return body[: -len(quote)]


def _docstring(source: bytes, body: tree_sitter.Node | None) -> str | None:
    if body is None:
        return None
    start = body.start_byte
    # Cheap rejections first: most bodies do not start with a quote or a prefix letter, and of those that
    # do, ``return``/``raise``/``f(...)`` have no quote after the letters.
    if source[start : start + 1] not in _STRING_FIRST or _STRING_START.match(source, start) is None:
        return None
    first = body.named_child(0)
    if first is None or first.kind_id not in kind_ids("expression_statement"):
        return None
    string = first.named_child(0)
    if string is None or string.kind_id not in kind_ids("string"):
        return None
    value = _string_value(node_text(source, string))
    if value is None:
        return None
    # Most docstrings are one line; cleandoc (dedent) only where there is something to dedent.
    doc = cleandoc(value) if "\n" in value else value.strip()
    return doc[:_MAX_DOC_CHARS] or None


def dedupe_fields(records: list[DefinitionRecord]) -> list[DefinitionRecord]:
    """One field per class and name: the first assignment (class attribute or ``self.x =``) wins."""
    field_names = [record[1] for record in records if record[2] == KIND_FIELD]
    if len(set(field_names)) == len(field_names):
        return records  # most files: nothing to drop, and no second pass over every record
    seen: set[str] = set()
    kept = []
    for record in records:
        if record[2] == KIND_FIELD:
            if record[1] in seen:
                continue
            seen.add(record[1])
        kept.append(record)
    return kept


def dedupe_field_definitions(definitions: list[Definition]) -> list[Definition]:
    """:func:`dedupe_fields` for Definition objects (open buffers)."""
    seen: set[str] = set()
    kept = []
    for definition in definitions:
        if definition.kind is SymbolKind.FIELD:
            if definition.qualified_name in seen:
                continue
            seen.add(definition.qualified_name)
        kept.append(definition)
    return kept


_KINDS = {kind.value: kind for kind in SymbolKind}


def record_to_definition(record: DefinitionRecord) -> Definition:
    """(name, qualified, kind value, span tuple, name span tuple, signature, doc, parent) → Definition;
    the same layout :mod:`roost.context.codec` stores."""
    name, qualified, kind, span, name_span, signature, doc, parent = record
    return Definition(name, qualified, _KINDS[kind], Span(*span), Span(*name_span), signature, doc, parent)


def outline_records(source: bytes, root: tree_sitter.Node) -> Outline:
    """A whole file's definition records (fields not yet deduplicated), import nodes and ``__all__``
    values: walked when the tree is error-free (cheaper than the query's cursor, which steps through
    every expression node), else the query."""
    if root.has_error:
        found, import_nodes, all_values = collect(root)
        return definition_records(source, found, []), import_nodes, all_values
    return outline_records_by_walk(source, root)


def collect(root: tree_sitter.Node, unit: ByteRange | None = None, depth_offset: int = 0) -> OutlineCaptures:
    """Run the outline query (over ``unit``'s bytes only when given; matches outside it are dropped)."""
    # (start_byte, end_byte, kind, name node, def node, body node)
    found: list[OutlineCapture] = []
    import_nodes: list[tree_sitter.Node] = []
    all_values: list[tuple[bool, tree_sitter.Node]] = []
    cursor = tree_sitter.QueryCursor(query("python.scm"))
    # Expressions make up most of a tree and hold no definitions or imports: not descending into
    # them halves the query time. Definitions nested deeper than this many syntax levels (a def in
    # a def in a method in an if...) are not indexed.
    cursor.set_max_start_depth(MAX_OUTLINE_DEPTH - depth_offset)
    low, high = (unit.start_byte, unit.end_byte) if unit is not None else (0, 1 << 62)
    if unit is not None:
        cursor.set_byte_range(low, high)
    for _, captures in cursor.matches(root):
        if "import" in captures:
            node = captures["import"][0]
            if low <= node.start_byte and node.end_byte <= high:
                import_nodes.append(node)
            continue
        if "all.value" in captures:
            node = captures["all.value"][0]
            all_values.append((node.parent is not None and node.parent.type == "augmented_assignment", node))
            continue
        names = captures.get("name")
        if not names:
            continue
        for kind in _DEFINITION_CAPTURES:
            nodes = captures.get(kind)
            if nodes:
                node = nodes[0]
                if node.start_byte < low or node.end_byte > high:
                    break
                body = captures["body"][0] if "body" in captures else None
                for name_node in names:
                    found.append((node.start_byte, node.end_byte, kind, name_node, node, body))
                break
    found.sort(key=lambda item: (item[0], -item[1]))
    return found, import_nodes, all_values


def imports_of(source: bytes, import_nodes: list[tree_sitter.Node]) -> list[Import]:
    return [
        imp
        for node in sorted(import_nodes, key=lambda n: n.start_byte)
        for imp in _statement_imports(source, node)
    ]


def definition_records(
    source: bytes, found: list[OutlineCapture], stack: list[tuple[int, str, str]]
) -> list[DefinitionRecord]:
    """Definition records (see :func:`record_to_definition`) from sorted captures.

    Records, not :class:`Definition` objects: the cold index encodes them as they are, which saves
    building three frozen dataclasses per definition. ``stack`` holds the enclosing definitions,
    innermost last, as (end_byte, qualified_name, kind value): empty for a whole file, the class
    for one of its members.
    """
    records: list[DefinitionRecord] = []
    seen: set[tuple[str, int]] = set()
    floor = len(stack)  # enclosing definitions given by the caller stay
    for start, end, capture, name_node, node, body in found:
        while len(stack) > floor and stack[-1][0] <= start:
            stack.pop()
        name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", errors="replace")
        parent, parent_kind = (stack[-1][1], stack[-1][2]) if stack else (None, None)
        # Point is a tuple: concatenating gives the (line, col, line, col) record in one step.
        span = node.start_point + node.end_point
        name_span = name_node.start_point + name_node.end_point
        if capture == "definition.instance_field":
            # ``self.x = ...`` in a method: a field of the method's class.
            if parent_kind != KIND_METHOD or len(stack) < 2 or stack[-2][2] != KIND_CLASS:
                continue
            parent = stack[-2][1]
            line_end = source.find(b"\n", node.start_byte, node.end_byte)
            records.append(
                (
                    name,
                    f"{parent}.{name}",
                    KIND_FIELD,
                    span,
                    name_span,
                    _signature(source, node.start_byte, node.end_byte if line_end < 0 else line_end),
                    None,
                    parent,
                )
            )
            continue
        if capture == "definition.class":
            kind = KIND_CLASS
        elif capture == "definition.function":
            kind = KIND_METHOD if parent_kind == KIND_CLASS else KIND_FUNCTION
        elif capture == "definition.field":
            kind = KIND_FIELD
        else:
            kind = KIND_CONSTANT if _CONSTANT_NAME.match(name) else KIND_VARIABLE
        qualified = f"{parent}.{name}" if parent else name
        key = (qualified, name_node.start_byte)
        if key in seen:
            continue
        seen.add(key)
        if body is not None:
            signature = _signature(source, node.start_byte, body.start_byte)
            doc = _docstring(source, body)
            stack.append((end, qualified, kind))
        else:
            # An assignment: its first line is the "signature" (``TIMEOUT: float = 3.0``).
            line_end = source.find(b"\n", node.start_byte, node.end_byte)
            signature = _signature(source, node.start_byte, node.end_byte if line_end < 0 else line_end)
            doc = None
        records.append(
            (
                name,
                qualified,
                kind,
                span,
                name_span,
                signature,
                doc,
                parent,
            )
        )
    return records


def _statement_imports(source: bytes, node: tree_sitter.Node) -> list[Import]:
    span = node_span(node)
    if node.type == "import_statement":
        result = []
        for child in node.named_children:
            if child.type == "dotted_name":
                result.append(Import(module=node_text(source, child), span=span))
            elif child.type == "aliased_import":
                name = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if name is not None:
                    result.append(
                        Import(
                            module=node_text(source, name),
                            span=span,
                            alias=node_text(source, alias) if alias is not None else None,
                        )
                    )
        return result
    if node.type == "future_import_statement":
        module = "__future__"
        module_node = None
    else:
        module_node = node.child_by_field_name("module_name")
        if module_node is None:
            return []
        module = "".join(node_text(source, module_node).split())
    names: list[ImportedName] = []
    is_star = False
    for child in node.named_children:
        if child is module_node or (module_node is not None and child.start_byte == module_node.start_byte):
            continue
        if child.type == "wildcard_import":
            is_star = True
        elif child.type == "dotted_name":
            names.append(ImportedName(node_text(source, child)))
        elif child.type == "aliased_import":
            name = child.child_by_field_name("name")
            alias = child.child_by_field_name("alias")
            if name is not None:
                names.append(
                    ImportedName(
                        node_text(source, name), node_text(source, alias) if alias is not None else None
                    )
                )
    return [Import(module=module, span=span, names=tuple(names), is_star=is_star)]


def exports_of(
    path: str, source: bytes, imports: list[Import], all_values: list[tuple[bool, tree_sitter.Node]]
) -> list[Export]:
    imported: dict[str, tuple[str, str]] = {}
    for imp in imports:
        for item in imp.names:
            imported[item.local_name] = (imp.module, item.name)
    names: list[str] = []
    for augmented, value in all_values:
        if not augmented:
            names = []
        for child in value.named_children:
            if child.type == "string":
                text = _string_value(node_text(source, child))
                if text and text.isidentifier():
                    names.append(text)
    if names:
        exports = []
        for name in dict.fromkeys(names):
            origin = imported.get(name)
            exports.append(Export(name, origin[0], origin[1]) if origin else Export(name))
        return exports
    if posixpath.splitext(posixpath.basename(path))[0] != "__init__":
        return []
    # A package without ``__all__`` re-exports what its ``__init__`` imports by name.
    return [
        Export(item.local_name, imp.module, item.name)
        for imp in imports
        if imp.module != "__future__"
        for item in imp.names
        if not item.local_name.startswith("_")
    ]


def extract_references(path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
    captures = query_cursor(query("python_references.scm")).captures(tree.root_node)
    receivers: dict[int, str] = {}
    for attr in captures.get("attribute", ()):
        parent = attr.parent
        receiver = parent.child_by_field_name("object") if parent is not None else None
        if receiver is not None and receiver.end_byte - receiver.start_byte <= _MAX_RECEIVER_CHARS:
            receivers[attr.start_byte] = node_text(source, receiver)
        else:
            receivers[attr.start_byte] = ""  # an attribute of something unhelpful to name
    references = []
    for node in captures.get("reference", ()):
        receiver_text = receivers.get(node.start_byte)
        references.append(Reference(node_text(source, node), node_span(node), receiver_text or None))
    references.sort(key=lambda ref: (ref.span.start_line, ref.span.start_col))
    return references


# -- outline by walking statements (error-free trees) ----------------------------------------------------

# Nodes that can hold statements. Expressions (most of a tree) hold no definitions or imports, so a walk
# that only enters these visits a fraction of the nodes the outline query's cursor steps through.
# Could ``self.<name> = `` / ``self.<name>: T = `` be in this text? (Tokens of an assignment whose left side
# is the attribute may only be separated by spaces and line continuations.) Most method bodies read
# ``self.`` but assign none: one regex scan spares a node per statement.
_SELF_ASSIGNMENT = re.compile(rb"self[\s\\]*\.[\s\\]*[^\s\\=:.()\[\],;]+[\s\\]*(?::|=(?!=))")
_STATEMENT_CONTAINERS = (
    "module",
    "block",
    "decorated_definition",
    "function_definition",
    "class_definition",
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "try_statement",
    "except_clause",
    "except_group_clause",
    "finally_clause",
    "with_statement",
    "match_statement",
    "case_clause",
)


@cache
def kind_ids(*names: str) -> frozenset[int]:
    """Every named node-kind id spelled ``names`` (ints compare faster than ``Node.type`` strings, which
    are built per access; one name may have several ids through aliases)."""
    language = grammar()
    return frozenset(
        kind
        for kind in range(language.node_kind_count)
        if language.node_kind_is_named(kind) and language.node_kind_for_id(kind) in names
    )


def _block_assignments(block: tree_sitter.Node | None) -> list[tree_sitter.Node]:
    """``(block (expression_statement (assignment) ...))``: the assignments directly in a block."""
    if block is None or block.kind_id not in kind_ids("block"):
        return []
    statement_ids, assignment_ids = kind_ids("expression_statement"), kind_ids("assignment")
    return [
        inner
        for statement in block.named_children
        if statement.kind_id in statement_ids
        for inner in statement.named_children
        if inner.kind_id in assignment_ids
    ]


def _identifier_left(assignment: tree_sitter.Node) -> tree_sitter.Node | None:
    left = assignment.child_by_field_name("left")
    return left if left is not None and left.kind_id in kind_ids("identifier") else None


def _module_level(
    source: bytes,
    root: tree_sitter.Node,
    found: list[OutlineCapture],
    all_values: list[tuple[bool, tree_sitter.Node]],
) -> None:
    """Module-level patterns: variables (also under a top-level if/else/try/except) and ``__all__``."""
    identifier = kind_ids("identifier")
    assignment_ids = kind_ids("assignment")
    for statement in root.named_children:
        kind = statement.type
        if kind == "expression_statement":
            for inner in statement.named_children:
                inner_kind = inner.type
                if inner_kind == "assignment":
                    left = inner.child_by_field_name("left")
                    if left is None:
                        continue
                    if left.kind_id in identifier:
                        found.append(
                            (inner.start_byte, inner.end_byte, "definition.variable", left, inner, None)
                        )
                    elif left.type == "pattern_list":
                        found.extend(
                            (inner.start_byte, inner.end_byte, "definition.variable", name, inner, None)
                            for name in left.named_children
                            if name.kind_id in identifier
                        )
                if inner_kind in ("assignment", "augmented_assignment"):
                    left = inner.child_by_field_name("left")
                    right = inner.child_by_field_name("right")
                    if (
                        left is not None
                        and right is not None
                        and left.kind_id in identifier
                        and source[left.start_byte : left.end_byte] == b"__all__"
                    ):
                        all_values.append((inner.kind_id not in assignment_ids, right))
            continue
        blocks: list[tree_sitter.Node | None] = []
        if kind == "if_statement":
            blocks.append(statement.child_by_field_name("consequence"))
            for alternative in statement.children_by_field_name("alternative"):
                if alternative.type == "else_clause":
                    blocks.append(alternative.child_by_field_name("body"))
        elif kind == "try_statement":
            blocks.append(statement.child_by_field_name("body"))
            for clause in statement.named_children:
                if clause.type == "except_clause":
                    blocks.extend(c for c in clause.named_children if c.type == "block")
        for block in blocks:
            for assignment in _block_assignments(block):
                left = _identifier_left(assignment)
                if left is not None:
                    found.append(
                        (
                            assignment.start_byte,
                            assignment.end_byte,
                            "definition.variable",
                            left,
                            assignment,
                            None,
                        )
                    )


def _may_hold_outline(source: bytes, low: int, high: int) -> bool:
    """Could bytes [low, high) hold a definition or an import? One C-speed scan per word instead of a node
    per statement (most function bodies hold neither)."""
    return (
        source.find(b"def", low, high) >= 0
        or source.find(b"import", low, high) >= 0
        or (source.find(b"class", low, high) >= 0)
    )


# Records in source order: by span. Two records starting at one place are the names of one assignment
# (``A, B = ...``: the same span, kept in order by the stable sort), never an outer and an inner one (a
# definition's span starts at its keyword, its members' further in), so the span's end needs no reversing.
_record_sort_key = itemgetter(3)


def outline_records_by_walk(source: bytes, root: tree_sitter.Node) -> Outline:
    """The outline of a whole, error-free tree in one walk over statements: definition records (see
    :func:`record_to_definition`; fields not yet deduplicated), import nodes and ``__all__`` values.

    Equal to running the outline query and :func:`definition_records` over its captures (tested
    on the standard library), at a fraction of the cost: the walk only enters statement containers
    (expressions are most of a tree), skips blocks whose text holds no ``def``/``class``/``import``, and
    knows each definition's parent from where it is, so there is no capture list to sort and no stack of
    scopes to unwind. ``self.x = ...`` is only looked for in functions directly inside a class (the only
    place the query's records keep it). Trees with errors go through the query: the walk does not
    reproduce how patterns match inside ``ERROR`` nodes."""
    found: list[OutlineCapture] = []
    import_nodes: list[tree_sitter.Node] = []
    all_values: list[tuple[bool, tree_sitter.Node]] = []
    _module_level(source, root, found, all_values)
    records: list[DefinitionRecord] = []
    append = records.append
    find = source.find
    for _start, _end, _capture, name_node, node, _body in found:
        start, end = node.start_byte, node.end_byte
        name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", errors="replace")
        line_end = find(b"\n", start, end)
        append(
            (
                name,
                name,
                KIND_CONSTANT if _CONSTANT_NAME.match(name) else KIND_VARIABLE,
                node.start_point + node.end_point,
                name_node.start_point + name_node.end_point,
                _signature(source, start, end if line_end < 0 else line_end),
                None,
                None,
            )
        )
    imports = kind_ids("import_statement", "import_from_statement", "future_import_statement")
    classes, functions = kind_ids("class_definition"), kind_ids("function_definition")
    definitions = classes | functions
    containers = kind_ids(*_STATEMENT_CONTAINERS)
    identifier, block = kind_ids("identifier"), kind_ids("block")
    statement_ids, assignment_ids = kind_ids("expression_statement"), kind_ids("assignment")
    attribute_ids = kind_ids("attribute")
    # Most statements are none of these (expressions, returns, assignments): one set test skips them.
    wanted = imports | definitions | containers

    def field(assignment: tree_sitter.Node, name_node: tree_sitter.Node, owner: str) -> None:
        # A class attribute or ``self.x = ...``: its first line is the "signature" (``x: int = 3``).
        name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", errors="replace")
        start, end = assignment.start_byte, assignment.end_byte
        line_end = find(b"\n", start, end)
        append(
            (
                name,
                f"{owner}.{name}",
                KIND_FIELD,
                assignment.start_point + assignment.end_point,
                name_node.start_point + name_node.end_point,
                _signature(source, start, end if line_end < 0 else line_end),
                None,
                owner,
            )
        )

    def fields(body: tree_sitter.Node, is_class: bool, owner: str) -> None:
        # Assignments directly in the body: ``x = ...`` of a class, ``self.x = ...`` of a method. The loop of
        # _block_assignments/_identifier_left inlined: calling them here cost ~3 % of the cold extraction.
        for statement in body.named_children:
            if statement.kind_id not in statement_ids:
                continue
            for inner in statement.named_children:
                if inner.kind_id not in assignment_ids:
                    continue
                left = inner.child_by_field_name("left")
                if left is None:
                    continue
                if is_class:
                    if left.kind_id in identifier:
                        field(inner, left, owner)
                elif left.kind_id in attribute_ids:
                    target = left.child_by_field_name("object")
                    attribute = left.child_by_field_name("attribute")
                    if (
                        target is not None
                        and attribute is not None
                        and target.kind_id in identifier
                        and attribute.kind_id in identifier
                        and source[target.start_byte : target.end_byte] == b"self"
                    ):
                        field(inner, attribute, owner)

    def walk(container: tree_sitter.Node, depth: int, parent: str | None, parent_kind: str | None) -> None:
        # ``depth`` is the syntax depth of ``container``'s children, capped as the query's cursor is.
        for child in container.named_children:
            kind = child.kind_id
            if kind not in wanted:
                continue
            if kind in imports:
                import_nodes.append(child)
                continue
            if kind in definitions:
                name_node = child.child_by_field_name("name")
                body = child.child_by_field_name("body")
                if name_node is None or body is None or name_node.kind_id not in identifier:
                    continue
                if body.kind_id not in block:
                    continue
                is_class = kind in classes
                name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", errors="replace")
                qualified = f"{parent}.{name}" if parent else name
                own_kind = (
                    KIND_CLASS if is_class else KIND_METHOD if parent_kind == KIND_CLASS else KIND_FUNCTION
                )
                body_start, body_end = body.start_byte, body.end_byte
                append(
                    (
                        name,
                        qualified,
                        own_kind,
                        child.start_point + child.end_point,
                        name_node.start_point + name_node.end_point,
                        _signature(source, child.start_byte, body_start),
                        _docstring(source, body),
                        parent,
                    )
                )
                if is_class:
                    fields(body, True, qualified)
                elif parent_kind == KIND_CLASS and _SELF_ASSIGNMENT.search(source, body_start, body_end):
                    fields(body, False, parent)  # type: ignore[arg-type]  # a method has a parent
                # Of a definition's children only the body can hold anything: straight to it.
                if depth + 1 < MAX_OUTLINE_DEPTH and _may_hold_outline(source, body_start, body_end):
                    walk(body, depth + 2, qualified, own_kind)
                continue
            if depth < MAX_OUTLINE_DEPTH:
                if kind in block and not _may_hold_outline(source, child.start_byte, child.end_byte):
                    continue
                walk(child, depth + 1, parent, parent_kind)

    walk(root, 1, None, None)
    # ``walk`` refers to itself through its closure: a reference cycle that would keep this file's nodes,
    # and so its whole tree, alive until the cyclic collector runs (measured: ~20 % of the extraction
    # time went to freeing trees late). Breaking it frees the tree as soon as the caller drops it.
    walk = None  # type: ignore[assignment]
    # Class attributes and ``self.x`` fields were recorded with their class or method, before what is
    # nested in it: back to source order (stable, so ``A, B = ...`` keeps its names in order).
    records.sort(key=_record_sort_key)
    return records, import_nodes, all_values
