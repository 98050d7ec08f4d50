"""Point 13 of "trust": pygls 2.1.1 kept a finished future per notification handled by an async, threaded
or generator handler (every didChange keystroke) in ``protocol._request_futures`` for good: memory grew
with every keystroke. After 2,000 didChange notifications the server must hold no more futures than
before them."""

from __future__ import annotations

from pathlib import Path

from raw_client import RawClient

KEYSTROKES = 2000


def _held_futures(client: RawClient) -> int:
    response = client.request("roost/debugStats", None, timeout=30)
    return response["result"]["heldFutures"]


def test_didchange_notifications_leave_no_futures_behind(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    path = root / "typing.py"
    path.write_text("", encoding="utf-8")
    uri = path.resolve().as_uri()
    with RawClient(root) as client:
        client.initialize()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
        )
        before = _held_futures(client)
        for version in range(2, KEYSTROKES + 2):
            here = {"line": 0, "character": version - 2}
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": here, "end": here}, "text": "x"}],
                },
            )
        after = _held_futures(client)  # answered after every didChange was handled (in order)
        assert after <= before + 1, (
            f"{after - before} futures kept after {KEYSTROKES} didChange notifications"
        )
