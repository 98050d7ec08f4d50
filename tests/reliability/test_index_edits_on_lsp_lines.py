"""didChange ranges reach the index's buffer as the editor's document store reads them: on LSP's lines (a
lone ``\\r`` ends one too, tree-sitter's rows end at ``\\n`` alone) and with positions past a line's or the
document's end clamped, so the edits alone give the editor's text and the index never re-syncs.

Before: a range was read on lines split at ``\\n``, so after a lone ``\\r`` the edit landed elsewhere and the
index logged a drift and re-parsed the whole text on every keystroke there. Found by the session fuzz
(test_session_fuzz), whose log showed about one drift every ten steps.
"""

from __future__ import annotations

import pytest
import tree_sitter
from lsprotocol import types

from roost.context.buffers import Buffer
from roost.context.languages import language_for_path
from roost.lsp.handlers.content_changes import buffer_edits


def _change(sl: int, sc: int, el: int, ec: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(sl, sc), end=types.Position(el, ec)), text=text
    )


CASES = {
    "after a lone carriage return": ("a = 1\rb = 2\n", [_change(1, 0, 1, 1, "c")], "a = 1\rc = 2\n"),
    "across a lone carriage return": ("a = 1\rb = 2\n", [_change(0, 4, 1, 4, "")], "a = 2\n"),
    "a line past the end, after carriage returns": ("a\rb\r", [_change(7, 0, 9, 0, "z")], "a\rb\rz"),
    "two changes, the second after the first's lone carriage return": (
        "x = 1\ny = 2\n",
        [_change(0, 5, 0, 5, "\r\u00e9 = 3"), _change(1, 0, 1, 1, "\U0001f600")],
        "x = 1\r\U0001f600 = 3\ny = 2\n",
    ),
    "a character past the end of a non-ASCII line": (
        "\u00e9t\u00e9\nz",
        [_change(0, 1, 0, 40, "")],
        "\u00e9\nz",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_edits_alone_give_the_editor_text(name: str) -> None:
    text, changes, expected = CASES[name]
    edits = buffer_edits(text, changes)
    assert edits is not None
    language = language_for_path("m.py")
    assert language is not None
    buffer = Buffer(tree_sitter.Parser(language.ts_language("m.py")), text.encode("utf-8"))
    buffer.apply(edits)
    assert buffer.source.decode("utf-8") == expected
