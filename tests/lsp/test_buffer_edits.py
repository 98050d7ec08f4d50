"""didChange content changes → the index's byte-column buffer edits: applying them to a real buffer gives
the text pygls's own document store computes from the same changes."""

from __future__ import annotations

import pytest
import tree_sitter
from lsprotocol import types
from pygls.workspace import TextDocument

from roost.context.buffers import Buffer
from roost.context.languages import language_for_path
from roost.lsp.handlers.content_changes import buffer_edits, deferred_buffer_edits


def _change(sl: int, sc: int, el: int, ec: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(sl, sc), end=types.Position(el, ec)), text=text
    )


def _pygls_text(text: str, changes: list[types.TextDocumentContentChangeEvent]) -> str:
    document = TextDocument("file:///w/m.py", text, version=1)
    for change in changes:
        document.apply_change(change)
    return document.source


TEXT = "def f(x):\n    s = 'h\u00e9llo \U0001f600 w\u00f6rld'\n    return x\n"

CASES = {
    "ascii insert": ("x = 1\ny = 2\n", [_change(1, 5, 1, 5, "0")]),
    "after an emoji (two UTF-16 units, four bytes)": (TEXT, [_change(1, 20, 1, 20, "!")]),
    "replace across lines with non-ASCII": (TEXT, [_change(1, 10, 2, 4, "\u00e7a\n    ")]),
    "several changes, each against the text after the previous": (
        TEXT,
        [_change(0, 4, 0, 5, "g\u00fc"), _change(1, 12, 1, 17, "\U0001f40d"), _change(1, 13, 1, 13, "z")],
    ),
    "insert at the end of the document": (TEXT, [_change(3, 0, 3, 0, "\u00e9 = 2\n")]),
    "delete a whole line": (TEXT, [_change(1, 0, 2, 0, "")]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edits_applied_to_the_index_buffer_give_the_editor_text(name: str) -> None:
    text, changes = CASES[name]
    edits = buffer_edits(text, changes)
    assert edits is not None
    language = language_for_path("m.py")
    assert language is not None
    buffer = Buffer(tree_sitter.Parser(language.ts_language("m.py")), text.encode("utf-8"))
    buffer.apply(edits)
    assert buffer.source.decode("utf-8") == _pygls_text(text, changes)


def test_byte_columns_count_utf8_bytes() -> None:
    (edit,) = buffer_edits(TEXT, [_change(1, 20, 1, 20, "!")])
    line = TEXT.split("\n")[1]
    assert edit.start_col == len(line[:19].encode("utf-8"))  # 19 characters = 20 UTF-16 units
    assert edit.start_col != 20


def test_a_whole_document_change_is_left_to_the_full_text() -> None:
    whole = types.TextDocumentContentChangeWholeDocument(text="y = 2\n")
    assert buffer_edits("x = 1\n", [_change(0, 0, 0, 0, "#"), whole]) is None


def test_the_index_service_applies_changes_without_resyncing(tmp_path, caplog) -> None:
    from roost.context.options import IndexOptions
    from roost.lsp.core.index_service import IndexService

    service = IndexService(tmp_path, IndexOptions(cache_dir=tmp_path / "cache", persist=False), watch=False)
    try:
        service.apply_changes("m.py", TEXT, deferred_buffer_edits(None, []))  # never seen opened: full text
        # Buffer updates apply on the service's worker thread; waiting keeps the next one from merging
        # into this one (a merged update is a whole-text diff, not the edits this test is about).
        service.wait_for_buffer_updates()
        text, changes = CASES["several changes, each against the text after the previous"]
        with caplog.at_level("INFO", logger="roost.context.index"):
            service.apply_changes("m.py", _pygls_text(text, changes), deferred_buffer_edits(text, changes))
            service.wait_for_buffer_updates()
        assert service.workspace_index.buffer_text("m.py") == _pygls_text(text, changes)
        assert not [r for r in caplog.records if "re-sync" in r.getMessage()]  # the edits fitted exactly
        names = {d.name for d in service.workspace_index.file_facts("m.py").definitions}
        assert "g\u00fc" in names
    finally:
        service.close()
