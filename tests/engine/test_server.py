"""The shared engine's OpenAI-compatible server, spoken to over a real socket (tiny Mistral backend)."""

from __future__ import annotations

import asyncio
import json

import pytest

from roost.engine.server import EngineServer


async def http(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """One request on its own connection, read to the end (``Connection: close``: the server keeps
    connections alive otherwise)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = json.dumps(body).encode() if body is not None else b""
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():  # a stream on a keep-alive connection
        rest = dechunk(rest)
    return int(head.split()[1]), rest


def dechunk(body: bytes) -> bytes:
    """The payload of an HTTP/1.1 chunked body (``<hex size>\\r\\n<data>\\r\\n`` … ``0\\r\\n\\r\\n``)."""
    payload = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        payload, body = payload + body[:size], body[size + 2 :]
    return payload


def sse_events(raw: bytes) -> list[str]:
    return [line[len(b"data: ") :].decode() for line in raw.split(b"\n\n") if line.startswith(b"data: ")]


@pytest.fixture
async def server(tiny_backend):
    engine_server = EngineServer(tiny_backend, model_name="tiny")
    port = await engine_server.start(0)
    yield port, tiny_backend
    await engine_server.close()


async def test_completion_streamed_and_not_streamed_agree(server) -> None:
    port, _backend = server
    body = {"model": "tiny", "prompt": [1, 1500, 1600, 1700], "max_tokens": 6, "temperature": 0}
    status, raw = await http(port, "POST", "/v1/completions", body)
    assert status == 200
    answer = json.loads(raw)
    assert answer["object"] == "text_completion" and answer["usage"]["completion_tokens"] == 6
    assert answer["choices"][0]["finish_reason"] == "length"

    status, raw = await http(port, "POST", "/v1/completions", {**body, "stream": True})
    events = sse_events(raw)
    assert status == 200 and events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["text"] for c in chunks) == answer["choices"][0]["text"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


async def test_chat_completion(server) -> None:
    port, _backend = server
    body = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 3, "stream": True}
    status, raw = await http(port, "POST", "/v1/chat/completions", body)
    chunks = [json.loads(e) for e in sse_events(raw)[:-1]]
    assert status == 200 and chunks[0]["object"] == "chat.completion.chunk"


async def test_bad_requests(server) -> None:
    port, _backend = server
    status, raw = await http(port, "POST", "/v1/completions", {"prompt": 5})
    assert status == 400 and "prompt" in json.loads(raw)["error"]["message"]
    status, raw = await http(port, "POST", "/v1/completions", {"prompt": "def f(", "suffix": ")"})
    assert status == 400 and "suffix" in json.loads(raw)["error"]["message"]
    status, _raw = await http(port, "GET", "/v2/nothing")
    assert status == 404
    status, raw = await http(port, "GET", "/health")
    assert status == 200 and json.loads(raw)["status"] == "ok"


async def test_client_disconnect_cancels_the_generation(server) -> None:
    port, backend = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = json.dumps({"prompt": [1, 2000, 2001], "max_tokens": 3000, "stream": True}).encode()
    writer.write(
        f"POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    await reader.readuntil(b"data: ")  # the stream is running
    writer.close()
    for _ in range(500):
        if (
            any(e.kind == "cancel_requested" for e in backend.scheduler.events)
            and backend.scheduler.batch_size == 0
        ):
            break
        await asyncio.sleep(0.02)
    assert any(e.kind == "cancel_requested" for e in backend.scheduler.events)
    assert backend.scheduler.batch_size == 0


def test_cli_engine_serve_reports_a_missing_model(tmp_path, capsys) -> None:
    from roost.lsp.cli import main

    assert main(["engine", "serve", "--port", "0", "--model", str(tmp_path / "nope")]) == 1
    assert "not found" in capsys.readouterr().err
