"""A ``didChange`` of a document the editor has not opened (or has closed: a client's slip) is logged and
dropped, without an error for the user, and the document opens normally afterwards.

Before: pygls raised a KeyError for it, which the server reported to the user as "Error in server" on every
keystroke. Found by the session fuzz (test_session_fuzz).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from raw_client import RawClient


def test_a_change_of_an_unopened_document_is_dropped_quietly(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uri = (root / "m.py").as_uri()
    change = {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "text": "#",
    }
    with RawClient(root) as client:
        client.initialize()
        client.notify(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]}
        )
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 3, "text": "x = 1\n"}},
        )
        digests = client.request("roost/debugStats", None)["result"]["documentDigests"]
        shown = [m for m in client._pending if m.get("method") in ("window/showMessage", "window/logMessage")]
        log = client.log_text()
    assert digests == {uri: hashlib.sha256(b"x = 1\n").hexdigest()}
    assert not [m for m in shown if m["params"]["type"] == 1], shown
    assert "server error" not in log
