"""LSP ``contentChanges`` → the index's :class:`~roost.context.buffers.BufferEdit`s.

LSP positions count UTF-16 code units; the index counts UTF-8 bytes. The conversion needs the line each
position is on *before* that change, so it is given the text before the notification (the server's copy
from the previous event) and replays the changes on it when there are several.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lsprotocol import types

from roost.context.buffers import BufferEdit
from roost.context.positions import utf16_to_byte_col


def _line(text: str, line: int) -> str:
    parts = text.split("\n", line + 1)
    return parts[line] if line < len(parts) else ""


def _char_offset(text: str, position: types.Position) -> int:
    """Character offset of an LSP position in ``text`` (lines split on ``\\n``, like the index)."""
    lines = text.split("\n", position.line + 1)
    if position.line >= len(lines):
        return len(text)
    start = sum(len(line) + 1 for line in lines[: position.line])
    line_text = lines[position.line]
    units = 0
    for index, char in enumerate(line_text):
        if units >= position.character:
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(line_text)


def buffer_edits(
    previous_text: str, changes: Sequence[types.TextDocumentContentChangeEvent]
) -> list[BufferEdit] | None:
    """The changes as byte-column edits against ``previous_text``, in order; None when one of them
    replaces the whole document (then only the full text says what the buffer is)."""
    edits: list[BufferEdit] = []
    text = previous_text
    for number, change in enumerate(changes):
        if not isinstance(change, types.TextDocumentContentChangePartial):
            return None
        start, end = change.range.start, change.range.end
        if text.isascii():
            # One byte per UTF-16 unit: the columns are the same (clamping happens in the buffer).
            start_col, end_col = start.character, end.character
        else:
            start_col = utf16_to_byte_col(_line(text, start.line), start.character)
            end_col = utf16_to_byte_col(_line(text, end.line), end.character)
        edits.append(BufferEdit(start.line, start_col, end.line, end_col, change.text))
        if number + 1 < len(changes):  # the next change's positions are against the text after this one
            low, high = _char_offset(text, start), _char_offset(text, end)
            text = text[:low] + change.text + text[max(low, high) :]
    return edits


def deferred_buffer_edits(
    previous_text: str | None, changes: Sequence[types.TextDocumentContentChangeEvent]
) -> Callable[[], list[BufferEdit] | None]:
    """:func:`buffer_edits` to be worked out later, where the index applies them (on its buffer worker,
    not the event loop); None, a whole-text update, when the previous text is unknown."""
    if previous_text is None:
        return lambda: None
    return lambda: buffer_edits(previous_text, changes)
