"""Trust point 4: ``roost engine serve`` refuses a foreign ``Host`` (DNS rebinding: a web page whose host
name now resolves to 127.0.0.1 sends its own name) and, with ``$ROOST_ENGINE_API_KEY`` set, any request
without that key as a bearer token. Raw HTTP over a real socket to the engine's server, in front of a
backend that records what reached it; plus the command's help naming the variable."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roost.engine.server import API_KEY_ENV, EngineServer
from roost.engine.types import GenerationRequest, GenerationTimings, TextChunk

KEY = "s3cret-engine-key"
COMPLETION = {"prompt": "def f(", "max_tokens": 4}


class RecordingBackend:
    """Answers ``pass`` and remembers every request that got through to the model."""

    name = "recording"

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.requests.append(request)
        yield TextChunk("pass", finish_reason="stop", timings=GenerationTimings())


async def raw_http(
    port: int, path: str, headers: dict[str, str], body: dict | None = None
) -> tuple[int, dict]:
    payload = json.dumps(body).encode() if body is not None else b""
    method = "POST" if body is not None else "GET"
    # Connection: close, to read the answer to the end (the server keeps connections alive otherwise).
    head = "".join(f"{name}: {value}\r\n" for name, value in {**headers, "Connection": "close"}.items())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"{method} {path} HTTP/1.1\r\n{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def serving(api_key: str | None, allowed_hosts: frozenset[str] = frozenset()):
    backend = RecordingBackend()
    server = EngineServer(backend, model_name="m", api_key=api_key, allowed_hosts=allowed_hosts)  # type: ignore[arg-type]
    return server, await server.start(0), backend


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8917", "127.0.0.1.evil.example", "localhost:x"]
)
async def test_a_foreign_host_is_refused_before_anything_reaches_the_model(host: str) -> None:
    server, port, backend = await serving(api_key=None)
    try:
        headers = {"Host": host}
        status, answer = await raw_http(port, "/v1/completions", headers, COMPLETION)
        assert status == 403 and "not allowed" in answer["error"]["message"]
        status, _ = await raw_http(port, "/v1/models", headers)
        assert status == 403
        assert backend.requests == []
    finally:
        await server.close()


async def test_a_request_without_host_is_refused_by_the_http_layer() -> None:
    """HTTP/1.1 requires a Host header: uvicorn's h11 answers 400 (RFC 9112 section 3.2) before the app."""
    server, port, backend = await serving(api_key=None)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = json.dumps(COMPLETION).encode()
        writer.write(
            f"POST /v1/completions HTTP/1.1\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        assert int(raw.split()[1]) == 400 and backend.requests == []
    finally:
        await server.close()


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8917", "127.0.0.1", "127.0.0.1:8917", "[::1]", "[::1]:8917"]
)
async def test_local_hosts_are_served(host: str) -> None:
    server, port, backend = await serving(api_key=None)
    try:
        status, answer = await raw_http(port, "/v1/completions", {"Host": host}, COMPLETION)
        assert status == 200 and answer["choices"][0]["text"] == "pass"
        assert len(backend.requests) == 1
    finally:
        await server.close()


async def test_an_allow_listed_host_is_served() -> None:
    server, port, _ = await serving(api_key=None, allowed_hosts=frozenset({"engine.internal"}))
    try:
        assert (await raw_http(port, "/health", {"Host": "engine.internal:80"}))[0] == 200
        assert (await raw_http(port, "/health", {"Host": "evil.example"}))[0] == 403
    finally:
        await server.close()


async def test_with_a_key_every_request_but_health_needs_it() -> None:
    server, port, backend = await serving(api_key=KEY)
    local = {"Host": f"127.0.0.1:{port}"}
    try:
        for wrong in (
            {},
            {"Authorization": "Bearer nope"},
            {"Authorization": KEY},
            {"Authorization": "Basic " + KEY},
        ):
            status, answer = await raw_http(port, "/v1/completions", {**local, **wrong}, COMPLETION)
            assert status == 401 and "API key" in answer["error"]["message"], wrong
            assert (await raw_http(port, "/v1/models", {**local, **wrong}))[0] == 401
        assert backend.requests == []
        # The probes answer without the key, and then reveal nothing but the state (not the model's name).
        for probe in ("/health", "/ready"):
            status, answer = await raw_http(port, probe, local)
            assert status == 200 and "model" not in answer, (probe, answer)
            status, answer = await raw_http(port, probe, {**local, "Authorization": "Bearer nope"})
            assert status == 200 and "model" not in answer, (probe, answer)
        good = {**local, "Authorization": f"Bearer {KEY}"}
        for probe in ("/health", "/ready"):
            status, answer = await raw_http(port, probe, good)
            assert status == 200 and "model" in answer, (probe, answer)
        status, answer = await raw_http(port, "/v1/completions", good, COMPLETION)
        assert status == 200 and answer["choices"][0]["text"] == "pass"
        # The right key from a foreign host is still refused: the key does not excuse a rebinding page.
        status, _ = await raw_http(port, "/v1/completions", {**good, "Host": "evil.example"}, COMPLETION)
        assert status == 403 and len(backend.requests) == 1
    finally:
        await server.close()


def test_the_command_help_names_the_key_variable_and_the_host_rule() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "roost"), "engine", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert (
        API_KEY_ENV in result.stdout and "--allowed-host" in result.stdout and "Host header" in result.stdout
    )
