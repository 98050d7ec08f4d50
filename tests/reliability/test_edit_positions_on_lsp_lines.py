"""The positions of the server's edits (code actions, fixups, model edits) count LSP's lines, where a lone
``\\r`` ends a line too, both ways: offsets to editor positions and back.

Before: both split lines at ``\\n`` alone, so in a document with a lone ``\\r`` line end a move's edit of
another open file named a character past its line's end (the editor clamps it there, and the file kept a
stray ``\\r``), and a selection's position on a later line was read on an earlier one. Found by the session
fuzz (test_session_fuzz).
"""

from __future__ import annotations

from roost.lsp.core.text_edits import LineCharacter, offset_at, position_at

TEXT = "a = 1\rb = '😀'\r\nc = 3\nd"


def test_offsets_become_positions_on_lsp_lines() -> None:
    assert position_at(TEXT, TEXT.index("b")) == LineCharacter(1, 0)
    assert position_at(TEXT, TEXT.index("'", 5) + 2) == LineCharacter(1, 7)  # the emoji is two units
    assert position_at(TEXT, TEXT.index("c") + 1) == LineCharacter(2, 1)
    assert position_at(TEXT, len(TEXT)) == LineCharacter(3, 1)
    # The whole first line with its end, as a line-level replacement names it, ends at the next line's start.
    assert position_at(TEXT, TEXT.index("b") - 1) == LineCharacter(0, 5)


def test_positions_become_offsets_on_lsp_lines() -> None:
    assert offset_at(TEXT, LineCharacter(1, 2)) == TEXT.index("b") + 2
    assert offset_at(TEXT, LineCharacter(0, 99)) == TEXT.index("\r")  # clamped to the line's end
    assert offset_at(TEXT, LineCharacter(2, 0)) == TEXT.index("c")
    assert offset_at(TEXT, LineCharacter(9, 0)) == TEXT.index("d")  # a line past the end: the last line


def test_both_ways_agree() -> None:
    for offset in range(len(TEXT) + 1):
        if TEXT[offset - 1 : offset + 1] == "\r\n":
            continue  # between the "\r" and "\n" of one line end: no position names it
        assert offset_at(TEXT, position_at(TEXT, offset)) == offset
