"""A ``didSave`` of a document the editor never opened (a client's slip) is ignored quietly.

Before: the save listeners read the document's text through pygls, which read the file from disk; for a
file that does not exist (or a non-file URI) that raised, and the server logged a traceback and showed the
user an error. Found by the session fuzz (test_session_fuzz).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_client import RawClient


@pytest.mark.parametrize("name", ["missing.py", "vscode-notebook-cell:/ws/nb.ipynb#W0s.ts"])
def test_a_save_of_an_unopened_document_is_ignored(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uri = name if ":" in name else (root / name).as_uri()
    with RawClient(root) as client:
        client.initialize()
        client.notify("textDocument/didSave", {"textDocument": {"uri": uri}, "text": "x = 1\n"})
        assert "result" in client.request("roost/debugStats", None)
        errors = [
            m for m in client._pending if m.get("method") == "window/logMessage" and m["params"]["type"] == 1
        ]
        log = client.log_text()
    assert not errors, errors
    assert "Traceback" not in log
