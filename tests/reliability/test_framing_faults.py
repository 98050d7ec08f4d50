"""Point 7 of "trust": LSP framing faults. ``Content-Length: 1000000000000000`` used to kill the server
(MemoryError in pygls's reader) and a non-numeric ``Content-Length`` left it alive but deaf (every later
message lost, nothing logged). Now the fault is logged, the message skipped, and the next valid message is
answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from raw_client import RawClient, frame


@pytest.fixture
def client(tmp_path: Path) -> RawClient:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n", encoding="utf-8")
    with RawClient(root, extra_args=["--max-message-bytes", "1000000"]) as raw:
        raw.initialize()
        yield raw


def _still_answers(client: RawClient) -> None:
    response = client.request("roost/effectiveConfiguration", None, timeout=15)
    assert "result" in response, response
    assert client.alive()


def _skipped_body() -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {}}).encode()


def test_a_huge_content_length_is_logged_and_skipped(client: RawClient) -> None:
    client.write(b"Content-Length: 1000000000000000\r\n\r\n" + _skipped_body())
    _still_answers(client)
    assert "over the limit of 1000000 bytes" in client.log_text()


def test_a_body_over_the_limit_is_skipped_without_being_kept(client: RawClient) -> None:
    big = json.dumps({"jsonrpc": "2.0", "method": "x/ignored", "params": {"text": "a" * 3_000_000}})
    client.write(frame(big))
    _still_answers(client)
    assert "message of 3000" in client.log_text()


def test_a_non_numeric_content_length_is_logged_and_skipped(client: RawClient) -> None:
    client.write(b"Content-Length: abc\r\n\r\n" + _skipped_body())
    _still_answers(client)
    assert "unreadable header 'Content-Length: abc'" in client.log_text()


def test_a_negative_content_length_and_a_garbage_line_are_survived(client: RawClient) -> None:
    client.write(b"Content-Length: -5\r\n\r\n" + b"\x00\xff garbage without a header\r\n\r\n")
    _still_answers(client)


def test_an_oversized_request_is_answered_not_left_waiting(client: RawClient) -> None:
    request_id = client.new_id()
    big = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "workspace/executeCommand",
            "params": {"command": "roost.accepted", "arguments": ["a" * 2_000_000]},
        }
    )
    client.write(frame(big))
    answer = client.response(request_id, timeout=15)
    assert answer["error"]["code"] == -32600 and "over the limit" in answer["error"]["message"]
    _still_answers(client)
