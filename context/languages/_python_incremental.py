"""Python's outline kept current under edits: re-extract only the statements an edit touched.

:func:`update_outline` splices the re-extraction of the statement holding an edit into the previous
outline after a re-parse; :func:`update_outline_local` does it before any re-parse of the file, from a
parse of the edited statements with only the headers of the blocks around them (tree-sitter included
ranges), accepted only when that provably equals the whole parse. Both fall back (None or a full
extraction) whenever they cannot show it; the property tests in tests/context compare them with fresh
outlines after random edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

import tree_sitter

from roost.context.facts import Definition, FileFacts, Import, Span
from roost.context.languages._python_outline import (
    KIND_CLASS,
    KIND_FUNCTION,
    KIND_METHOD,
    LANGUAGE_NAME,
    MAX_OUTLINE_DEPTH,
    ByteRange,
    collect,
    dedupe_field_definitions,
    definition_records,
    exports_of,
    imports_of,
    node_text,
    outline_records,
    query,
    record_to_definition,
)
from roost.context.languages.base import OutlineState, TextChange

if TYPE_CHECKING:
    from roost.context.buffers import Buffer


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


class _Unit(ByteRange, Protocol):
    """What is re-extracted after an edit: a statement of the whole tree (a node) or a :class:`_Region`."""

    @property
    def start_point(self) -> tuple[int, int]: ...
    @property
    def end_point(self) -> tuple[int, int]: ...


# What the previous outline holds that an edit splits into before, inside and after the edited unit.
_Spanned = TypeVar("_Spanned", Definition, Import)


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


def update_outline(
    path: str,
    source: bytes,
    tree: tree_sitter.Tree,
    state: OutlineState,
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
            facts = _splice(path, source, tree, state, old_tree, change)
        except Exception:  # a bug here must cost speed, never correctness
            facts = None
    if facts is None:
        query("python.scm")  # compiled now (~15 ms, once), not on the first edit spliced locally
        records, import_nodes, all_values = outline_records(source, tree.root_node)
        raw = [record_to_definition(r) for r in records]
        facts = FileFacts(path=path, language=LANGUAGE_NAME)
        facts.definitions = dedupe_field_definitions(raw)
        facts.imports = imports_of(source, import_nodes)
        facts.exports = exports_of(path, source, facts.imports, all_values)
        state["raw"] = raw
    state["facts"] = facts
    return facts


def _splice(
    path: str,
    source: bytes,
    tree: tree_sitter.Tree,
    state: OutlineState,
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
    return _splice_unit(path, source, state, change, root, unit, _definition_ancestors(unit), 0)


def update_outline_local(path: str, buffer: Buffer, state: OutlineState) -> FileFacts | None:
    """The outline after one edit, from a parse of the edited statements with only the headers of the
    class/def blocks around them (``buffer`` has its whole-file re-parse deferred); None when that cannot
    be shown to equal the whole parse, and the caller then parses the file (:func:`update_outline`).

    The statements are a run of members of the module or of a class body (see :func:`_region`): the
    member holding the edit, up to where the next member started before the edit, which the text must
    still show. The parse (tree-sitter included ranges: each header from the line break before it,
    then the region) is accepted only without a syntax error, with nothing outside the headers'
    blocks, and with the same members (kinds, starts): the region then ends in the state it ended in
    before (no open bracket, string or block), so the rest of the file parses as it did. The outline of
    the region is spliced into the previous one (:func:`_splice_unit`). Checked against whole parses by
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
    start_byte = members[0].start_byte
    start_point: tuple[int, int] = members[0].start_point
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
        owner_body = owner.child_by_field_name("body")
        if owner_body is None:
            return None
        block = owner_body
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
    # (With headers, ``block`` is the body of the innermost one: it has a parent.)
    if (
        headers
        and block.parent is not None
        and not any(
            child.type != "comment" and child.start_byte > members[-1].start_byte
            for child in container.named_children
        )
    ):
        closed = (headers[-1][0].start_point, block.parent.end_point)
    facts = _splice_unit(path, source, state, change, alone, unit, ancestors, depth, True, closed)
    if facts is not None:
        state["facts"] = facts
        state["local"] = state.get("local", 0) + 1  # diagnostics: edits served without a file parse
    return facts


def _splice_unit(
    path: str,
    source: bytes,
    state: OutlineState,
    change: TextChange,
    root: tree_sitter.Node,
    unit: _Unit,
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
        name = node_text(source, name_node)
        parent_kind = stack[-1][2] if stack else None
        if node.type == "class_definition":
            kind = KIND_CLASS
        else:
            kind = KIND_METHOD if parent_kind == KIND_CLASS else KIND_FUNCTION
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

    def partition(
        items: list[_Spanned], span_of: Callable[[_Spanned], Span]
    ) -> tuple[list[_Spanned], list[_Spanned]]:
        before: list[_Spanned] = []
        after: list[_Spanned] = []
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
        d.name == "__all__" for d in raw if unit_start <= (d.span.start_line, d.span.start_col) < old_unit_end
    ):
        return None

    found, import_nodes, all_values = collect(root, unit, depth_offset)
    if all_values:
        return None
    fresh = [record_to_definition(r) for r in definition_records(source, found, stack)]
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
        + imports_of(source, import_nodes)
        + [replace(i, span=_shift(i.span, line_delta)) for i in imports_after]
    )
    if new_imports == previous.imports:
        exports = previous.exports
    elif b"__all__" in source:
        return None  # exports come from __all__ with origins from the imports: recompute fully
    else:
        exports = exports_of(path, source, new_imports, [])
    state["raw"] = new_raw
    state["spliced"] = state.get("spliced", 0) + 1  # diagnostics: edits served incrementally
    facts = FileFacts(path=path, language=LANGUAGE_NAME)
    facts.definitions = dedupe_field_definitions(new_raw)
    facts.imports = new_imports
    facts.exports = exports
    return facts
