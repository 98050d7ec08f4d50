"""Shared machinery for the tree-sitter language modules: query loading, spans, signatures, doc comments,
and turning "definition node + name node" captures into qualified :class:`Definition` records.

Underscore-prefixed so the registry does not take it for a language. Nothing here knows a grammar's node
types; the language modules pass those in.
"""

from __future__ import annotations

import bisect
import posixpath
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import tree_sitter

from roost.context.facts import Definition, FileFacts, Reference, Span, SymbolKind
from roost.context.languages.base import FunctionBody, LanguageSupport, WorkspaceLayout

QUERY_DIR = Path(__file__).with_name("queries")

# A receiver longer than this (a chained call spanning lines) is not useful to retrieval and costs memory.
MAX_RECEIVER_CHARS = 120
# Declarations without a body (type aliases, constants) can be long; retrieval wants the head only.
MAX_SIGNATURE_LINES = 8


@cache
def load_query(language: tree_sitter.Language, file_name: str) -> tree_sitter.Query:
    """Compile ``queries/<file_name>`` for ``language`` once per process."""
    source = (QUERY_DIR / file_name).read_text(encoding="utf-8")
    return tree_sitter.Query(language, source)


# How deep below the node a query runs on a pattern may start. Code nests a few dozen levels; a generated or
# hostile file nesting ``f(f(f(…)))`` tens of thousands deep took tree-sitter's query cursor 16 s at 60,000
# levels (0.08 s at 32,000: past ~32,767 its state stack degrades), stalling the file's first lookup.
# Patterns starting deeper than this are not matched (the walk itself stays linear).
MAX_QUERY_START_DEPTH = 1000


def query_cursor(query: tree_sitter.Query) -> tree_sitter.QueryCursor:
    """A cursor for ``query`` whose patterns start at most :data:`MAX_QUERY_START_DEPTH` levels down."""
    cursor = tree_sitter.QueryCursor(query)
    cursor.set_max_start_depth(MAX_QUERY_START_DEPTH)
    return cursor


def query_matches(
    query: tree_sitter.Query, node: tree_sitter.Node
) -> list[tuple[int, dict[str, list[tree_sitter.Node]]]]:
    return query_cursor(query).matches(node)


def text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def span_of(node: tree_sitter.Node) -> Span:
    start, end = node.start_point, node.end_point
    return Span(start[0], start[1], end[0], end[1])


def unquote(literal: str) -> str:
    """The content of a string literal as written in source (no escape processing: specifiers rarely
    need it)."""
    if len(literal) >= 2 and literal[0] in "\"'`" and literal[-1] == literal[0]:
        return literal[1:-1]
    return literal


def signature_text(source: bytes, start_byte: int, end_byte: int) -> str:
    """Declaration text from ``start_byte`` to ``end_byte`` (the body's start), trimmed and capped."""
    raw = source[start_byte:end_byte].decode("utf-8", errors="replace").rstrip()
    lines = raw.splitlines()
    if len(lines) > MAX_SIGNATURE_LINES:
        lines = [*lines[:MAX_SIGNATURE_LINES], "…"]
    return "\n".join(line.rstrip() for line in lines).strip()


def signature_until_body(source: bytes, node: tree_sitter.Node, body_field: str = "body") -> str:
    body = node.child_by_field_name(body_field)
    end = body.start_byte if body is not None else node.end_byte
    return signature_text(source, node.start_byte, end)


def _strip_block_line(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith("*"):
        stripped = stripped[1:]
        return stripped[1:] if stripped.startswith(" ") else stripped
    return line


def strip_comment(comment: str) -> str:
    """Comment text without ``//``, ``///``, ``//!``, ``/* */``, ``/** */`` markers and leading ``*``.

    Plain string operations, no regular expressions: declaration files carry a comment on nearly every
    member, so this runs tens of thousands of times per large file.
    """
    comment = comment.strip()
    if comment.startswith("/*"):
        body = comment[2:-2] if comment.endswith("*/") else comment[2:]
        body = body.lstrip("*!")
        if "\n" not in body:
            return body.strip().rstrip("*").strip()
        lines = [_strip_block_line(line).rstrip() for line in body.split("\n")]
        if lines:
            lines[-1] = lines[-1].rstrip("*").rstrip()
    else:
        lines = []
        for line in comment.split("\n"):
            line = line.strip()
            if line.startswith("//"):
                line = line[3:] if line[2:3] in ("/", "!") else line[2:]
            lines.append(line.rstrip())
        if len(lines) == 1:
            return lines[0].strip()
    # Common indentation after the marker (``// foo`` → ``foo``) is dropped, inner indentation kept.
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


def leading_comment(
    anchor: tree_sitter.Node,
    source: bytes,
    comment_types: frozenset[str],
    skip_types: frozenset[str] = frozenset(),
    accept: Callable[[str], bool] | None = None,
) -> str | None:
    """The comment block directly above ``anchor`` (no blank line between), markers stripped.

    ``skip_types`` are siblings that may sit between the comment and the declaration (Rust attributes).
    ``accept`` filters comment texts (e.g. only ``/**`` Javadoc). A comment that trails code on its own line
    (``x = 1 // note``) belongs to that code, not to the next declaration.
    """
    blocks: list[str] = []
    expected_row = anchor.start_point[0]
    prev = anchor.prev_sibling
    while prev is not None:
        if prev.type in skip_types:
            expected_row = prev.start_point[0]
            prev = prev.prev_sibling
            continue
        if prev.type not in comment_types or prev.end_point[0] < expected_row - 1:
            break
        # A line comment's node may end at column 0 of the next row (Rust includes the newline).
        end_row = prev.end_point[0] - (1 if prev.end_point[1] == 0 and prev.end_point[0] > 0 else 0)
        if end_row < expected_row - 1:
            break
        before = prev.prev_sibling
        if (
            before is not None
            and before.end_point[0] == prev.start_point[0]
            and before.type not in comment_types
        ):
            break  # trailing comment of the previous statement
        raw = text(source, prev)
        if accept is not None and not accept(raw):
            break
        blocks.append(raw)
        expected_row = prev.start_point[0]
        prev = before
    if not blocks:
        return None
    doc = "\n".join(strip_comment(raw) for raw in reversed(blocks)).strip()
    return doc or None


@dataclass(slots=True)
class RawDefinition:
    """A definition found by a query, before qualification.

    ``emit=False`` marks a pure scope (a Rust ``impl`` block) that qualifies what it contains without being a
    symbol itself. ``explicit_parent`` qualifies without containment (a Go method's receiver type).
    """

    node: tree_sitter.Node
    name: str
    name_node: tree_sitter.Node
    kind: SymbolKind
    signature: str
    doc: str | None
    emit: bool = True
    explicit_parent: str | None = None


def qualify(raws: Iterable[RawDefinition]) -> list[Definition]:
    """Qualified names by byte-range containment: ``Outer.inner``. One sort plus a stack, no tree walk."""
    ordered = sorted(raws, key=lambda r: (r.node.start_byte, -r.node.end_byte))
    stack: list[tuple[int, int, str]] = []  # (start_byte, end_byte, qualified name) of open scopes
    out: list[Definition] = []
    for raw in ordered:
        if not raw.name.strip():
            continue  # error recovery inserts zero-width MISSING names into broken code
        start, end = raw.node.start_byte, raw.node.end_byte
        # Several names declared by one node (Go ``const a, b = 1, 2``) are siblings, not nested.
        while stack and (stack[-1][1] <= start or (stack[-1][0] == start and stack[-1][1] == end)):
            stack.pop()
        if raw.explicit_parent is not None:
            parent: str | None = raw.explicit_parent
        else:
            parent = stack[-1][2] if stack else None
        qualified = f"{parent}.{raw.name}" if parent else raw.name
        stack.append((start, end, qualified))
        if raw.emit:
            out.append(
                Definition(
                    name=raw.name,
                    qualified_name=qualified,
                    kind=raw.kind,
                    span=span_of(raw.node),
                    name_span=span_of(raw.name_node),
                    signature=raw.signature,
                    doc=raw.doc,
                    parent=parent,
                )
            )
    return out


class ByteRanges:
    """Sorted, non-overlapping-enough byte ranges with a fast membership test (import statements)."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        pairs = sorted(ranges)
        self._starts = [start for start, _ in pairs]
        self._ends = [end for _, end in pairs]

    def __contains__(self, offset: int) -> bool:
        index = bisect.bisect_right(self._starts, offset) - 1
        return index >= 0 and offset < self._ends[index]


def collect_references(
    matches: Iterable[dict[str, list[tree_sitter.Node]]],
    source: bytes,
    skip_starts: set[int],
    skip_ranges: ByteRanges,
) -> list[Reference]:
    """References from query matches that capture ``@ref`` (bare names) or ``@member`` + ``@receiver``.

    ``skip_starts`` are the start bytes of definition names (a definition is not a use of itself);
    ``skip_ranges`` are import statements (their names are bindings, the imports carry them).
    """
    seen: set[int] = set()
    refs: list[Reference] = []
    # ``@ignore`` captures (JSX intrinsic tags such as ``div``) are names that are not uses of anything.
    # Member uses next: a name that is both ``@member`` and ``@ref`` (Rust ``a::b``) keeps its receiver.
    ordered = sorted(
        matches, key=lambda captures: 0 if "ignore" in captures else 1 if "member" in captures else 2
    )
    for captures in ordered:
        ignored = captures.get("ignore")
        if ignored:
            seen.update(node.start_byte for node in ignored)
            continue
        member = captures.get("member")
        if member:
            node = member[0]
            receiver_nodes = captures.get("receiver")
            receiver = text(source, receiver_nodes[0]) if receiver_nodes else None
            if receiver is not None and (len(receiver) > MAX_RECEIVER_CHARS or "\n" in receiver):
                receiver = None
        else:
            ref_nodes = captures.get("ref")
            if not ref_nodes:
                continue
            node = ref_nodes[0]
            receiver = None
        start = node.start_byte
        if start in seen or start in skip_starts or start in skip_ranges:
            continue
        seen.add(start)
        refs.append(Reference(name=text(source, node), span=span_of(node), receiver=receiver))
    refs.sort(key=lambda ref: (ref.span.start_line, ref.span.start_col))
    return refs


@dataclass(slots=True)
class OutlineSkips:
    """What the outline pass learned that the reference pass must not count as a use: definition names
    (a definition is not a use of itself) and import statements (their names are bindings)."""

    name_starts: set[int]
    import_ranges: list[tuple[int, int]]


def reference_pass(
    language: tree_sitter.Language,
    query_file: str,
    tree: tree_sitter.Tree,
    source: bytes,
    skips: OutlineSkips,
) -> list[Reference]:
    query = load_query(language, query_file)
    matches = (captures for _, captures in query_matches(query, tree.root_node))
    return collect_references(matches, source, skips.name_starts, ByteRanges(skips.import_ranges))


# Resolution asks for the same go.mod / tsconfig.json / Cargo.toml / package.json once per import, and most
# of those reads miss (walking up directories). A short-lived cache turns thousands of reads into a few; one
# second of staleness after editing such a file is harmless (the next resolution sees the change).
PROJECT_FILE_TTL_S = 1.0
_PROJECT_FILE_CACHE_MAX = 4096
_project_files: dict[tuple[str, str], tuple[float, str | None]] = {}


def read_project_file(layout: WorkspaceLayout, rel_path: str) -> str | None:
    """``layout.read_text`` through a per-process cache with a :data:`PROJECT_FILE_TTL_S` lifetime."""
    key = (str(layout.root), rel_path)
    now = time.monotonic()
    hit = _project_files.get(key)
    if hit is not None and now - hit[0] < PROJECT_FILE_TTL_S:
        return hit[1]
    value = layout.read_text(rel_path)
    if len(_project_files) >= _PROJECT_FILE_CACHE_MAX:
        _project_files.clear()
    _project_files[key] = (now, value)
    return value


def join_rel(directory: str, relative: str) -> str | None:
    """Workspace-relative POSIX join; None when the result escapes the workspace root."""
    joined = (
        posixpath.normpath(posixpath.join(directory, relative)) if directory else posixpath.normpath(relative)
    )
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined


def parent_dirs(rel_path: str) -> Sequence[str]:
    """The directories containing ``rel_path``, innermost first, ending with the root ``""``."""
    parts = rel_path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]


def rel_join(*parts: str) -> str:
    return "/".join(part for part in parts if part)


class OutlineFirstLanguage(LanguageSupport):
    """A language with one grammar whose outline pass also finds what the reference pass must skip
    (definition names, import statements). Subclasses give the grammar, the reference query's file
    name and ``_outline``; extraction in full, outline only or references only is the same for all."""

    reference_query: str

    def _grammar(self) -> object:
        raise NotImplementedError

    @cached_property
    def _language(self) -> tree_sitter.Language:
        return tree_sitter.Language(self._grammar())

    def ts_language(self, path: str) -> tree_sitter.Language:
        return self._language

    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts, skips = self._outline(path, source, tree)
        references = reference_pass(self._language, self.reference_query, tree, source, skips)
        facts.references = self._drop_local_uses(tree, source, references)
        return facts

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        return self._outline(path, source, tree)[0]

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        _, skips = self._outline(path, source, tree)
        references = reference_pass(self._language, self.reference_query, tree, source, skips)
        return self._drop_local_uses(tree, source, references)

    def _drop_local_uses(
        self, tree: tree_sitter.Tree, source: bytes, references: list[Reference]
    ) -> list[Reference]:
        """References without the uses of local variables and parameters, where the language can tell
        (they are no use of an indexed symbol). Default: all kept."""
        return references

    def _outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> tuple[FileFacts, OutlineSkips]:
        raise NotImplementedError


# -- editing source text by whole lines (import writing, moving declarations) ------------------------------


def line_start(source: bytes, offset: int) -> int:
    """Byte offset of the start of the line holding ``offset``."""
    return source.rfind(b"\n", 0, offset) + 1


def line_end(source: bytes, offset: int) -> int:
    """Byte offset just past the newline ending the line holding ``offset`` (the end of the source past
    its last line)."""
    newline = source.find(b"\n", offset)
    return len(source) if newline < 0 else newline + 1


def _is_blank_line(source: bytes, start: int) -> bool:
    return start < len(source) and not source[start : line_end(source, start)].strip()


def without_lines(source: bytes, start: int, end: int) -> bytes:
    """``source`` without the whole lines spanning ``start..end`` (byte offsets), and without the blank
    line that would otherwise double the one before them (or trail at the end of the file)."""
    first, last = line_start(source, start), line_end(source, max(start, end - 1))
    before_blank = first == 0 or _is_blank_line(source, line_start(source, first - 1))
    if before_blank and _is_blank_line(source, last):
        last = line_end(source, last)
    elif last >= len(source):
        while first > 0 and _is_blank_line(source, line_start(source, first - 1)):
            first = line_start(source, first - 1)
    return source[:first] + source[last:]


def with_leading_comments(node: tree_sitter.Node, comment_types: frozenset[str]) -> int:
    """Start byte of ``node`` with the comments directly above it (no blank line between): its doc."""
    start, row = node.start_byte, node.start_point[0]
    previous = node.prev_sibling
    while previous is not None and previous.type in comment_types and previous.end_point[0] >= row - 1:
        before = previous.prev_sibling
        if before is not None and before.end_point[0] == previous.start_point[0]:
            break  # a trailing comment of the code before
        start, row = previous.start_byte, previous.start_point[0]
        previous = before
    return start


def cut_declaration(
    source: bytes, node: tree_sitter.Node, comment_types: frozenset[str]
) -> tuple[int, int, bytes]:
    """What moving a top-level ``node`` cuts from ``source`` (byte range: its lines with the doc comment
    above and the blank lines after; at the end of the file the blank lines before instead) and the
    declaration's lines as they will be written elsewhere."""
    first = line_start(source, with_leading_comments(node, comment_types))
    last = line_end(source, max(node.start_byte, node.end_byte - 1))
    declaration = source[first:last]
    if not declaration.endswith(b"\n"):
        declaration += b"\n"
    end = last
    while _is_blank_line(source, end):
        end = line_end(source, end)
    if end >= len(source):
        while first > 0 and _is_blank_line(source, line_start(source, first - 1)):
            first = line_start(source, first - 1)
    return first, end, declaration


def char_offset(source: bytes, byte_offset: int) -> int:
    """Character offset in the decoded text of a byte offset of its UTF-8 ``source``."""
    return len(source[:byte_offset].decode("utf-8", errors="replace"))


def top_level_node(tree: tree_sitter.Tree, line: int, col: int) -> tree_sitter.Node | None:
    """The child of the root holding the point (line, byte column)."""
    for child in tree.root_node.named_children:
        if child.start_point <= (line, col) < child.end_point or child.start_point == (line, col):
            return child
    return None


# What a node is to :func:`function_statement_counts`: None for neither a function nor a scope (its
# children stay in the enclosing scope); else (name, body): a name (None: anonymous, its children stay in
# the enclosing scope) and, for a function with a body, the node whose named children are its statements
# (None: a scope, such as a class, or a function without a body, such as an abstract method).
FunctionOrScope = tuple[str | None, tree_sitter.Node | None] | None


def function_statement_counts(
    root: tree_sitter.Node,
    describe: Callable[[tree_sitter.Node], FunctionOrScope],
    comment_types: frozenset[str],
) -> dict[str, FunctionBody]:
    """:meth:`LanguageSupport.function_statements` over a tree, given what each node is: every named
    function's statements (comments left out) by its dotted name within its scopes. Same-named functions
    (overloads, a getter and its setter) are one entry, the one with the most statements, so one of them
    is emptied only when all are (a missed check, never a wrong refusal). Iterative: minified code nests
    deeper than Python's recursion limit."""
    found: dict[str, FunctionBody] = {}
    stack: list[tuple[tree_sitter.Node, str]] = [(root, "")]
    while stack:
        node, scope = stack.pop()
        for child in node.named_children:
            name, body = describe(child) or (None, None)
            if name is None:
                stack.append((child, scope))
                continue
            qualified = scope + name
            if body is not None:
                statements = [s for s in body.named_children if s.type not in comment_types]
                counted = statements_of(body, statements)
                if qualified not in found or counted.statements > found[qualified].statements:
                    found[qualified] = counted
            stack.append((child, qualified + "."))
    return found


def statements_of(body: tree_sitter.Node, statements: Sequence[tree_sitter.Node]) -> FunctionBody:
    """The :class:`FunctionBody` of ``statements``, the statements of ``body``."""
    if not statements:
        return FunctionBody(0, body.start_byte, body.start_byte)
    return FunctionBody(len(statements), statements[0].start_byte, statements[-1].end_byte)
