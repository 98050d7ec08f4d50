"""The OpenAI-compatible backend against a real third-party server (issue "deploy"): ``transformers serve``
(transformers' own FastAPI + uvicorn server, from ``transformers[serving]``) serving the bundled model
directory, offline, with ``roost serve --stdio`` configured with ``backend.kind = "openai"`` in front of it:
an inline completion, a fix-up and a cancelled request.

The server is started once for the module (it loads the 0.5B once); each test opens its own LSP session.
``transformers serve`` does not accept vLLM's ``continue_final_message``, so Roost is configured with
``backend.server = "generic"`` (the chat goes without the prefilled code fence)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from model_packages import shared_model_cache, skip_without_default_model

pytestmark = [pytest.mark.model, pytest.mark.slow]

pytest.importorskip("fastapi", reason="transformers serve needs transformers[serving] (the test extra)")
pytest.importorskip("uvicorn", reason="transformers serve needs transformers[serving] (the test extra)")
skip_without_default_model()

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lsp_features"))

from lsp_harness import LspSession, lsp_session, server_env  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import client_capabilities  # noqa: E402

SERVE_START_TIMEOUT_S = 240
# CI's CPUs generate a few tokens a second with transformers serve: answers are kept short. float32 because
# the converted model is bf16, which CPUs without bf16 instructions multiply slowly.
SOURCE = "def area(r):\n    return 3.14 * r * r\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def transformers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``transformers serve`` pinned to the converted bundled model, on CPU, offline; (base URL, model)."""
    from roost.engine.models.default import ensure_default_model

    model_dir = str(ensure_default_model(cache_dir=shared_model_cache()))
    executable = shutil.which("transformers", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("the `transformers` command is not installed")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("transformers-serve")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(workdir / "hf")}
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                executable,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
                "--dtype",
                "float32",
                model_dir,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"transformers serve did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)
        yield url, model_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _options(url: str, model_dir: str, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "backend": {"kind": "openai", "endpoint": f"{url}/v1", "server": "generic", "timeout_s": 120.0},
        # transformers serve names the pinned model by the path it was given, and refuses other names.
        "model": {"name": model_dir, "family": "qwen2.5-coder"},
        "completion": {"debounce_ms": 0, "max_tokens": 8},
    }
    options.update(extra)
    return options


def _inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


def _inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )


@contextlib.asynccontextmanager
async def _session(tmp_path: Path, options: dict[str, Any]) -> Any:
    root = tmp_path / "workspace"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "circle.py").write_text(SOURCE)
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache(), "HF_HUB_OFFLINE": "1"})
    async with lsp_session(
        root, initialization_options=options, capabilities=_inline_capabilities(), env=env
    ) as session:
        await session.wait_for_status("ready", timeout=60)
        yield session


async def _inline(session: LspSession, uri: str, line: int, character: int) -> Any:
    return await asyncio.wait_for(
        session.client.text_document_inline_completion_async(_inline_params(uri, line, character)), 120
    )


async def test_inline_completion_through_transformers_serve(
    transformers_server: tuple[str, str], tmp_path: Path
) -> None:
    url, model_dir = transformers_server
    async with _session(tmp_path, _options(url, model_dir)) as session:
        text = "def add(a: int, b: int) -> int:\n    return "
        uri = session.open("shop/add.py", text)
        result = await _inline(session, uri, 1, 11)
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
        assert details.source == "model", details
        assert result is not None and result.items and result.items[0].insert_text.strip(), result
        assert details.timings_ms.model > 0


async def test_fixup_through_transformers_serve(transformers_server: tuple[str, str], tmp_path: Path) -> None:
    url, model_dir = transformers_server
    async with _session(tmp_path, _options(url, model_dir)) as session:
        uri = session.open("shop/circle.py")
        started = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="roost.fixup.start",
                    arguments=[
                        {
                            "uri": uri,
                            "range": {
                                "start": {"line": 0, "character": 0},
                                "end": {"line": 2, "character": 0},
                            },
                            "instruction": "add type hints",
                        }
                    ],
                )
            ),
            180,
        )
        answer = started if isinstance(started, dict) else vars(started)
        assert answer.get("session"), answer
        # The model's answer came back and was turned into a proposed edit of the selection.
        assert answer.get("edit") is not None, answer


async def test_a_cancelled_request_is_answered_and_the_next_one_completes(
    transformers_server: tuple[str, str], tmp_path: Path
) -> None:
    url, model_dir = transformers_server
    options = _options(url, model_dir, completion={"debounce_ms": 0, "max_tokens": 24})
    async with _session(tmp_path, options) as session:
        text = "def fibonacci(n: int) -> int:\n    "
        uri = session.open("shop/fib.py", text)
        protocol = session.client.protocol
        future = protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, _inline_params(uri, 1, 4))
        await asyncio.sleep(0.5)  # the request is on its way to the model server
        request_id = list(getattr(protocol, "_request_futures", {}))[-1]
        protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
        try:
            cancelled = await asyncio.wait_for(asyncio.wrap_future(future), 60)
        except TimeoutError:
            pytest.fail("the cancelled request was never answered")
        except Exception as error:  # a RequestCancelled error is an answer too
            cancelled = error
        assert cancelled is None or isinstance(cancelled, (types.InlineCompletionList, Exception)), cancelled
        # The server (and the model server behind it) still answer a fresh request.
        text2 = "def double(x: int) -> int:\n    return "
        uri2 = session.open("shop/double.py", text2)
        result = await _inline(session, uri2, 1, 11)
        assert result is not None and result.items and result.items[0].insert_text.strip(), result
