"""A small OpenAI-compatible HTTP server for tests: real HTTP/1.1 over a 127.0.0.1 socket, chunked
transfer encoding and ``data: {...}`` server-sent events ending in ``data: [DONE]``, as vLLM / llama.cpp
send them. Each test scripts the replies; the server records requests and client disconnects.

The ``llama.cpp`` profile (:func:`llamacpp_reply`, :func:`llamacpp_script`) replays what a real llama.cpp
server sent to Roost's requests, byte for byte (status line, headers, every chunk of the body as it came),
from ``fixtures/llamacpp_server.json`` (recorded by ``llamacpp_capture.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LLAMACPP_FIXTURE = Path(__file__).with_name("fixtures") / "llamacpp_server.json"


@dataclass
class Reply:
    status: int = 200
    # Each event: a dict (sent as JSON) or a str (sent verbatim as the data payload).
    events: list[dict[str, Any] | str] = field(default_factory=list)
    done: bool = True
    # A non-streamed body (error responses).
    body: bytes | None = None
    headers_delay_s: float = 0.0
    event_delay_s: float = 0.0
    # After this many events: hang without closing (until the client goes away) …
    stall_after: int | None = None
    # … or drop the connection without finishing the chunked body.
    drop_after: int | None = None
    # A recorded reply, replayed as it came: the reason phrase, the headers, each chunk of a chunked body
    # (SSE framing and keep-alive comments included) or a Content-Length body, and whether the server
    # closed the connection before the last chunk.
    reason: str = "OK"
    raw_headers: dict[str, str] | None = None
    raw_chunks: list[str] | None = None
    raw_body: str | None = None
    closed_before_last_chunk: bool = False


def completion_events(pieces: list[str], finish: str = "stop") -> list[dict[str, Any] | str]:
    """``/v1/completions`` stream chunks (text_completion objects) for ``pieces``."""
    events: list[dict[str, Any] | str] = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        events.append(
            {
                "id": "cmpl-test",
                "object": "text_completion",
                "model": "test-model",
                "choices": [
                    {"index": 0, "text": piece, "logprobs": None, "finish_reason": finish if last else None}
                ],
            }
        )
    return events


def chat_events(pieces: list[str], finish: str = "stop") -> list[dict[str, Any] | str]:
    """``/v1/chat/completions`` stream chunks: a role-only delta first, then content deltas."""
    base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "test-model"}
    events: list[dict[str, Any] | str] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    ]
    for piece in pieces:
        events.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return events


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAIServer:
    def __init__(self, script: Callable[[RecordedRequest], Reply]) -> None:
        self.script = script
        self.requests: list[RecordedRequest] = []
        self.disconnected = asyncio.Event()
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> FakeOpenAIServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.disconnected.set()
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode("latin-1").strip()
        if not request_line:
            return
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        recorded = RecordedRequest(method, path, headers, json.loads(raw) if raw else {})
        self.requests.append(recorded)
        reply = self.script(recorded)

        if reply.headers_delay_s:
            await asyncio.sleep(reply.headers_delay_s)
        if reply.raw_headers is not None:
            await self._replay(reply, reader, writer)
            return
        if reply.body is not None or reply.status >= 400:
            body = reply.body or b""
            writer.write(
                f"HTTP/1.1 {reply.status} Error\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()

        async def send(payload: str) -> None:
            data = f"data: {payload}\n\n".encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()

        for index, event in enumerate(reply.events):
            if reply.stall_after is not None and index == reply.stall_after:
                await self._wait_for_disconnect(reader)
                return
            if reply.drop_after is not None and index == reply.drop_after:
                writer.transport.abort()
                return
            if reply.event_delay_s:
                await asyncio.sleep(reply.event_delay_s)
            await send(event if isinstance(event, str) else json.dumps(event))
        if reply.stall_after is not None and reply.stall_after >= len(reply.events):
            await self._wait_for_disconnect(reader)
            return
        if reply.done:
            await send("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        # Keep the socket open until the client is done reading, like a real server would.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.read(), 2.0)

    async def _replay(self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert reply.raw_headers is not None
        headers = "".join(f"{name}: {value}\r\n" for name, value in reply.raw_headers.items())
        writer.write(f"HTTP/1.1 {reply.status} {reply.reason}\r\n{headers}Connection: close\r\n\r\n".encode())
        if reply.raw_body is not None:
            writer.write(reply.raw_body.encode())
        for index, chunk in enumerate(reply.raw_chunks or ()):
            if reply.stall_after is not None and index == reply.stall_after:
                await writer.drain()
                await self._wait_for_disconnect(reader)
                return
            if reply.event_delay_s:
                await asyncio.sleep(reply.event_delay_s)
            data = chunk.encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
        if reply.closed_before_last_chunk:
            writer.transport.abort()
            return
        if reply.raw_chunks is not None:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.read(), 2.0)

    async def _wait_for_disconnect(self, reader: asyncio.StreamReader) -> None:
        """Hang like a stuck model; return when the client closes its end."""
        await reader.read()  # EOF when the client closes the connection
        self.disconnected.set()


@cache
def llamacpp_exchanges() -> dict[str, dict[str, Any]]:
    """The recorded exchanges by name (``fim_single_line``, ``chat``, ``context_overflow`` …)."""
    data = json.loads(LLAMACPP_FIXTURE.read_text(encoding="utf-8"))
    exchanges: dict[str, dict[str, Any]] = data["exchanges"]
    return exchanges


def llamacpp_reply(name: str, **changes: Any) -> Reply:
    """The recorded llama.cpp reply of exchange ``name``, to be replayed as it came."""
    exchange = llamacpp_exchanges()[name]
    return Reply(
        status=exchange["status"],
        reason=exchange["reason"],
        raw_headers=exchange["headers"],
        raw_chunks=exchange["chunks"] if exchange["body_text"] is None else None,
        raw_body=exchange["body_text"],
        closed_before_last_chunk=exchange["ended"] != "complete",
        **changes,
    )


def llamacpp_script(request: RecordedRequest) -> Reply:
    """The llama.cpp profile: answers a request with the recorded reply to the same request (same path
    and body), so a test sees what the real server sent for exactly what Roost sent. A request never
    recorded gets a 500 that says so (a changed request body needs a fresh capture)."""
    for name, exchange in llamacpp_exchanges().items():
        if exchange["path"] == request.path and exchange["body"] == request.body:
            return llamacpp_reply(name)
    body = json.dumps({"error": {"message": f"no recorded llama.cpp exchange for {request.body!r}"}})
    return Reply(status=500, body=body.encode())
