"""Point 6 of "trust": a request whose params do not fit the LSP schema gets JSON-RPC -32602 with a
readable message (pygls used to log it and never answer, so the editor's request hung forever), and the
server goes on answering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from raw_client import RawClient

INVALID_PARAMS = -32602
POSITION_OK = {"line": 0, "character": 0}


def _cases(uri: str) -> dict[str, tuple[str, Any, str]]:
    """name: (method, params, a word the error message must contain)."""
    document = {"uri": uri}
    return {
        "position as a string": (
            "textDocument/hover",
            {"textDocument": document, "position": "0:0"},
            "position",
        ),
        "line -1": (
            "textDocument/hover",
            {"textDocument": document, "position": {"line": -1, "character": 0}},
            "-1",
        ),
        "line 2**40": (
            "textDocument/inlineCompletion",
            {
                "textDocument": document,
                "position": {"line": 2**40, "character": 0},
                "context": {"triggerKind": 1},
            },
            str(2**40),
        ),
        "character over 2**31": (
            "textDocument/completion",
            {"textDocument": document, "position": {"line": 0, "character": 2**31}},
            "character",
        ),
        "params as a list": ("textDocument/hover", [document, POSITION_OK], "text_document"),
        "missing textDocument": ("textDocument/definition", {"position": POSITION_OK}, "text_document"),
        "code-action range of strings": (
            "textDocument/codeAction",
            {"textDocument": document, "range": {"start": "a", "end": "b"}, "context": {"diagnostics": []}},
            "range",
        ),
    }


@pytest.fixture
def client(tmp_path: Path) -> RawClient:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("def area(r):\n    return r * r\n", encoding="utf-8")
    with RawClient(root) as raw:
        raw.initialize()
        yield raw


@pytest.mark.parametrize("case", list(_cases("file:///x.py")))
def test_badly_typed_params_get_invalid_params(client: RawClient, case: str) -> None:
    uri = (client.root / "app.py").resolve().as_uri()
    method, params, mentioned = _cases(uri)[case]
    response = client.request(method, params, timeout=10)
    assert response.get("error", {}).get("code") == INVALID_PARAMS, response
    message = response["error"]["message"]
    assert method in message and mentioned in message, message
    # The server is still there and answers the next valid request.
    assert "result" in client.request("roost/effectiveConfiguration", None, timeout=10)
    assert client.alive()


def test_a_request_that_is_not_json_rpc_2_is_answered(client: RawClient) -> None:
    client.send({"jsonrpc": "1.0", "id": 7, "method": "textDocument/hover", "params": {}})
    assert client.response(7, timeout=10)["error"]["code"] == -32600
    client.write(b"Content-Length: 9\r\n\r\n{not json")
    parse_error = client.wait_for(lambda m: m.get("id") is None and "error" in m, timeout=10)
    assert parse_error["error"]["code"] == -32700
    assert "result" in client.request("roost/effectiveConfiguration", None, timeout=10)


def test_a_badly_typed_notification_is_dropped_and_the_server_answers_on(client: RawClient) -> None:
    uri = (client.root / "app.py").resolve().as_uri()
    client.notify(
        "textDocument/didChange", {"textDocument": {"uri": uri, "version": "x"}, "contentChanges": 5}
    )
    client.notify("textDocument/didOpen", [uri])
    assert "result" in client.request("roost/effectiveConfiguration", None, timeout=10)
    assert "unreadable notification 'textDocument/didOpen'" in client.log_text()
