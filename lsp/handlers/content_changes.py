"""LSP ``contentChanges`` → the index's :class:`~roost.context.buffers.BufferEdit`s.

LSP positions count UTF-16 code units on LSP's lines; the index counts UTF-8 bytes on rows that end at
"\n" alone. The conversion needs the text each position is in *before* that change, so it is given the
text before the notification (the server's copy from the previous event) and replays the changes on it
when there are several.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lsprotocol import types

from roost.context.buffers import BufferEdit
from roost.lsp.core.text_edits import LineCharacter, clamped_range


def _row_and_byte_col(text: str, offset: int) -> tuple[int, int]:
    """The index's row (rows end at "\n" alone, as tree-sitter's do) and UTF-8 byte column of an offset."""
    row_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), len(text[row_start:offset].encode("utf-8", "surrogatepass"))


def buffer_edits(
    previous_text: str, changes: Sequence[types.TextDocumentContentChangeEvent]
) -> list[BufferEdit] | None:
    """The changes as byte-column edits against ``previous_text``, in order; None when one of them
    replaces the whole document (then only the full text says what the buffer is). A change's range is
    read as the editor's document store reads it (LSP's lines, where a lone "\r" ends one too, and
    positions past a line's or the document's end clamped), so that the edits give the editor's text."""
    edits: list[BufferEdit] = []
    text = previous_text
    for number, change in enumerate(changes):
        if not isinstance(change, types.TextDocumentContentChangePartial):
            return None
        start, end = change.range.start, change.range.end
        low, high = clamped_range(
            text, LineCharacter(start.line, start.character), LineCharacter(end.line, end.character)
        )
        edits.append(BufferEdit(*_row_and_byte_col(text, low), *_row_and_byte_col(text, high), change.text))
        if number + 1 < len(changes):  # the next change's positions are against the text after this one
            text = text[:low] + change.text + text[high:]
    return edits


def deferred_buffer_edits(
    previous_text: str | None, changes: Sequence[types.TextDocumentContentChangeEvent]
) -> Callable[[], list[BufferEdit] | None]:
    """:func:`buffer_edits` to be worked out later, where the index applies them (on its buffer worker,
    not the event loop); None, a whole-text update, when the previous text is unknown."""
    if previous_text is None:
        return lambda: None
    return lambda: buffer_edits(previous_text, changes)
