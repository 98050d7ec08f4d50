"""Python: definitions, references, imports, ``__all__``/re-exports and import resolution.

Extraction runs tree-sitter queries (``queries/python.scm``, ``queries/python_references.scm``) and does a
little arithmetic per captured definition; it never walks the tree node by node. Parent scopes come from a
stack over definitions sorted by position, so nesting costs nothing per node.
"""

from __future__ import annotations

import builtins
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from inspect import cleandoc
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

import tree_sitter
import tree_sitter_python

from roost.context.codec import encode_records
from roost.context.facts import (
    Definition,
    Export,
    FileFacts,
    Import,
    ImportedName,
    Reference,
    ResolvedImport,
    Span,
    SymbolKind,
)
from roost.context.languages.base import (
    LanguageSupport,
    ScopeDeclaration,
    TextChange,
    WorkspaceLayout,
    declared_type_in_scopes,
    parsed_for_lookup,
    parsed_snippet,
)

if TYPE_CHECKING:
    from roost.context.buffers import Buffer

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
_CLASS, _FUNCTION, _METHOD = SymbolKind.CLASS.value, SymbolKind.FUNCTION.value, SymbolKind.METHOD.value
_FIELD, _CONSTANT, _VARIABLE = SymbolKind.FIELD.value, SymbolKind.CONSTANT.value, SymbolKind.VARIABLE.value
_DEFINITION_CAPTURES = (
    "definition.class",
    "definition.function",
    "definition.variable",
    "definition.field",
    "definition.instance_field",
)
# module(0) > class(1) > block(2) > def(3) > block(4) > if(5) > block(6) > def/import(7) > block(8)
MAX_OUTLINE_DEPTH = 8


@cache
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_python.language())


@cache
def _query(file_name: str) -> tree_sitter.Query:
    return tree_sitter.Query(_language(), (_QUERY_DIR / file_name).read_text(encoding="utf-8"))


def _text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _span(node: tree_sitter.Node) -> Span:
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
    if first is None or first.kind_id not in _kind_ids("expression_statement"):
        return None
    string = first.named_child(0)
    if string is None or string.kind_id not in _kind_ids("string"):
        return None
    value = _string_value(_text(source, string))
    if value is None:
        return None
    # Most docstrings are one line; cleandoc (dedent) only where there is something to dedent.
    doc = cleandoc(value) if "\n" in value else value.strip()
    return doc[:_MAX_DOC_CHARS] or None


class _NotLocal(Exception):
    """The edit's effects are not confined to one statement: extract the whole file."""


def _edit_unit(root: tree_sitter.Node, low: int, high: int) -> tree_sitter.Node | None:
    """The statement holding bytes [low, high]: a top-level statement or a class-body member. A class's
    first statement (its docstring) belongs to the class itself."""
    node = root.descendant_for_byte_range(low, high)
    while node is not None:
        parent = node.parent
        if parent is None:
            return None  # the edit touches the module itself
        if parent.parent is None:
            unit = node  # a top-level statement
        elif (
            parent.type == "block" and parent.parent is not None and parent.parent.type == "class_definition"
        ):
            first = parent.named_child(0) if parent.named_child_count else None
            if first is not None and first.start_byte == node.start_byte:
                node = parent.parent  # the docstring is the class's: re-extract the class
                continue
            unit = node
        else:
            node = parent
            continue
        if unit.start_byte > low or unit.end_byte < high:
            return None
        return unit
    return None


class _Region(NamedTuple):
    """A byte/point range standing for the statements re-extracted after an edit."""

    start_byte: int
    end_byte: int
    start_point: tuple[int, int]
    end_point: tuple[int, int]


def _is_class_body(node: tree_sitter.Node) -> bool:
    return node.type == "block" and node.parent is not None and node.parent.type == "class_definition"


def _member_run(
    node: tree_sitter.Node | None, low: int, high: int
) -> tuple[tree_sitter.Node, list[tree_sitter.Node]] | None:
    """The innermost module or class body holding bytes [low, high], and its members from the one holding
    ``low`` (or the last statement before it, for an edit on a blank or comment line) to the last starting
    by ``high + 1``. Chosen by where members *start*: the tree may be an old one edited (its re-parse
    deferred), whose starts follow the edits but whose ends do not grow over text typed at a member's end.
    None when the run would include a class's first statement (its docstring is the class's: the class
    must be re-extracted, so the run is looked for one level out) and there is no level out. ``node``:
    where to start looking (the smallest node holding the edit)."""
    while node is not None:
        while node.parent is not None and not _is_class_body(node):
            parent = node.parent
            node = parent
            if parent.parent is None or _is_class_body(parent):
                break
        container = node
        children = container.named_children
        first = -1
        for index, child in enumerate(children):
            if child.start_byte > low:
                break
            first = index
        while first > 0 and children[first].type == "comment":
            first -= 1
        if container.type == "block" and first <= 0:
            node = container.parent  # the class's docstring, or a class nested in a function: go out
            continue
        if first < 0:
            return None
        last = first
        while last + 1 < len(children) and children[last + 1].start_byte <= high + 1:
            last += 1
        return container, children[first : last + 1]
    return None


@cache
def _line_at_or_left_of(column: int) -> re.Pattern[bytes]:
    # A line starting with at most ``column`` spaces then anything but a space, a line end or a comment.
    return re.compile(rb"\n {0,%d}[^ \r\n#]" % column)


def _region(
    source: bytes, node: tree_sitter.Node | None, low: int, high: int
) -> tuple[tree_sitter.Node, list[tree_sitter.Node], int] | None:
    """(container, members, end byte) of the statements to re-parse for an edit of bytes [low, high]
    (see :func:`_member_run`): the members up to where the next one started before the edit.

    The text must still say so: after the first member's line, every line that is neither blank nor a
    comment, not indented past the block and not inside a member must start the next member, in order, the last one being the
    member after the run (found in the text, not the tree: an edited old tree's ends are stale, its starts
    are not). Then what follows the region parses as it did. A run ending its class (the next such line
    is indented less, or there is none) is looked for one level out, the member holding the class, so
    the region lies inside every enclosing definition, whose ends then just shift with the edit."""
    while True:
        found = _member_run(node, low, high)
        if found is None:
            return None
        container, members = found
        siblings = container.named_children
        last_index = next(i for i, child in enumerate(siblings) if child.id == members[-1].id)
        following = next((c for c in siblings[last_index + 1 :] if c.type != "comment"), None)
        expected = [m.start_byte for m in members[1:] if m.type != "comment"]
        column = siblings[0].start_point[1] if container.parent is not None else 0
        end_byte = None
        closing = len(source)  # where the class ends, when the run is its last members
        for line in _line_at_or_left_of(column).finditer(source, members[0].start_byte):
            token = line.end() - 1
            if any(m.start_byte < token < m.end_byte for m in members):
                # Inside a member before the edit (a string's or a bracket's later line): if the edit
                # changed that, the parse of the region fails or finds other statements, and is refused.
                continue
            # A member must also still start at the block's column: the same statement moved left (an
            # edit deleting its indentation) leaves the block there, and what follows parses differently.
            at_block_column = token - line.start() - 1 == column
            if expected:
                if token != expected.pop(0) or not at_block_column:
                    return None
                continue
            if following is not None and token == following.start_byte and at_block_column:
                end_byte = line.start()
            elif following is not None or container.parent is None or at_block_column:
                return None
            else:
                closing = line.start()  # a line left of the block: the class ends before it
            break
        else:
            if expected or following is not None:
                return None
            if container.parent is None:
                end_byte = len(source)
        if end_byte is None and _starts_next_after_owner(source, container, closing):
            end_byte = closing  # the run ends its class, and the class's next statement is where it was
        if end_byte is not None:
            if source[:end_byte].rstrip().endswith(b"\\"):
                return None  # a line continuation: the next member's line joins the region's last line
            return container, members, end_byte
        node = container.parent


def _starts_next_after_owner(source: bytes, body: tree_sitter.Node, closing: int) -> bool:
    """Whether the text from ``closing`` (where a class body's last members end) begins with the statement
    that followed the class before the edit (or is the end of the file and nothing followed it)."""
    owner = body.parent
    if owner is None:
        return False
    wrapper = (
        owner.parent if owner.parent is not None and owner.parent.type == "decorated_definition" else owner
    )
    outer = wrapper.parent
    if outer is None:
        return False
    siblings = outer.named_children
    index = next(i for i, child in enumerate(siblings) if child.id == wrapper.id)
    after = next((c for c in siblings[index + 1 :] if c.type != "comment"), None)
    if closing >= len(source):
        return after is None and outer.parent is None
    if after is None:
        return False
    line = source[closing + 1 : after.start_byte + 1]
    return line.strip() == source[after.start_byte : after.start_byte + 1] and b"\n" not in line


def _point_of(source: bytes, offset: int) -> tuple[int, int]:
    return source.count(b"\n", 0, offset), offset - (source.rfind(b"\n", 0, offset) + 1)


def _line_break_before(source: bytes, offset: int) -> tuple[int, tuple[int, int]]:
    """(byte, point) of the line break ending the line before ``offset``'s line (0 on the first line)."""
    line_break = source.rfind(b"\n", 0, offset)
    if line_break < 0:
        return 0, (0, 0)
    return line_break, _point_of(source, line_break)


def _block_headers(container: tree_sitter.Node) -> list[tuple[tree_sitter.Node, tree_sitter.Node]] | None:
    """(definition, body) for each class/def whose body holds ``container`` (itself included), outermost
    first; the header of each is its text up to its body. None when another block (if, try, with...)
    is on the way: its header alone is not a whole statement."""
    headers = []
    block = container
    while block.parent is not None:
        owner = block.parent
        if owner.type not in ("class_definition", "function_definition"):
            return None
        headers.append((owner, block))
        outer = owner.parent
        if outer is not None and outer.type == "decorated_definition":
            outer = outer.parent
        if outer is None:
            return None
        if outer.parent is None:
            break  # the module
        if outer.type != "block":
            return None
        block = outer
    headers.reverse()
    return headers


def _depth(node: tree_sitter.Node) -> int:
    depth = 0
    parent = node.parent
    while parent is not None:
        depth += 1
        parent = parent.parent
    return depth


def _definition_ancestors(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Enclosing class/function definitions of ``node``, outermost first."""
    found = []
    current = node.parent
    while current is not None:
        if current.type in ("class_definition", "function_definition"):
            found.append(current)
        current = current.parent
    found.reverse()
    return found


def _map_back(point: tuple[int, int], change: TextChange) -> tuple[int, int]:
    """A point at or after the edit's new end, in the coordinates before the edit."""
    new_end, old_end = change.new_end_point, change.old_end_point
    if point[0] == new_end[0]:
        return (old_end[0], old_end[1] + point[1] - new_end[1])
    return (point[0] - (new_end[0] - old_end[0]), point[1])


def _shift(span: Span, lines: int) -> Span:
    if not lines:
        return span
    return Span(span.start_line + lines, span.start_col, span.end_line + lines, span.end_col)


def _dedupe_fields(records: list[tuple]) -> list[tuple]:
    """One field per class and name: the first assignment (class attribute or ``self.x =``) wins."""
    field_names = [record[1] for record in records if record[2] == _FIELD]
    if len(set(field_names)) == len(field_names):
        return records  # most files: nothing to drop, and no second pass over every record
    seen: set[str] = set()
    kept = []
    for record in records:
        if record[2] == _FIELD:
            if record[1] in seen:
                continue
            seen.add(record[1])
        kept.append(record)
    return kept


def _dedupe_field_definitions(definitions: list[Definition]) -> list[Definition]:
    """:func:`_dedupe_fields` for Definition objects (open buffers)."""
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


def _record_to_definition(record: tuple) -> Definition:
    """(name, qualified, kind value, span tuple, name span tuple, signature, doc, parent) → Definition;
    the same layout :mod:`roost.context.codec` stores."""
    name, qualified, kind, span, name_span, signature, doc, parent = record
    return Definition(name, qualified, _KINDS[kind], Span(*span), Span(*name_span), signature, doc, parent)


def _definition_to_record(definition: Definition) -> tuple:
    s, n = definition.span, definition.name_span
    return (
        definition.name,
        definition.qualified_name,
        definition.kind.value,
        (s.start_line, s.start_col, s.end_line, s.end_col),
        (n.start_line, n.start_col, n.end_line, n.end_col),
        definition.signature,
        definition.doc,
        definition.parent,
    )


def module_name_for_path(rel_path: str) -> str:
    """``pkg/sub/mod.py`` → ``pkg.sub.mod``; ``pkg/__init__.py`` → ``pkg`` (relative to a source root)."""
    parts = list(PurePosixPath(rel_path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class PythonSupport(LanguageSupport):
    name = "python"
    extensions = (".py", ".pyi")

    def ts_language(self, path: str) -> tree_sitter.Language:
        return _language()

    # -- extraction ----------------------------------------------------------------------------------

    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts = self.extract_outline(path, source, tree)
        facts.references = self.extract_references(path, source, tree)
        return facts

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts = FileFacts(path=path, language=self.name)
        records, import_nodes, all_values = self._outline_records(source, tree.root_node)
        facts.definitions = [_record_to_definition(r) for r in _dedupe_fields(records)]
        facts.imports = self._imports_of(source, import_nodes)
        facts.exports = self._exports(path, source, facts.imports, all_values)
        return facts

    def extract_outline_encoded(
        self, path: str, source: bytes, tree: tree_sitter.Tree
    ) -> tuple[bytes, list[Import], int]:
        """The cold-index fast path: definitions go from captures to the encoded record without becoming
        objects. Equal to ``encode_facts(extract_outline(...))`` (tested)."""
        records, import_nodes, all_values = self._outline_records(source, tree.root_node)
        records = _dedupe_fields(records)
        imports = self._imports_of(source, import_nodes)
        exports = self._exports(path, source, imports, all_values)
        return encode_records(path, self.name, None, records, imports, exports), imports, len(records)

    # -- incremental outline for open buffers -------------------------------------------------------------

    def update_outline(
        self,
        path: str,
        source: bytes,
        tree: tree_sitter.Tree,
        state: dict,
        old_tree: tree_sitter.Tree | None = None,
        change: TextChange | None = None,
    ) -> FileFacts:
        """Re-extract only the statement that holds the edit (a top-level statement or a class member),
        shift what follows, and splice. Falls back to a full extraction whenever that is not provably
        the same (the property test in tests/context compares both)."""
        facts = None
        # With a syntax error the tree is a fresh parse (see Buffer), not an incremental one: its changed
        # ranges against the old tree miss what error recovery moved (found by the property test).
        if old_tree is not None and change is not None and "raw" in state and not tree.root_node.has_error:
            try:
                facts = self._splice(path, source, tree, state, old_tree, change)
            except Exception:  # a bug here must cost speed, never correctness
                facts = None
        if facts is None:
            _query("python.scm")  # compiled now (~15 ms, once), not on the first edit spliced locally
            records, import_nodes, all_values = self._outline_records(source, tree.root_node)
            raw = [_record_to_definition(r) for r in records]
            facts = FileFacts(path=path, language=self.name)
            facts.definitions = _dedupe_field_definitions(raw)
            facts.imports = self._imports_of(source, import_nodes)
            facts.exports = self._exports(path, source, facts.imports, all_values)
            state["raw"] = raw
        state["facts"] = facts
        return facts

    def _splice(
        self,
        path: str,
        source: bytes,
        tree: tree_sitter.Tree,
        state: dict,
        old_tree: tree_sitter.Tree,
        change: TextChange,
    ) -> FileFacts | None:
        root = tree.root_node
        low, high = change.start_byte, change.new_end_byte
        for changed in old_tree.changed_ranges(tree):
            low, high = min(low, changed.start_byte), max(high, changed.end_byte)
        unit = _edit_unit(root, low, high)
        if unit is None:
            return None
        return self._splice_unit(path, source, state, change, root, unit, _definition_ancestors(unit), 0)

    updates_outline_locally = True

    def update_outline_local(self, path: str, buffer: Buffer, state: dict) -> FileFacts | None:
        """The outline after one edit, from a parse of the edited statements with only the headers of the
        class/def blocks around them (``buffer`` has its whole-file re-parse deferred); None when that cannot
        be shown to equal the whole parse, and the caller then parses the file (:meth:`update_outline`).

        The statements are a run of members of the module or of a class body (see :func:`_region`): the
        member holding the edit, up to where the next member started before the edit, which the text must
        still show. The parse (tree-sitter included ranges: each header from the line break before it,
        then the region) is accepted only without a syntax error, with nothing outside the headers'
        blocks, and with the same members (kinds, starts): the region then ends in the state it ended in
        before (no open bracket, string or block), so the rest of the file parses as it did. The outline of
        the region is spliced into the previous one (:meth:`_splice_unit`). Checked against whole parses by
        the property tests in tests/context/test_index_incremental.py (random edits, fresh outline after
        each one).
        """
        change = buffer.last_change
        old_tree = buffer.previous_tree
        if change is None or old_tree is None or "raw" not in state or old_tree.root_node.has_error:
            return None
        low, high = change.start_byte, change.new_end_byte
        source = buffer.source
        found = _region(source, old_tree.root_node.descendant_for_byte_range(low, high), low, high)
        if found is None:
            return None
        container, members, end_byte = found
        block_column = container.named_children[0].start_point[1] if container.parent is not None else 0
        start_byte, start_point = members[0].start_byte, members[0].start_point
        if low < start_byte:
            start_byte, start_point = low, change.start_point
        line_start = source.rfind(b"\n", 0, start_byte) + 1
        if source[line_start:start_byte].strip():
            return None  # something else shares the first line: the statements alone would not be whole
        end_point = _point_of(source, end_byte)
        headers = _block_headers(container)
        if headers is None:
            return None
        # The region starts at its first line's first token, which must sit where the block's statements
        # do: the parse below sees the headers' indentation but not the block's earlier lines.
        first_line_end = source.find(b"\n", line_start)
        first_line = source[line_start : len(source) if first_line_end < 0 else first_line_end]
        indent = len(first_line) - len(first_line.lstrip(b" "))
        if indent != block_column or line_start + indent < start_byte:
            return None
        start_byte, start_point = line_start + indent, (start_point[0], indent)
        # Each range starts with the line break before its first line, so the indentation scanner sees
        # every line's real indentation (a range starting mid-line would hide the region's dedent).
        ranges = []
        for node, body in headers:
            header_end = source.rfind(b"\n", 0, body.start_byte)
            if header_end <= node.start_byte:
                return None  # a one-line body (class A: pass) is never a container here; be safe
            ranges.append(
                (*_line_break_before(source, node.start_byte), header_end, _point_of(source, header_end))
            )
        ranges.append((*_line_break_before(source, start_byte), end_byte, end_point))
        alone = buffer.parse_ranges([(a, c, b, d) for a, b, c, d in ranges]).root_node
        if alone.has_error:
            return None
        block = alone
        for node, _ in headers:  # down to the body the statements were parsed in
            # Only the header's definition at each level: anything else is region text that fell out of
            # the block (a line dedented by the edit), which the file would parse differently.
            kids = [n for n in block.named_children if n.type != "comment"]
            owner = kids[0] if len(kids) == 1 else None
            if owner is None or (owner.type, owner.start_byte) != (node.type, node.start_byte):
                return None
            block = owner.child_by_field_name("body")
            if block is None:
                return None
        statements = [n for n in block.named_children if n.start_byte >= start_byte]
        expected = [n for n in members if n.type != "comment"]
        # Same statements (kinds, starts). Their ends may move (typing at the end of a line), and the old
        # tree's ends are no guide there (tree.edit stretches a node over text inserted at its end).
        if len([n for n in statements if n.type != "comment"]) != len(expected) or any(
            (a.type, a.start_byte) != (b.type, b.start_byte)
            for a, b in zip([n for n in statements if n.type != "comment"], expected, strict=True)
        ):
            return None
        ancestors = _definition_ancestors(members[0])
        unit = _Region(start_byte, end_byte, start_point, end_point)
        # Decorators above the enclosing definitions are left out of the parse: the statements sit that
        # much shallower than in the file, and the outline's depth limit moves with them.
        depth = _depth(container) - _depth(block)
        if _depth(container) >= MAX_OUTLINE_DEPTH:
            return None
        closed = None  # the class whose last members the region holds: its new end is the parse's
        if headers and not any(
            child.type != "comment" and child.start_byte > members[-1].start_byte
            for child in container.named_children
        ):
            closed = (headers[-1][0].start_point, block.parent.end_point)
        facts = self._splice_unit(path, source, state, change, alone, unit, ancestors, depth, True, closed)
        if facts is not None:
            state["facts"] = facts
            state["local"] = state.get("local", 0) + 1  # diagnostics: edits served without a file parse
        return facts

    def _splice_unit(
        self,
        path: str,
        source: bytes,
        state: dict,
        change: TextChange,
        root: tree_sitter.Node,
        unit,
        ancestors: list[tree_sitter.Node],
        depth_offset: int,
        ends_from_outline: bool = False,
        closed: tuple[tuple[int, int], tuple[int, int]] | None = None,
    ) -> FileFacts | None:
        """Splice the outline of ``unit`` (re-extracted from ``root``) into the previous outline; the
        definitions before it keep their place (enclosing ones get their new end), those after it shift
        by the lines the edit added or removed. ``ends_from_outline``: the ancestors come from an old tree
        edited without a re-parse, whose ends can be stale (tree.edit stretches a node over text typed at
        its end); ``unit`` then lies inside them before a later line of theirs, so their new ends are the
        previous outline's, shifted by the lines the edit added; except ``closed``, (start, new end) of
        the class whose last statements ``unit`` holds."""
        previous: FileFacts = state["facts"]
        raw: list[Definition] = state["raw"]
        if len(ancestors) > MAX_OUTLINE_DEPTH // 2 - 1:
            return None
        stack: list[tuple[int, str, str]] = []
        ancestor_ends: dict[tuple[int, int], tuple[int, int]] = {}
        for node in ancestors:
            name_node = node.child_by_field_name("name")
            if name_node is None:
                return None
            name = _text(source, name_node)
            parent_kind = stack[-1][2] if stack else None
            if node.type == "class_definition":
                kind = _CLASS
            else:
                kind = _METHOD if parent_kind == _CLASS else _FUNCTION
            qualified = f"{stack[-1][1]}.{name}" if stack else name
            stack.append((node.end_byte, qualified, kind))
            ancestor_ends[node.start_point] = node.end_point
        if ends_from_outline:
            line_delta = change.new_end_point[0] - change.old_end_point[0]
            for definition in raw:
                start = (definition.span.start_line, definition.span.start_col)
                if start in ancestor_ends:
                    ancestor_ends[start] = (definition.span.end_line + line_delta, definition.span.end_col)
        if closed is not None:  # (start, new end) of the class the edited statements end
            ancestor_ends[closed[0]] = closed[1]

        unit_start = unit.start_point
        line_delta = change.new_end_point[0] - change.old_end_point[0]
        old_unit_end = _map_back(unit.end_point, change)
        edit_row = change.old_end_point[0]

        def partition(items, span_of):
            before, after = [], []
            for item in items:
                span = span_of(item)
                start = (span.start_line, span.start_col)
                if start < unit_start:
                    before.append(item)
                elif start >= old_unit_end:
                    if span.start_line <= edit_row:
                        raise _NotLocal
                    after.append(item)
            return before, after

        try:
            raw_before, raw_after = partition(raw, lambda d: d.span)
            imports_before, imports_after = partition(previous.imports, lambda i: i.span)
        except _NotLocal:
            return None
        if any(
            d.name == "__all__"
            for d in raw
            if unit_start <= (d.span.start_line, d.span.start_col) < old_unit_end
        ):
            return None

        found, import_nodes, all_values = self._collect(root, unit, depth_offset)
        if all_values:
            return None
        fresh = [_record_to_definition(r) for r in self._definitions(source, found, stack)]
        updated_before = []
        for definition in raw_before:
            span = definition.span
            if (span.end_line, span.end_col) >= unit_start:  # an enclosing definition: new end
                end = ancestor_ends.get((span.start_line, span.start_col))
                if end is None:
                    return None
                definition = replace(definition, span=Span(span.start_line, span.start_col, end[0], end[1]))
            updated_before.append(definition)
        new_raw = (
            updated_before
            + fresh
            + [
                replace(d, span=_shift(d.span, line_delta), name_span=_shift(d.name_span, line_delta))
                for d in raw_after
            ]
        )
        new_imports = (
            imports_before
            + self._imports_of(source, import_nodes)
            + [replace(i, span=_shift(i.span, line_delta)) for i in imports_after]
        )
        if new_imports == previous.imports:
            exports = previous.exports
        elif b"__all__" in source:
            return None  # exports come from __all__ with origins from the imports: recompute fully
        else:
            exports = self._exports(path, source, new_imports, [])
        state["raw"] = new_raw
        state["spliced"] = state.get("spliced", 0) + 1  # diagnostics: edits served incrementally
        facts = FileFacts(path=path, language=self.name)
        facts.definitions = _dedupe_field_definitions(new_raw)
        facts.imports = new_imports
        facts.exports = exports
        return facts

    def _outline_records(
        self, source: bytes, root: tree_sitter.Node
    ) -> tuple[list[tuple], list[tree_sitter.Node], list[tuple[bool, tree_sitter.Node]]]:
        """A whole file's definition records (fields not yet deduplicated), import nodes and ``__all__``
        values: walked when the tree is error-free (cheaper than the query's cursor, which steps through
        every expression node), else the query."""
        if root.has_error:
            found, import_nodes, all_values = self._collect(root)
            return self._definitions(source, found, []), import_nodes, all_values
        return outline_records_by_walk(source, root)

    def _collect(
        self, root: tree_sitter.Node, unit=None, depth_offset: int = 0
    ) -> tuple[list[tuple], list[tree_sitter.Node], list[tuple[bool, tree_sitter.Node]]]:
        """Run the outline query (over ``unit``'s bytes only when given; matches outside it are dropped)."""
        # (start_byte, end_byte, kind, name node, def node, body node)
        found: list[tuple] = []
        import_nodes: list[tree_sitter.Node] = []
        all_values: list[tuple[bool, tree_sitter.Node]] = []
        cursor = tree_sitter.QueryCursor(_query("python.scm"))
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
                all_values.append(
                    (node.parent is not None and node.parent.type == "augmented_assignment", node)
                )
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

    def _imports_of(self, source: bytes, import_nodes: list[tree_sitter.Node]) -> list[Import]:
        return [
            imp
            for node in sorted(import_nodes, key=lambda n: n.start_byte)
            for imp in self._imports(source, node)
        ]

    def _definitions(self, source: bytes, found: list, stack: list[tuple[int, str, str]]) -> list[tuple]:
        """Definition records (see :func:`_record_to_definition`) from sorted captures.

        Records, not :class:`Definition` objects: the cold index encodes them as they are, which saves
        building three frozen dataclasses per definition. ``stack`` holds the enclosing definitions,
        innermost last, as (end_byte, qualified_name, kind value): empty for a whole file, the class
        for one of its members.
        """
        records: list[tuple] = []
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
                if parent_kind != _METHOD or len(stack) < 2 or stack[-2][2] != _CLASS:
                    continue
                parent = stack[-2][1]
                line_end = source.find(b"\n", node.start_byte, node.end_byte)
                records.append(
                    (
                        name,
                        f"{parent}.{name}",
                        _FIELD,
                        span,
                        name_span,
                        _signature(source, node.start_byte, node.end_byte if line_end < 0 else line_end),
                        None,
                        parent,
                    )
                )
                continue
            if capture == "definition.class":
                kind = _CLASS
            elif capture == "definition.function":
                kind = _METHOD if parent_kind == _CLASS else _FUNCTION
            elif capture == "definition.field":
                kind = _FIELD
            else:
                kind = _CONSTANT if _CONSTANT_NAME.match(name) else _VARIABLE
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

    def _imports(self, source: bytes, node: tree_sitter.Node) -> list[Import]:
        span = _span(node)
        if node.type == "import_statement":
            result = []
            for child in node.named_children:
                if child.type == "dotted_name":
                    result.append(Import(module=_text(source, child), span=span))
                elif child.type == "aliased_import":
                    name = child.child_by_field_name("name")
                    alias = child.child_by_field_name("alias")
                    if name is not None:
                        result.append(
                            Import(
                                module=_text(source, name),
                                span=span,
                                alias=_text(source, alias) if alias is not None else None,
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
            module = "".join(_text(source, module_node).split())
        names: list[ImportedName] = []
        is_star = False
        for child in node.named_children:
            if child is module_node or (
                module_node is not None and child.start_byte == module_node.start_byte
            ):
                continue
            if child.type == "wildcard_import":
                is_star = True
            elif child.type == "dotted_name":
                names.append(ImportedName(_text(source, child)))
            elif child.type == "aliased_import":
                name = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if name is not None:
                    names.append(
                        ImportedName(_text(source, name), _text(source, alias) if alias is not None else None)
                    )
        return [Import(module=module, span=span, names=tuple(names), is_star=is_star)]

    def _exports(
        self, path: str, source: bytes, imports: list[Import], all_values: list[tuple[bool, tree_sitter.Node]]
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
                    text = _string_value(_text(source, child))
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

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        captures = tree_sitter.QueryCursor(_query("python_references.scm")).captures(tree.root_node)
        receivers: dict[int, str] = {}
        for attr in captures.get("attribute", ()):
            parent = attr.parent
            receiver = parent.child_by_field_name("object") if parent is not None else None
            if receiver is not None and receiver.end_byte - receiver.start_byte <= _MAX_RECEIVER_CHARS:
                receivers[attr.start_byte] = _text(source, receiver)
            else:
                receivers[attr.start_byte] = ""  # an attribute of something unhelpful to name
        references = []
        for node in captures.get("reference", ()):
            receiver = receivers.get(node.start_byte)
            references.append(Reference(_text(source, node), _span(node), receiver or None))
        references.sort(key=lambda ref: (ref.span.start_line, ref.span.start_col))
        return references

    # -- hooks -----------------------------------------------------------------------------------------

    def bound_name(self, imp: Import) -> str | None:
        if imp.names or imp.is_star:
            return None
        if imp.alias:
            return imp.alias
        # ``import os.path`` binds ``os``.
        return imp.module.split(".", 1)[0] if not imp.module.startswith(".") else None

    def self_names(self) -> tuple[str, ...]:
        return ("self", "cls")

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        # Annotations: ``def f(store: Store)``, ``s: Store = make()``, ``Optional[Store]``, ``Store | None``.
        root = parsed_for_lookup(_language(), source).root_node
        return declared_type_in_scopes(root, name, at, _scope_declarations)

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        # The definition's first line: ``cache: Cache``, ``self.store: Store = store``, ``self.store = store``.
        if field.kind not in (SymbolKind.FIELD, SymbolKind.VARIABLE, SymbolKind.CONSTANT):
            return None
        root = parsed_snippet(_language(), field.signature.encode("utf-8")).root_node
        statement = root.named_children[0] if root.named_child_count == 1 and not root.has_error else None
        assignment = statement.named_children[0] if statement is not None and statement.named_child_count else None
        if assignment is None or assignment.type != "assignment":
            return None
        annotated = _annotated_type(assignment.child_by_field_name("type"))
        if annotated is not None:
            return annotated
        right = assignment.child_by_field_name("right")
        if right is None or right.type != "identifier" or not right.text or not source:
            return None
        # Assigned from a name: that parameter's or local's declared type where the assignment is.
        return self.declared_type(path, source, right.text.decode(), (field.span.start_line, field.span.start_col))

    def builtin_names(self) -> frozenset[str]:
        return _BUILTIN_NAMES

    # -- writing imports -------------------------------------------------------------------------------

    def import_module_name(
        self, importer: str, target: str, relative: bool, exists: Callable[[str], bool]
    ) -> str | None:
        target_parts = _module_parts(target, exists)
        if not relative:
            return ".".join(target_parts)
        base = _package_parts(importer, exists)
        common = 0
        while common < min(len(base), len(target_parts)) and base[common] == target_parts[common]:
            common += 1
        if common == 0:
            return ".".join(target_parts)  # no shared package: only an absolute import works
        return "." * (len(base) - common + 1) + ".".join(target_parts[common:])

    def render_import(self, module: str, names: Sequence[ImportedName]) -> str | None:
        rendered = ", ".join(n.name + (f" as {n.alias}" if n.alias else "") for n in names)
        return f"from {module} import {rendered}"

    def render_module_import(self, module: str, alias: str | None = None) -> str | None:
        if module.startswith("."):
            return None  # ``import .x`` is not Python: relative modules come in with ``from . import x``
        return f"import {module}" + (f" as {alias}" if alias else "")

    def import_insertion_line(self, facts: FileFacts | None, lines: Sequence[str]) -> int | None:
        """After the last top-level import, else after the module docstring (or at the top)."""
        if facts is not None and facts.imports:
            return max(imp.span.end_line for imp in facts.imports) + 1
        if lines and lines[0].lstrip().startswith(('"""', "'''", 'r"""')):
            quote = lines[0].lstrip()[:3] if not lines[0].lstrip().startswith("r") else lines[0].lstrip()[1:4]
            if lines[0].count(quote) >= 2:
                return 1
            for index in range(1, len(lines)):
                if quote in lines[index]:
                    return index + 1
        return 0

    # -- import resolution ------------------------------------------------------------------------------

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        return self._resolve(imp, importer, layout, None)

    def resolve_imports(
        self, imports: Sequence[Import], importer: str, layout: WorkspaceLayout
    ) -> list[ResolvedImport]:
        # The search roots depend on the importer only: once per file, not once per import.
        roots = self._source_roots(importer, layout)
        return [self._resolve(imp, importer, layout, roots) for imp in imports]

    def _resolve(
        self, imp: Import, importer: str, layout: WorkspaceLayout, roots: list[str] | None
    ) -> ResolvedImport:
        module = imp.module
        if module.startswith("."):
            return self._resolve_relative(imp, importer, layout)
        if roots is None:
            roots = self._source_roots(importer, layout)
        for root in roots:
            found = self._module_file(root, module, layout)
            if found is not None:
                return self._with_names(imp, found, layout)
        # ``import os.path`` / ``from os.path import join``: ``os`` is a plain module (not a package) that
        # binds ``path`` itself (``sys.modules["os.path"]``), so the import names that module. Inside a
        # package a missing submodule is a real error.
        parts = module.split(".")
        if len(parts) > 1:
            for cut in range(len(parts) - 1, 0, -1):
                prefix = ".".join(parts[:cut])
                for root in roots:
                    found = self._module_file(root, prefix, layout)
                    if found is not None:
                        if _is_package_init(found):
                            return ResolvedImport()
                        return ResolvedImport(paths=(found,))
        top = parts[0]
        if any(self._module_file(root, top, layout) or layout.is_dir(_join(root, top)) for root in roots):
            # The top-level package is ours but the submodule is missing: a broken import, not external.
            return ResolvedImport()
        if len(parts) > 1 and top == _project_name(layout):
            # The project's own distribution name over folders mapped onto it by the build (setuptools
            # ``package_dir``: ``roost.context`` → ``context/``): resolve the rest from the roots.
            rest = Import(".".join(parts[1:]), imp.span, imp.names, imp.alias, imp.is_star)
            inner = self._resolve(rest, importer, layout, roots)
            if inner.paths:
                return inner
        return ResolvedImport(external=True)

    def _resolve_relative(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        stripped = imp.module.lstrip(".")
        level = len(imp.module) - len(stripped)
        package_dir = posixpath.dirname(importer)
        for _ in range(level - 1):
            if not package_dir:
                return ResolvedImport()  # beyond the workspace root
            package_dir = posixpath.dirname(package_dir)
        if stripped:
            found = self._module_file(package_dir, stripped, layout)
            if found is None:
                return ResolvedImport()
            return self._with_names(imp, found, layout)
        init = _join(package_dir, "__init__.py")
        base = init if layout.exists(init) else None
        return self._names_in_package(imp, base, package_dir, layout)

    def _with_names(self, imp: Import, module_file: str, layout: WorkspaceLayout) -> ResolvedImport:
        if not imp.names or not _is_package_init(module_file):
            return ResolvedImport(paths=(module_file,))
        return self._names_in_package(imp, module_file, posixpath.dirname(module_file), layout)

    def _names_in_package(
        self, imp: Import, init_file: str | None, package_dir: str, layout: WorkspaceLayout
    ) -> ResolvedImport:
        paths: list[str] = [init_file] if init_file else []
        name_paths: list[tuple[str, str]] = []
        for item in imp.names:
            sub = self._module_file(package_dir, item.name, layout)
            if sub is not None:
                name_paths.append((item.name, sub))
                if sub not in paths:
                    paths.append(sub)
        if not paths and package_dir and layout.is_dir(package_dir) and imp.is_star:
            return ResolvedImport()
        return ResolvedImport(paths=tuple(paths), name_paths=tuple(name_paths))

    def _module_file(self, base_dir: str, dotted: str, layout: WorkspaceLayout) -> str | None:
        rel = _join(base_dir, dotted.replace(".", "/"))
        for candidate in (f"{rel}.py", f"{rel}/__init__.py", f"{rel}.pyi", f"{rel}/__init__.pyi"):
            if layout.exists(candidate):
                return candidate
        return None

    def _source_roots(self, importer: str, layout: WorkspaceLayout) -> list[str]:
        roots = [""]
        if layout.is_dir("src"):
            roots.append("src")
        for extra in layout.extra_source_roots(self.name):
            extra = extra.strip("/")
            if extra not in roots:
                roots.append(extra)
        # A script's own directory is on sys.path when it runs (tests/, scripts/): a last resort.
        own_dir = _script_root(importer, layout)
        if own_dir not in roots:
            roots.append(own_dir)
        return roots


_PROJECT_NAMES: dict[tuple[str, int], str | None] = {}
_PROJECT_NAME = re.compile(r'^\s*name\s*=\s*["\']([A-Za-z0-9_.-]+)["\']', re.MULTILINE)


def _project_name(layout: WorkspaceLayout) -> str | None:
    """The ``[project] name`` of the workspace's pyproject.toml as an import name (cached per file state)."""
    pyproject = layout.root / "pyproject.toml"
    try:
        key = (str(pyproject), pyproject.stat().st_mtime_ns)
    except OSError:
        return None
    if key not in _PROJECT_NAMES:
        text = layout.read_text("pyproject.toml") or ""
        section = text.split("[project]", 1)[1].split("\n[", 1)[0] if "[project]" in text else ""
        match = _PROJECT_NAME.search(section)
        _PROJECT_NAMES[key] = match.group(1).replace("-", "_").lower() if match else None
    return _PROJECT_NAMES[key]


def _is_package_init(module_file: str) -> bool:
    """``pkg/__init__.py`` (or ``.pyi``), as :meth:`PythonSupport._module_file` spells it; string tests
    because a ``PurePosixPath`` per resolved import was a visible share of the cold index."""
    return module_file.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base else rel


def _script_root(importer: str, layout: WorkspaceLayout) -> str:
    """The directory above the importer's outermost package (its own directory when not in a package)."""
    directory = posixpath.dirname(importer)
    while directory and layout.exists(_join(directory, "__init__.py")):
        directory = posixpath.dirname(directory)
    return directory


# What every module sees without an import, for "missing import" (plus the implicit module/receiver names).
_BUILTIN_NAMES = frozenset(dir(builtins)) | {"self", "cls", "__name__", "__file__"}


def _module_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """Dotted parts of a workspace file's module: its package chain (directories with ``__init__.py``)."""
    directory, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    parts = [] if stem == "__init__" else [stem]
    while directory and exists(posixpath.join(directory, "__init__.py")):
        directory, package = posixpath.split(directory)
        parts.insert(0, package)
    return parts


def _package_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """The package a module's relative imports are relative to."""
    parts = _module_parts(path, exists)
    return parts if posixpath.basename(path) == "__init__.py" else parts[:-1]


LANGUAGE = PythonSupport()


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
def _kind_ids(*names: str) -> frozenset[int]:
    """Every named node-kind id spelled ``names`` (ints compare faster than ``Node.type`` strings, which
    are built per access; one name may have several ids through aliases)."""
    language = _language()
    return frozenset(
        kind
        for kind in range(language.node_kind_count)
        if language.node_kind_is_named(kind) and language.node_kind_for_id(kind) in names
    )


def _block_assignments(block: tree_sitter.Node | None) -> list[tree_sitter.Node]:
    """``(block (expression_statement (assignment) ...))``: the assignments directly in a block."""
    if block is None or block.kind_id not in _kind_ids("block"):
        return []
    statement_ids, assignment_ids = _kind_ids("expression_statement"), _kind_ids("assignment")
    return [
        inner
        for statement in block.named_children
        if statement.kind_id in statement_ids
        for inner in statement.named_children
        if inner.kind_id in assignment_ids
    ]


def _identifier_left(assignment: tree_sitter.Node) -> tree_sitter.Node | None:
    left = assignment.child_by_field_name("left")
    return left if left is not None and left.kind_id in _kind_ids("identifier") else None


def _module_level(
    source: bytes, root: tree_sitter.Node, found: list[tuple], all_values: list[tuple[bool, tree_sitter.Node]]
) -> None:
    """Module-level patterns: variables (also under a top-level if/else/try/except) and ``__all__``."""
    identifier = _kind_ids("identifier")
    assignment_ids = _kind_ids("assignment")
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
    return source.find(b"def", low, high) >= 0 or source.find(b"import", low, high) >= 0 or (
        source.find(b"class", low, high) >= 0
    )


# Records in source order: by span. Two records starting at one place are the names of one assignment
# (``A, B = ...``: the same span, kept in order by the stable sort), never an outer and an inner one (a
# definition's span starts at its keyword, its members' further in), so the span's end needs no reversing.
_record_sort_key = itemgetter(3)


def outline_records_by_walk(
    source: bytes, root: tree_sitter.Node
) -> tuple[list[tuple], list[tree_sitter.Node], list[tuple[bool, tree_sitter.Node]]]:
    """The outline of a whole, error-free tree in one walk over statements: definition records (see
    :func:`_record_to_definition`; fields not yet deduplicated), import nodes and ``__all__`` values.

    Equal to running the outline query and :meth:`PythonSupport._definitions` over its captures (tested
    on the standard library), at a fraction of the cost: the walk only enters statement containers
    (expressions are most of a tree), skips blocks whose text holds no ``def``/``class``/``import``, and
    knows each definition's parent from where it is, so there is no capture list to sort and no stack of
    scopes to unwind. ``self.x = ...`` is only looked for in functions directly inside a class (the only
    place the query's records keep it). Trees with errors go through the query: the walk does not
    reproduce how patterns match inside ``ERROR`` nodes."""
    found: list[tuple] = []
    import_nodes: list[tree_sitter.Node] = []
    all_values: list[tuple[bool, tree_sitter.Node]] = []
    _module_level(source, root, found, all_values)
    records: list[tuple] = []
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
                _CONSTANT if _CONSTANT_NAME.match(name) else _VARIABLE,
                node.start_point + node.end_point,
                name_node.start_point + name_node.end_point,
                _signature(source, start, end if line_end < 0 else line_end),
                None,
                None,
            )
        )
    imports = _kind_ids("import_statement", "import_from_statement", "future_import_statement")
    classes, functions = _kind_ids("class_definition"), _kind_ids("function_definition")
    definitions = classes | functions
    containers = _kind_ids(*_STATEMENT_CONTAINERS)
    identifier, block = _kind_ids("identifier"), _kind_ids("block")
    statement_ids, assignment_ids = _kind_ids("expression_statement"), _kind_ids("assignment")
    attribute_ids = _kind_ids("attribute")
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
                _FIELD,
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
                own_kind = _CLASS if is_class else _METHOD if parent_kind == _CLASS else _FUNCTION
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
                elif parent_kind == _CLASS and _SELF_ASSIGNMENT.search(source, body_start, body_end):
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


# -- declared types of parameters and locals (navigation) ---------------------------------------------------

_FUNCTION_SCOPES = frozenset({"function_definition", "lambda"})
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _scope_declarations(scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` binds directly, with the annotated type (None when not annotated): a function's or
    lambda's parameters; in a function, a block's assignments, ``for`` targets, ``with … as`` and
    ``except … as`` names; a ``for``/``with``/``except`` around the position its own targets. Module and
    class level bind globals and attributes, which are not asked about."""
    kind = scope.type
    if kind in _FUNCTION_SCOPES:
        parameters = scope.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            yield from _parameter_declarations(parameter)
    elif kind == "block":
        if _inside_function(scope):
            for statement in scope.named_children:
                yield from _statement_declarations(statement)
    elif kind in ("for_statement", "with_statement", "except_clause"):
        yield from _statement_declarations(scope)


def _parameter_declarations(parameter: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    kind = parameter.type
    if kind == "identifier":
        yield parameter, None
    elif kind in ("typed_parameter", "typed_default_parameter", "default_parameter"):
        name = parameter.child_by_field_name("name") or (
            parameter.named_children[0] if parameter.named_child_count else None
        )
        if name is not None and name.type == "identifier":
            yield name, _annotated_type(parameter.child_by_field_name("type"))
        elif name is not None:  # ``*args: T`` / ``**kwargs: T``: a tuple or dict of T, not a T
            yield from ((n, None) for n in name.named_children if n.type == "identifier")
    elif kind in ("list_splat_pattern", "dictionary_splat_pattern"):
        yield from ((n, None) for n in parameter.named_children if n.type == "identifier")


def _statement_declarations(statement: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    kind = statement.type
    if kind == "expression_statement":
        for assignment in statement.named_children:
            if assignment.type != "assignment":
                continue
            left = assignment.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                yield left, _annotated_type(assignment.child_by_field_name("type"))
            elif left is not None and left.type in ("pattern_list", "tuple_pattern"):
                yield from ((n, None) for n in left.named_children if n.type == "identifier")
    elif kind == "for_statement":
        left = statement.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            yield left, None
        elif left is not None:
            yield from ((n, None) for n in left.named_children if n.type == "identifier")
    elif kind in ("with_statement", "except_clause"):
        # ``with a as x``, ``except E as err``: the names in ``as_pattern_target`` (tree-sitter-python >= 0.23).
        for node in _descendants_of_type(statement, "as_pattern_target", stop=("block",)):
            yield from ((n, None) for n in node.named_children if n.type == "identifier")


def _descendants_of_type(node: tree_sitter.Node, kind: str, stop: tuple[str, ...]) -> Iterator[tree_sitter.Node]:
    for child in node.named_children:
        if child.type == kind:
            yield child
        elif child.type not in stop:
            yield from _descendants_of_type(child, kind, stop)


def _inside_function(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTION_SCOPES:
            return True
        if parent.type == "class_definition":
            return False
        parent = parent.parent
    return False


def _annotated_type(annotation: tree_sitter.Node | None) -> str | None:
    """The one class an annotation names: ``Store``, ``pkg.Store``, ``"Store"``, ``Optional[Store]``,
    ``Store | None``; None for anything else (``list[Store]``, unions of classes, no annotation)."""
    node = annotation
    if node is not None and node.type == "type":
        node = node.named_children[0] if node.named_child_count == 1 else None
    if node is None:
        return None
    kind = node.type
    if kind in ("identifier", "attribute"):
        text = (node.text or b"").decode("utf-8", errors="replace")
        return text if _DOTTED_NAME.fullmatch(text) else None
    if kind == "string":
        text = "".join(
            (child.text or b"").decode("utf-8", errors="replace")
            for child in node.named_children
            if child.type == "string_content"
        ).strip()
        return text if _DOTTED_NAME.fullmatch(text) else None
    if kind in ("generic_type", "subscript"):  # ``Optional[T]`` (``typing.Optional[T]``)
        head = node.child_by_field_name("value") or (node.named_children[0] if node.named_child_count else None)
        if head is None or (head.text or b"").decode().rsplit(".", 1)[-1] != "Optional":
            return None
        inner = [c for c in node.named_children[1:] if c.type in ("type_parameter", "type")] or [
            c for c in node.named_children[1:]
        ]
        if len(inner) == 1 and inner[0].type == "type_parameter":
            inner = list(inner[0].named_children)
        return _annotated_type(inner[0]) if len(inner) == 1 else None
    if kind == "binary_operator":  # ``T | None``
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if right is not None and right.type == "none":
            return _annotated_type(left)
        if left is not None and left.type == "none":
            return _annotated_type(right)
    return None
