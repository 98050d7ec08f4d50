"""The OpenAI-compatible backend against a real llama.cpp server: ``python -m llama_cpp.server`` of
``llama-cpp-python[server]`` serving the bundled model's GGUF (joined from its data packages and verified
here, as the product does), with Roost configured as docs/deploy.md says (``backend.kind = "openai"``,
``server = "llama.cpp"``).

llama-cpp-python is a source build (15–30 minutes), so CI does not run this: set ``ROOST_TEST_LLAMACPP`` to
the Python of a virtual environment that has it (see docs/deploy.md), otherwise the module is skipped.
What CI runs instead is ``test_llamacpp_wire.py``, which replays the exchanges recorded from this server;
the first test here checks that recording against the live server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from model_packages import skip_without_default_model

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions

from .fake_openai_server import llamacpp_exchanges
from .llamacpp_capture import MODEL_NAME, MULTI_INPUT, Exchange, fim_request, send

LLAMACPP_PYTHON = os.environ.get("ROOST_TEST_LLAMACPP", "")
pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(
        not LLAMACPP_PYTHON, reason="set ROOST_TEST_LLAMACPP to a Python with llama-cpp-python[server]"
    ),
]
if LLAMACPP_PYTHON:
    skip_without_default_model()

from lsp_harness import lsp_session, server_env  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import client_capabilities  # noqa: E402

START_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(url: str) -> bool:
    try:  # llama-cpp-python has no /health (404): /v1/models answers once the model is loaded
        with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except OSError:
        return False


@dataclasses.dataclass
class LlamaCppServer:
    url: str
    log: Path


@pytest.fixture(scope="module")
def llamacpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    from roost.engine.models.default import QWEN_CODER_0_5B, join_and_verify, locate_part_files

    workdir = tmp_path_factory.mktemp("llamacpp")
    gguf = workdir / f"{QWEN_CODER_0_5B.name}.gguf"
    join_and_verify(locate_part_files(QWEN_CODER_0_5B), QWEN_CODER_0_5B.sha256, gguf)
    port = _free_port()
    log = workdir / "server.log"
    command = [LLAMACPP_PYTHON, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_NAME]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _serving(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield LlamaCppServer(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _answer(exchange: dict[str, Any]) -> tuple[str, list[str | None]]:
    texts: list[str] = []
    finishes: list[str | None] = []
    for chunk in exchange["chunks"]:
        for line in chunk.splitlines():
            if line.startswith("data: {"):
                choice = json.loads(line.removeprefix("data: "))["choices"][0]
                texts.append(choice.get("text") or (choice.get("delta") or {}).get("content") or "")
                finishes.append(choice["finish_reason"])
    return "".join(texts), [finish for finish in finishes if finish]


@pytest.mark.parametrize(
    "name", ["fim_single_line", "fim_multi_line", "fim_length", "chat", "context_overflow"]
)
def test_the_recorded_exchange_is_what_the_server_sends(llamacpp_server: LlamaCppServer, name: str) -> None:
    """The fixture the CI replays is still this server's answer (greedy, so the same text), framing included."""
    recorded = llamacpp_exchanges()[name]
    live = send(llamacpp_server.url, Exchange(name, recorded["method"], recorded["path"], recorded["body"]))
    assert (live.status, live.headers, live.ended) == (
        recorded["status"],
        recorded["headers"],
        recorded["ended"],
    )
    assert _answer(dataclasses.asdict(live)) == _answer(recorded)
    assert [chunk[-len("data: [DONE]\n\n") :] for chunk in live.chunks[-1:]] == [
        chunk[-len("data: [DONE]\n\n") :] for chunk in recorded["chunks"][-1:]
    ]


async def test_a_cancelled_stream_stops_the_generation(llamacpp_server: LlamaCppServer) -> None:
    """The user types on: Roost closes the stream, and the server stops generating (it notices the
    disconnect after the token it is computing) instead of finishing the 96-token answer."""
    options = OpenAIHTTPOptions(base_url=llamacpp_server.url, model=MODEL_NAME, server_kind="llama.cpp")
    backend = OpenAIHTTPBackend(options)
    cancel = asyncio.Event()
    request = dataclasses.replace(fim_request(MULTI_INPUT, 96, ()), cancel_event=cancel)
    before = llamacpp_server.log.read_text(errors="replace").count("Disconnected from client")
    final = None
    async for chunk in backend.generate(request):
        if chunk.text:
            cancel.set()
        final = chunk
    assert final is not None and final.finish_reason == "cancelled"
    deadline = time.monotonic() + 10
    while llamacpp_server.log.read_text(errors="replace").count("Disconnected from client") == before:
        assert time.monotonic() < deadline, "the server never noticed the closed stream"
        await asyncio.sleep(0.1)
    # …and it answers the next request at once.
    text = "".join([chunk.text async for chunk in backend.generate(fim_request(MULTI_INPUT, 6, ()))])
    assert text.strip()
    await backend.aclose()


async def test_an_interrupted_answer_is_an_error(llamacpp_server: LlamaCppServer) -> None:
    """Two clients on one server: the second request cuts the first one's answer off ([DONE], no
    finish_reason); Roost must not take that text for a whole answer."""
    options = OpenAIHTTPOptions(base_url=llamacpp_server.url, model=MODEL_NAME, server_kind="llama.cpp")
    first, second = OpenAIHTTPBackend(options), OpenAIHTTPBackend(options)
    streaming = asyncio.Event()

    async def long_answer() -> Any:
        final = None
        async for chunk in first.generate(fim_request(MULTI_INPUT, 96, ())):
            if chunk.text:
                streaming.set()
            final = chunk
        return final

    task = asyncio.ensure_future(long_answer())
    await asyncio.wait_for(streaming.wait(), 60)
    other = [chunk async for chunk in second.generate(fim_request(MULTI_INPUT, 6, ()))]
    final = await asyncio.wait_for(task, 60)
    assert other[-1].finish_reason == "length"
    assert final.finish_reason == "error" and final.error is not None and "interrupt" in final.error
    await first.aclose()
    await second.aclose()


def _inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


@contextlib.asynccontextmanager
async def _session(tmp_path: Path, url: str) -> Any:
    root = tmp_path / "workspace"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "circle.py").write_text("def area(r):\n    return 3.14 * r * r\n")
    options = {
        "backend": {"kind": "openai", "endpoint": f"{url}/v1", "server": "llama.cpp", "timeout_s": 120.0},
        "model": {"name": MODEL_NAME},
        "completion": {"debounce_ms": 0, "max_tokens": 16},
    }
    env = server_env(tmp_path, {"HF_HUB_OFFLINE": "1"})
    async with lsp_session(
        root, initialization_options=options, capabilities=_inline_capabilities(), env=env
    ) as session:
        await session.wait_for_status("ready", timeout=60)
        yield session


async def test_inline_completion_and_fixup_through_roost_serve(
    llamacpp_server: LlamaCppServer, tmp_path: Path
) -> None:
    async with _session(tmp_path, llamacpp_server.url) as session:
        uri = session.open("shop/add.py", "def add(a: int, b: int) -> int:\n    return \n")
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=11),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
        result = await asyncio.wait_for(session.client.text_document_inline_completion_async(params), 120)
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
        assert details.source == "model", details
        assert result is not None and result.items and "a + b" in str(result.items[0].insert_text), result

        circle = session.open("shop/circle.py")
        started = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="roost.fixup.start",
                    arguments=[
                        {
                            "uri": circle,
                            "range": {
                                "start": {"line": 0, "character": 0},
                                "end": {"line": 2, "character": 0},
                            },
                            "instruction": "add a docstring",
                        }
                    ],
                )
            ),
            180,
        )
        answer = started if isinstance(started, dict) else vars(started)
        assert answer.get("session") and answer.get("edit") is not None, answer
        assert '"""' in str(answer["edit"]), answer
