"""The server applies an editor's changes with LSP's lines: only ``\\n``, ``\\r\\n`` and ``\\r`` end one, and a
character past a line's end is that end (the last line's too).

Before: pygls split lines with ``str.splitlines`` (a form feed, ``\\x85`` or U+2028 also ended a line, so a
change after one landed on another line), and clamped a character past the end of the last line to one
before it (a deletion to the end kept the last character). Found by the session fuzz (test_session_fuzz).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from raw_client import RawClient


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _change(start: tuple[int, int], end: tuple[int, int], text: str) -> dict[str, object]:
    return {
        "range": {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        },
        "text": text,
    }


CASES = [
    # (text opened, change, the editor's text after it)
    ("x = 1\f\ny = 2\n", _change((1, 0), (1, 1), "z"), "x = 1\f\nz = 2\n"),
    ("s = '\u2028'\nt = 2\n", _change((1, 0), (1, 1), "u"), "s = '\u2028'\nu = 2\n"),
    ("a\x85b\rc\r\nd", _change((2, 0), (2, 1), "D"), "a\x85b\rc\r\nD"),
    ("abc", _change((0, 1), (0, 10), ""), "a"),
    ("abc\ndef", _change((1, 0), (1, 99), "x"), "abc\nx"),
]


@pytest.mark.parametrize(("opened", "change", "expected"), CASES)
def test_changes_apply_on_lsp_lines(
    tmp_path: Path, opened: str, change: dict[str, object], expected: str
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uri = (root / "m.py").as_uri()
    with RawClient(root) as client:
        client.initialize()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": opened}},
        )
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]},
        )
        digests = client.request("roost/debugStats", None)["result"]["documentDigests"]
    assert digests == {uri: _digest(expected)}
