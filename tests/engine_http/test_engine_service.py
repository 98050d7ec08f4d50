"""``roost engine serve`` as a service (issue "deploy"): the ASGI server (uvicorn + Starlette) in front of a
backend, spoken to over real sockets — keep-alive, streaming through our own OpenAI-compatible backend,
the probes, ``/metrics`` on the serving port behind the key, GPU metrics through NVML (absent on a CPU
machine, exported through a fake NVML module), and the refusal to bind beyond loopback without a key."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("uvicorn", reason="roost engine serve needs the local extra")

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from roost.engine.metrics import NVML_MEMORY_TOTAL, NVML_MEMORY_USED, NVML_UTILIZATION, NvmlCollector  # noqa: E402
from roost.engine.server import API_KEY_ENV, EngineServer, trust_problem  # noqa: E402
from roost.engine.types import (  # noqa: E402
    EngineOverloadedError,
    GenerationRequest,
    GenerationTimings,
    TextChunk,
)

KEY = "engine-service-key"
ROOST = str(Path(sys.executable).parent / "roost")


class CountingBackend:
    """Streams ``words`` one chunk each; remembers requests and whether each stream was closed early."""

    name = "counting"

    def __init__(self, words: tuple[str, ...] = ("pa", "ss")) -> None:
        self.words = words
        self.requests: list[GenerationRequest] = []
        self.closed_early = 0

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.requests.append(request)
        finished = False
        try:
            for index, word in enumerate(self.words):
                last = index == len(self.words) - 1
                yield TextChunk(word, finish_reason="stop" if last else None, timings=GenerationTimings())
                await asyncio.sleep(0)
            finished = True
        finally:
            if not finished:
                self.closed_early += 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length body, leaving the connection open for the next."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), timeout=10)
    return int(status_line.split()[1]), headers, body


def request_bytes(method: str, path: str, headers: dict[str, str], body: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{method} {path} HTTP/1.1\r\n{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload


async def one_request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes(method, path, headers))
        status, _headers, body = await read_response(reader)
        return status, body
    finally:
        writer.close()


async def test_one_connection_serves_several_requests() -> None:
    backend = CountingBackend()
    server = EngineServer(backend, model_name="m")  # type: ignore[arg-type]
    port = await server.start(0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):  # the same socket each time: keep-alive
            writer.write(request_bytes("POST", "/v1/completions", {"Host": "localhost"}, {"prompt": "x"}))
            status, headers, body = await read_response(reader)
            assert status == 200 and headers.get("connection") != "close"
            assert json.loads(body)["choices"][0]["text"] == "pass"
        writer.close()
        assert len(backend.requests) == 3
    finally:
        await server.close()


async def test_our_backend_streams_from_the_service_and_a_closed_stream_cancels() -> None:
    """Roost's own OpenAI-compatible client against the service: SSE over a pooled keep-alive connection,
    with the key; a stream the client stops reading is closed on the server's side."""
    from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions

    backend = CountingBackend(words=tuple(f"w{i} " for i in range(2000)))
    server = EngineServer(backend, model_name="m", api_key=KEY)  # type: ignore[arg-type]
    port = await server.start(0)
    client = OpenAIHTTPBackend(
        OpenAIHTTPOptions(base_url=f"http://127.0.0.1:{port}", model="m", api_key=KEY, server_kind="roost")
    )
    try:
        backend.words = ("def", " f", "()")
        chunks = [c async for c in client.generate(GenerationRequest(prompt="x", max_new_tokens=4))]
        assert "".join(c.text for c in chunks) == "def f()" and chunks[-1].is_final
        backend.words = tuple(f"w{i} " for i in range(100_000))
        stream = client.generate(GenerationRequest(prompt="x", max_new_tokens=100_000))
        first = await asyncio.wait_for(anext(stream), timeout=10)
        assert first.text.startswith("w0")
        await stream.aclose()  # the client leaves mid-stream
        for _ in range(500):
            if backend.closed_early:
                break
            await asyncio.sleep(0.02)
        assert backend.closed_early == 1
    finally:
        await client.aclose()
        await server.close()


async def test_probes_answer_without_the_key_and_ready_turns_503_when_draining() -> None:
    server = EngineServer(CountingBackend(), model_name="m", api_key=KEY)  # type: ignore[arg-type]
    port = await server.start(0)
    local = {"Host": "localhost"}
    try:
        assert (await one_request(port, "GET", "/health", local))[0] == 200
        status, body = await one_request(port, "GET", "/ready", local)
        assert status == 200 and json.loads(body)["status"] == "ready"
        server.state.draining = True  # what SIGTERM does before the running generations finish
        status, body = await one_request(port, "GET", "/ready", local)
        assert status == 503 and json.loads(body)["status"] == "draining"
    finally:
        await server.close()


async def test_metrics_on_the_serving_port_need_the_key_and_have_no_gpu_figures_on_a_cpu() -> None:
    server = EngineServer(CountingBackend(), model_name="m", api_key=KEY)  # type: ignore[arg-type]
    port = await server.start(0)
    try:
        assert (await one_request(port, "GET", "/metrics", {"Host": "localhost"}))[0] == 401
        status, body = await one_request(
            port, "GET", "/metrics", {"Host": "localhost", "Authorization": f"Bearer {KEY}"}
        )
        text = body.decode()
        assert status == 200 and "# TYPE roost_engine_stage_seconds histogram" in text
        assert "roost_engine_queue_depth" in text
        # This machine has no NVIDIA driver: the NVML metrics are absent, not zero.
        assert NVML_UTILIZATION not in text and NVML_MEMORY_USED not in text
    finally:
        await server.close()


def fake_nvml(devices: list[tuple[int, int, int]]) -> SimpleNamespace:
    """A stand-in for the ``pynvml`` module: (utilisation %, used bytes, total bytes) per device."""
    return SimpleNamespace(
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetUtilizationRates=lambda handle: SimpleNamespace(gpu=devices[handle][0], memory=0),
        nvmlDeviceGetMemoryInfo=lambda handle: SimpleNamespace(
            used=devices[handle][1], total=devices[handle][2], free=devices[handle][2] - devices[handle][1]
        ),
    )


def test_nvml_figures_are_exported_per_device_when_nvml_answers() -> None:
    registry = CollectorRegistry()
    registry.register(
        NvmlCollector(load=lambda: fake_nvml([(87, 30 * 2**30, 80 * 2**30), (5, 2**30, 2**34)]))
    )
    assert registry.get_sample_value(NVML_UTILIZATION, {"device": "0"}) == 87
    assert registry.get_sample_value(NVML_UTILIZATION, {"device": "1"}) == 5
    assert registry.get_sample_value(NVML_MEMORY_USED, {"device": "0"}) == 30 * 2**30
    assert registry.get_sample_value(NVML_MEMORY_TOTAL, {"device": "1"}) == 2**34


def test_nvml_absent_or_failing_exports_nothing() -> None:
    def broken() -> SimpleNamespace:
        nvml = fake_nvml([(1, 1, 1)])
        nvml.nvmlDeviceGetUtilizationRates = lambda handle: (_ for _ in ()).throw(RuntimeError("GPU lost"))
        return nvml

    for load in (lambda: None, broken):
        registry = CollectorRegistry()
        registry.register(NvmlCollector(load=load))
        assert b"roost_engine_gpu" not in generate_latest(registry)


def test_binding_beyond_loopback_needs_a_key() -> None:
    assert trust_problem("127.0.0.1", None, frozenset()) is None
    assert trust_problem("::1", None, frozenset()) is None
    assert trust_problem("localhost", None, frozenset()) is None
    for host in ("0.0.0.0", "::", "10.1.2.3", "engine.internal"):
        problem = trust_problem(host, None, frozenset())
        assert problem is not None and API_KEY_ENV in problem
        assert trust_problem(host, KEY, frozenset()) is None
    assert trust_problem("127.0.0.1", None, frozenset({"*"})) is not None
    assert trust_problem("0.0.0.0", KEY, frozenset({"*"})) is None


def test_the_command_refuses_to_bind_beyond_loopback_without_a_key(tmp_path: Path) -> None:
    """Refused with a clear message before the model loads (the model path does not even exist)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [
        ROOST,
        "engine",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--model",
        str(tmp_path / "nope"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stderr
    assert "refusing to listen on 0.0.0.0" in result.stderr and API_KEY_ENV in result.stderr


async def test_bound_beyond_loopback_with_a_key_any_host_is_served_with_the_key() -> None:
    """The cluster set-up: bound on every interface, ``--allowed-host '*'`` (probes and Prometheus name
    pod addresses), the key as the defence."""
    backend = CountingBackend()
    server = EngineServer(backend, model_name="m", api_key=KEY, allowed_hosts=frozenset({"*"}))  # type: ignore[arg-type]
    port = await server.start(0, host="0.0.0.0")
    try:
        pod = {"Host": f"10.0.0.7:{port}"}
        assert (await one_request(port, "GET", "/ready", pod))[0] == 200
        assert (await one_request(port, "GET", "/v1/models", pod))[0] == 401
        assert (await one_request(port, "GET", "/v1/models", {**pod, "Authorization": f"Bearer {KEY}"}))[
            0
        ] == 200
    finally:
        await server.close()
    with pytest.raises(ValueError, match=API_KEY_ENV):
        await EngineServer(backend, model_name="m").start(0, host="0.0.0.0")  # type: ignore[arg-type]


class OverloadedBackend:
    name = "overloaded"

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        raise EngineOverloadedError("the queue is full")
        yield  # an async generator, like every backend


async def test_an_overloaded_engine_is_a_429_streamed_or_not() -> None:
    """The first chunk is awaited before the stream's 200 is sent, so a full queue is still a status the
    client can act on (retry later), not a broken stream."""
    server = EngineServer(OverloadedBackend(), model_name="m")  # type: ignore[arg-type]
    port = await server.start(0)
    try:
        for stream in (False, True):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = {"prompt": "x", "stream": stream}
            writer.write(request_bytes("POST", "/v1/completions", {"Host": "localhost"}, body))
            status, _headers, raw = await read_response(reader)
            writer.close()
            assert status == 429 and "queue is full" in json.loads(raw)["error"]["message"]
    finally:
        await server.close()
