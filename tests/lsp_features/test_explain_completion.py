"""``roost/explainCompletion`` through the real server: the one verdict the editors' "why no suggestion / what it
used" views show, for each reason — nothing asked yet, offered (with its context snippets and stage timings),
refused (an excluded file), blocked by the gate, and a failing backend (degraded)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine_http.fake_openai_server import FakeOpenAIServer, RecordedRequest, Reply, completion_events
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities

REQUEST_TIMEOUT_S = 20


class BackendByPrompt:
    """Answers by what the prompt holds; ``failing`` makes every request an HTTP 500."""

    def __init__(self) -> None:
        self.failing = False

    def __call__(self, request: RecordedRequest) -> Reply:
        if self.failing:
            return Reply(status=500, body=b'{"error": {"message": "the GPU fell over"}}')
        prompt = str(request.body.get("prompt", "")) + str(request.body.get("messages", ""))
        if "def run(command" in prompt:
            return Reply(events=completion_events(["subprocess.call(command, shell=True)"]))
        return Reply(events=completion_events(["width * height"]))


def inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def complete(session: LspSession, uri: str, line: int, character: int) -> Any:
    request = session.client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    return await asyncio.wait_for(request, REQUEST_TIMEOUT_S)


async def explain(session: LspSession, uri: str) -> dict[str, Any]:
    request = session.client.protocol.send_request_async("roost/explainCompletion", {"uri": uri})
    answer = await asyncio.wait_for(request, REQUEST_TIMEOUT_S)
    return _plain(answer)


def _plain(value: Any) -> Any:
    """pygls answers with attribute objects; the editors read plain JSON."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


async def test_each_reason_is_explained(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "vendor").mkdir(parents=True)
    (workspace / "shapes.py").write_text(
        "def rectangle_area(width: float, height: float) -> float:\n    return width * height\n"
    )
    backend = BackendByPrompt()
    async with FakeOpenAIServer(backend) as server:
        options = {
            "backend": {"kind": "openai", "endpoint": f"{server.base_url}/v1", "timeout_s": 5.0},
            "model": {"name": "qwen2.5-coder-0.5b", "family": "qwen2.5-coder"},
            "completion": {"debounce_ms": 0, "exclude": ["vendor/**"]},
        }
        async with lsp_session(
            workspace, initialization_options=options, capabilities=inline_capabilities(), state_dir=tmp_path
        ) as session:
            await session.wait_for_status("ready")
            uses = session.open(
                "uses.py", "from shapes import rectangle_area\n\n\ndef area(width, height):\n    return \n"
            )
            assert (await explain(session, uses))["verdict"] == "nothing_yet"

            answer = await complete(session, uses, 4, 11)
            assert answer.items and answer.items[0].insert_text == "width * height"
            offered = await explain(session, uses)
            assert offered["verdict"] == "offered" and offered["state"] == "ready"
            assert offered["last"]["texts"] == ["width * height"]
            assert "total" in offered["last"]["timings_ms"] and "model" in offered["last"]["timings_ms"]
            assert any(item["path"] == "shapes.py" for item in offered["last"]["context"]), offered["last"]

            excluded = session.open("vendor/lib.py", "def helper(value):\n    return \n")
            assert not (await complete(session, excluded, 1, 11)).items
            refused = await explain(session, excluded)
            assert refused["verdict"] == "refused" and "exclude" in refused["reason"], refused

            insecure = session.open("run.py", "import subprocess\n\n\ndef run(command):\n    return \n")
            assert not (await complete(session, insecure, 4, 11)).items
            blocked = await explain(session, insecure)
            assert blocked["verdict"] == "blocked" and "B602" in blocked["reason"], blocked

            backend.failing = True
            failing = session.open("failing.py", "def failing(value):\n    return \n")
            assert not (await complete(session, failing, 1, 11)).items
            await session.wait_for_status("degraded")
            degraded = await explain(session, failing)
            assert degraded["verdict"] == "degraded" and "HTTP 500" in degraded["reason"], degraded
            # The excluded file keeps its own reason whatever the backend does.
            assert (await explain(session, excluded))["verdict"] == "refused"

            bad = session.client.protocol.send_request_async("roost/explainCompletion", {"uri": 3})
            try:
                await asyncio.wait_for(bad, REQUEST_TIMEOUT_S)
            except Exception as error:  # noqa: BLE001 - pygls raises its JsonRpc error type
                assert "uri" in str(error)
            else:
                raise AssertionError("a request without a uri must be answered with an error")
