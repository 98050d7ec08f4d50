"""Trust point 14: backend failures are reported as what they are. While the HTTP backend fails, the real
server's ``roost/status`` is ``degraded`` with the real reason (HTTP 500, a malformed stream, a timeout),
not "ready" nor "the model could not be started"; a later request that succeeds brings it back to
``ready`` by itself. Each request still gets an answer (no suggestion). The backend is a scripted
OpenAI-compatible server on a real socket; the language server is the real ``roost serve --stdio``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine_http.fake_openai_server import FakeOpenAIServer, RecordedRequest, Reply, completion_events
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities

# As editors start it (the console script); spelled out rather than imported from a conftest module.
SERVE_COMMAND = [str(Path(sys.executable).parent / "roost"), "serve", "--stdio"]
TIMEOUT_S = 1.0  # backend.timeout_s: a stalled backend is given up on after this long


class ScriptedBackend:
    """Answers every request with the current ``reply``, which the test changes between requests."""

    def __init__(self) -> None:
        self.reply = Reply(events=completion_events(["pass"]))

    def __call__(self, _request: RecordedRequest) -> Reply:
        return self.reply

    def answers_well(self) -> None:
        self.reply = Reply(events=completion_events(["pass"]))


def inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def complete_in_new_file(session: LspSession, name: str) -> Any:
    """An inline completion in a file of its own (never answered from the completion cache)."""
    uri = session.open(f"{name}.py", f"def {name}(value):\n    return \n")
    request = session.client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=11),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    return await asyncio.wait_for(request, timeout=20)


async def status_after(
    session: LspSession, seen: int, accept: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first status notification after the first ``seen`` ones that ``accept`` takes."""

    async def poll() -> dict[str, Any]:
        while True:
            for status in session.statuses[seen:]:
                if accept(status):
                    return status
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout=20)
    except TimeoutError:
        raise AssertionError(
            f"no such status after {session.statuses[:seen]}: {session.statuses[seen:]}"
        ) from None


def is_degraded(status: dict[str, Any], needle: str) -> bool:
    return status.get("state") == "degraded" and needle in (status.get("message") or "")


async def test_status_follows_the_backend_failing_and_recovering(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    backend = ScriptedBackend()
    async with FakeOpenAIServer(backend) as server:
        options = {
            "backend": {"kind": "openai", "endpoint": f"{server.base_url}/v1", "timeout_s": TIMEOUT_S},
            "model": {"name": "qwen2.5-coder-0.5b", "family": "qwen2.5-coder"},
            "completion": {"debounce_ms": 0},
        }
        async with lsp_session(
            workspace,
            initialization_options=options,
            capabilities=inline_capabilities(),
            command=SERVE_COMMAND,
            state_dir=tmp_path,
        ) as session:
            await session.wait_for_status("ready")

            # HTTP 500: degraded, and the message names the status.
            backend.reply = Reply(status=500, body=b'{"error": {"message": "the GPU fell over"}}')
            seen = len(session.statuses)
            assert await complete_in_new_file(session, "first") is not None
            failing = await status_after(session, seen, lambda s: is_degraded(s, "HTTP 500"))
            assert server.base_url in failing["message"]
            assert not any("could not be started" in m.message for m in session.client.messages)

            # A good answer: ready again, by itself.
            backend.answers_well()
            seen = len(session.statuses)
            answer = await complete_in_new_file(session, "second")
            assert answer is not None and answer.items and answer.items[0].insert_text == "pass"
            await status_after(session, seen, lambda s: s.get("state") == "ready")

            # A malformed stream: degraded with what was wrong.
            backend.reply = Reply(events=["this is not JSON {"])
            seen = len(session.statuses)
            assert await complete_in_new_file(session, "third") is not None
            await status_after(session, seen, lambda s: is_degraded(s, "malformed stream"))

            backend.answers_well()
            seen = len(session.statuses)
            await complete_in_new_file(session, "fourth")
            await status_after(session, seen, lambda s: s.get("state") == "ready")

            # A backend that never answers: degraded, "timed out" after backend.timeout_s.
            backend.reply = Reply(stall_after=0)
            seen = len(session.statuses)
            assert await complete_in_new_file(session, "fifth") is not None
            await status_after(session, seen, lambda s: is_degraded(s, f"timed out after {TIMEOUT_S:g} s"))

            # The backend goes away: degraded, "connection refused".
            await server.__aexit__(None, None, None)
            seen = len(session.statuses)
            assert await complete_in_new_file(session, "sixth") is not None
            await status_after(session, seen, lambda s: is_degraded(s, "connection refused"))
