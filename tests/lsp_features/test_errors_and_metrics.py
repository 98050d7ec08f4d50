"""A failure that stops completions is shown once with its fix and the server stays up; metrics are
served on 127.0.0.1 with ``--metrics-port``."""

from __future__ import annotations

import asyncio
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from lsp_harness import lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _inline_params(uri: str) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=1, character=11),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )


async def test_backend_down_is_shown_once_with_its_fix_and_the_server_stays_up(workspace: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    metrics_port = _free_port()
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    options = {"backend": {"kind": "openai", "endpoint": dead}, "completion": {"debounce_ms": 0}}
    command = [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio", "--metrics-port", str(metrics_port)]
    async with lsp_session(
        workspace, initialization_options=options, capabilities=capabilities, command=command
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/down.py", "def down(x):\n    return \n")
        for _ in range(3):
            result = await session.client.text_document_inline_completion_async(_inline_params(uri))
            assert result is not None and not result.items
        await asyncio.sleep(0.2)
        shown = [m.message for m in session.client.messages if "cannot be reached" in m.message]
        assert len(shown) == 1, session.client.messages
        assert "backend.kind" in shown[0], "the message says how to fix it"
        # Still serving: other features answer.
        actions = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        assert actions is not None
        body = await asyncio.to_thread(
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
            )
        )
        assert 'roost_completion_requests_total{outcome="unavailable"}' in body
        assert "roost_completion_stage_seconds" in body
        # A page whose name was rebound to 127.0.0.1 sends its own name as Host: refused.
        rebound = urllib.request.Request(
            f"http://127.0.0.1:{metrics_port}/metrics", headers={"Host": f"attacker.example:{metrics_port}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            await asyncio.to_thread(urllib.request.urlopen, rebound, timeout=5)
        assert refused.value.code == 403


async def test_fixing_the_configuration_brings_completions_back(workspace: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    options = {"backend": {"kind": "openai", "endpoint": dead}, "completion": {"debounce_ms": 0}}
    with FakeOpenAI(rules=[("def down", "x + 1")]) as fake:
        async with lsp_session(
            workspace, initialization_options=options, capabilities=capabilities
        ) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/down.py", "def down(x):\n    return \n")
            result = await session.client.text_document_inline_completion_async(_inline_params(uri))
            assert not result.items
            session.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"roost": {"backend": {"kind": "openai", "endpoint": fake.endpoint}}}
                )
            )
            result = await session.client.text_document_inline_completion_async(_inline_params(uri))
            assert [item.insert_text for item in result.items] == ["x + 1"]


def test_metrics_answer_loopback_hosts_only() -> None:
    from roost.lsp.metrics import loopback_host_only

    def app(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def]
        start_response("200 OK", [])
        return [b"metrics"]

    checked = loopback_host_only(app)
    statuses: list[str] = []

    def start_response(status: str, headers: list) -> None:  # type: ignore[type-arg]
        statuses.append(status)

    for host in ("127.0.0.1:9100", "localhost", "[::1]:9100", "LOCALHOST:1"):
        assert checked({"HTTP_HOST": host}, start_response) == [b"metrics"], host
    for host in ("attacker.example:9100", "127.0.0.1.attacker.example", "", "localhost:abc"):
        assert b"not allowed" in b"".join(checked({"HTTP_HOST": host}, start_response)), host
    assert statuses == ["200 OK"] * 4 + ["403 Forbidden"] * 4
