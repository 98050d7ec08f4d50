"""A document whose URI the editor percent-encodes (a space or a non-ASCII letter in its path; VS Code also
encodes a Windows drive's colon) counts as open, and gets completions.

Before: pygls keeps open documents under the unquoted URI, and the server asked for the editor's quoted one,
so every completion in such a file was refused as "not opened". Found while building the session fuzz
(test_session_fuzz).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_client import RawClient
from reliability_support import FakeOpenAI, fake_backend_options


@pytest.mark.parametrize("name", ["my file.py", "caf\u00e9.py"])
def test_a_percent_encoded_uri_gets_completions(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uri = (root / name).as_uri()
    assert "%" in uri
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(root) as client:
        client.initialize(fake_backend_options(fake))
        client.open_document(uri, "def f():\n    return ")
        texts, details = client.inline_completion(uri, 1, 11)
    assert details["source"] != "refused", details["message"]
    assert texts == ["pass"]
