"""Foundation end to end: the real ``roost serve --stdio`` driven by a real LSP client."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from lsp_harness import lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

INSTRUMENTED = [
    sys.executable,
    str(Path(__file__).resolve().parent.parent / "servers" / "instrumented_server.py"),
]


async def test_initialize_advertises_capabilities_and_reports_ready(workspace: Path) -> None:
    async with lsp_session(workspace) as session:
        result = session.initialize_result
        assert result is not None
        assert result.server_info is not None and result.server_info.name == "roost"
        sync = result.capabilities.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        assert sync.open_close is True
        status = await session.wait_for_status("ready", timeout=120)
        assert status["message"]
        assert session.statuses[0]["state"] == "starting"


async def test_incremental_edits_are_applied_to_the_document_store(workspace: Path) -> None:
    async with lsp_session(workspace, command=INSTRUMENTED) as session:
        uri = session.open("main.py")
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=0, character=4), end=types.Position(line=0, character=9)
                        ),
                        text="welcome",
                    )
                ],
            )
        )
        # The server must still answer after the edit; a round trip proves ordering.
        with pytest.raises(JsonRpcException):
            await session.client.protocol.send_request_async("roost/test/crash", {})


async def test_a_crashing_handler_answers_with_an_error_and_the_server_lives_on(workspace: Path) -> None:
    async with lsp_session(workspace, command=INSTRUMENTED) as session:
        with pytest.raises(JsonRpcException) as raised:
            await session.client.protocol.send_request_async("roost/test/crash", {})
        assert "deliberate failure" in str(raised.value)
        # Still alive: a second crash is answered too, and then a normal request works.
        with pytest.raises(JsonRpcException):
            await session.client.protocol.send_request_async("roost/test/crash", {})
        await session.wait_for_status("ready", timeout=120)


async def test_cancel_request_stops_the_work_not_only_the_reply(workspace: Path, tmp_path: Path) -> None:
    steps_file = tmp_path / "steps.txt"
    async with lsp_session(workspace, command=INSTRUMENTED) as session:
        protocol = session.client.protocol
        future = protocol.send_request("roost/test/slowWork", {"stepsFile": str(steps_file)})
        deadline = time.monotonic() + 30
        while not steps_file.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert steps_file.exists(), "the work never started"
        request_id = next(reversed(protocol._request_futures))  # the id of the request just sent
        protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
        with pytest.raises(JsonRpcException) as raised:
            await asyncio.wait_for(
                asyncio.wrap_future(future) if not asyncio.isfuture(future) else future, 10
            )
        assert "cancel" in str(raised.value).lower()
        steps_at_cancel = int(steps_file.read_text())
        await asyncio.sleep(0.5)  # ten more steps would have run had the work continued
        steps_later = int(steps_file.read_text())
        assert steps_later - steps_at_cancel <= 1, (steps_at_cancel, steps_later)
        assert steps_later < 200


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_tcp_transport_answers_initialize(tmp_path: Path) -> None:
    import json
    import subprocess

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "roost.lsp.cli", "serve", "--tcp", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                assert time.monotonic() < deadline, "server never listened"
                await asyncio.sleep(0.1)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        ).encode()
        # A framing fault first (pygls's reader died of it): skipped, and the next message answered.
        writer.write(b"Content-Length: 1000000000000000\r\n\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        reply = json.loads(await reader.readexactly(length))
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "roost"
        writer.close()
    finally:
        server.kill()
        server.wait()
