"""Open editor buffers: text kept as bytes with its tree-sitter tree, edited incrementally.

Edits use the facts' coordinates (0-based lines, UTF-8 byte columns, against the text *before* that edit;
several edits apply in order, like LSP ``contentChanges``). See :mod:`roost.context.positions` to convert
from UTF-16 LSP positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from roost.context.languages.base import TextChange
from roost.context.parser_cache import ranged_parser_for


@dataclass(frozen=True, slots=True)
class BufferEdit:
    """Replace the range [start, end) of the current text with ``new_text``."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    new_text: str


class BufferError(ValueError):
    """An edit that does not fit the buffer (stale version, out of range)."""


def _line_starts(source: bytes) -> list[int]:
    starts = [0]
    find = source.find
    position = find(b"\n")
    while position >= 0:
        starts.append(position + 1)
        position = find(b"\n", position + 1)
    return starts


def _offset(line_starts: list[int], source_len: int, line: int, col: int) -> int:
    if line < 0 or col < 0:
        raise BufferError(f"negative position {line}:{col}")
    if line >= len(line_starts):
        # LSP allows a position one past the last line (end of document).
        return source_len
    line_end = line_starts[line + 1] - 1 if line + 1 < len(line_starts) else source_len
    return min(line_starts[line] + col, line_end)


def _point_after(start_point: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    newlines = inserted.count(b"\n")
    if newlines == 0:
        return (start_point[0], start_point[1] + len(inserted))
    return (start_point[0] + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


# Above this size a buffer is parsed from a read callback (see _parse_yielding).
_YIELDING_PARSE_BYTES = 256 * 1024
_PARSE_CHUNK_BYTES = 16 * 1024


def _parse_yielding(
    parser: tree_sitter.Parser, source: bytes, old_tree: tree_sitter.Tree | None = None
) -> tree_sitter.Tree:
    """``parser.parse(source, old_tree)`` that lets other threads run while it parses a large text.

    tree-sitter holds the GIL for a whole parse of bytes, so a buffer parse on the index's worker thread
    would still stall the server's event loop (0.7 s for a 2 MB file with a syntax error). Given a read
    callback instead, the parse runs Python code at every chunk, where the interpreter hands the GIL to a
    waiting thread; the longest stall measured drops to about a third. Small texts parse directly (the
    callback costs a few percent)."""

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        return source[offset : offset + _PARSE_CHUNK_BYTES]

    text_or_reader = source if len(source) < _YIELDING_PARSE_BYTES else read
    # tree-sitter takes no None for the old tree.
    return parser.parse(text_or_reader) if old_tree is None else parser.parse(text_or_reader, old_tree)


class Buffer:
    """One open document: bytes + tree, kept in step by :meth:`apply`."""

    def __init__(self, parser: tree_sitter.Parser, source: bytes):
        self._parser = parser
        self.source = source
        self._tree = _parse_yielding(parser, source)
        # The previous tree, edited to match ``source``, when the re-parse was deferred (see ``apply``).
        self._pending: tree_sitter.Tree | None = None
        self._range_parser: tree_sitter.Parser | None = None
        self._line_starts: list[int] | None = None
        # After apply(): the previous tree (edited to match) and the single change, when there was one;
        # lets the language re-extract only the edited region.
        self.previous_tree: tree_sitter.Tree | None = None
        self.last_change: TextChange | None = None

    @property
    def tree(self) -> tree_sitter.Tree:
        """The tree of ``source``; a deferred re-parse happens here, on first use."""
        if self._pending is not None:
            self._tree = self._reparse(self._pending)
            self._pending = None
        return self._tree

    @property
    def parse_pending(self) -> bool:
        """True when ``tree`` will re-parse on its next use (``previous_tree`` is the edited old tree)."""
        return self._pending is not None

    def _reparse(self, edited: tree_sitter.Tree) -> tree_sitter.Tree:
        new_tree = _parse_yielding(self._parser, self.source, edited)
        if new_tree.root_node.has_error:
            # tree-sitter's error recovery depends on history: an incremental parse of broken code can
            # differ from a fresh parse of the same text. The index must not depend on edit history.
            new_tree = _parse_yielding(self._parser, self.source)
        return new_tree

    def parse_ranges(
        self, ranges: list[tuple[int, int, tuple[int, int], tuple[int, int]]]
    ) -> tree_sitter.Tree:
        """A fresh parse of only these (start byte, end byte, start point, end point) ranges of ``source``,
        in order (tree-sitter's included ranges: the nodes keep their positions in the whole text).
        Languages use it to re-parse one edited statement, with the headers of the blocks around it,
        instead of the file; whether that equals the whole parse is theirs to check."""
        parser = self._range_parser
        if parser is None:
            # The tree's grammar is the parser's (a parser's may be unset in general; a tree's never is).
            parser = self._range_parser = ranged_parser_for(self._tree.language)
        parser.included_ranges = [tree_sitter.Range(sp, ep, sb, eb) for sb, eb, sp, ep in ranges]
        return parser.parse(self.source)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = _line_starts(self.source)
        return self._line_starts

    def apply(self, edits: list[BufferEdit], defer_parse: bool = False) -> None:
        """Apply edits in order to the text and the tree, then re-parse incrementally (once).

        With ``defer_parse`` the re-parse waits until ``tree`` is next used: the caller may get what it
        needs from a parse of the edited statement alone (:meth:`parse_range`). tree-sitter's incremental
        re-parse of Python is close to a full parse for edits next to a line end or an indentation (its
        zero-width NEWLINE/INDENT/DEDENT tokens): the parser gives up re-using the following statements up
        to the end of the file (measured: 8-10 ms for a 2,000-line file, against 0.1 ms for the method).
        """
        if edits:
            self._apply_bytes(edits, defer_parse)

    def replace_with_diff(self, source: bytes) -> None:
        """Full-text sync, turned into one incremental edit: the span between the common prefix and the
        common suffix of the old and new text (what a keystroke changed)."""
        old = self.source
        if old == source:
            return
        prefix = _common_prefix(old, source)
        suffix = _common_suffix(old, source, limit=min(len(old), len(source)) - prefix)
        self._apply_bytes([(prefix, len(old) - suffix, source[prefix : len(source) - suffix])])

    def _apply_bytes(
        self, edits: list[BufferEdit] | list[tuple[int, int, bytes]], defer_parse: bool = False
    ) -> None:
        """Edits as :class:`BufferEdit` (positions against the text after the previous edits) or as
        (start byte, old end byte, new bytes); one tree edit each, one parse at the end."""
        source = self.source
        # Edited in place: a bad edit half-way must leave the buffer as it was. A deferred re-parse simply
        # takes the further edits (tree-sitter re-parses once for any number of edits).
        tree = (self._pending if self._pending is not None else self._tree).copy()
        starts = self.line_starts()
        changes: list[TextChange] = []
        for edit in edits:
            if isinstance(edit, BufferEdit):
                start = _offset(starts, len(source), edit.start_line, edit.start_col)
                end = _offset(starts, len(source), edit.end_line, edit.end_col)
                if end < start:
                    raise BufferError(f"edit ends before it starts: {edit}")
                inserted = edit.new_text.encode("utf-8", "surrogatepass")
            else:
                start, end, inserted = edit
            start_point = self._point_at(starts, start)
            old_end_point = self._point_at(starts, end)
            new_end = start + len(inserted)
            change = TextChange(
                start, end, new_end, start_point, old_end_point, _point_after(start_point, inserted)
            )
            tree.edit(
                start_byte=change.start_byte,
                old_end_byte=change.old_end_byte,
                new_end_byte=change.new_end_byte,
                start_point=change.start_point,
                old_end_point=change.old_end_point,
                new_end_point=change.new_end_point,
            )
            changes.append(change)
            source = source[:start] + inserted + source[end:]
            starts = _updated_line_starts(starts, change, inserted)
        self.source = source
        self._line_starts = starts
        self.previous_tree = tree
        self.last_change = changes[0] if len(changes) == 1 else None
        if defer_parse:
            self._pending = tree.copy()  # previous_tree must stay as this edit left it
        else:
            self._pending = None
            self._tree = self._reparse(tree)

    @staticmethod
    def _point_at(starts: list[int], offset: int) -> tuple[int, int]:
        # Binary search: the last line start <= offset.
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return (low, offset - starts[low])

    def replace(self, source: bytes) -> None:
        """Replace the whole text (full sync); a fresh parse."""
        self.source = source
        self._tree = _parse_yielding(self._parser, source)
        self._pending = None
        self._line_starts = None
        self.previous_tree = None
        self.last_change = None


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by bisection over slice comparisons (memcmp), not a Python loop."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    low, high = 0, max(0, limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


def _updated_line_starts(starts: list[int], change: TextChange, inserted: bytes) -> list[int]:
    """Line start offsets after ``change`` without rescanning the whole text."""
    first_row = change.start_point[0]
    old_last_row = change.old_end_point[0]
    delta = change.new_end_byte - change.old_end_byte
    middle = []
    position = inserted.find(b"\n")
    while position >= 0:
        middle.append(change.start_byte + position + 1)
        position = inserted.find(b"\n", position + 1)
    return starts[: first_row + 1] + middle + [offset + delta for offset in starts[old_last_row + 1 :]]
