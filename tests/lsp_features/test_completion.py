"""Inline completion end to end over stdio: the pipeline with a scripted model server (deterministic),
the fallback to completion items, typed-ahead, the gate, and cancellation storms."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities


def inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


def _edit(
    uri: str, version: int, line: int, character: int, text: str, end_character: int | None = None
) -> types.DidChangeTextDocumentParams:
    """``text`` inserted at ``line:character`` (or replacing it up to ``end_character`` on that line)."""
    here = types.Position(line=line, character=character)
    end = here if end_character is None else types.Position(line=line, character=end_character)
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[
            types.TextDocumentContentChangePartial(range=types.Range(start=here, end=end), text=text)
        ],
    )


async def test_fallback_completion_items_for_a_client_without_inline_support(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    fake_model.rules.append(("def volume(", "circle_area(circle) * height"))
    text = "from shop.shapes import circle_area\n\n\ndef volume(circle, height):\n    return \n"
    async with lsp_session(workspace, initialization_options=fake_backend_options(fake_model)) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/volume.py", text)
        result = await session.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=4, character=11),
            )
        )
        assert isinstance(result, types.CompletionList)
        assert result.items, "a client without inline completion gets the suggestion as an item"
        item = result.items[0]
        assert item.text_edit is not None and item.text_edit.new_text == "circle_area(circle) * height"
        assert item.command is not None and item.command.command == "roost.accepted"
        # The prompt carried the definition from the other file (retrieval through the index).
        prompt = fake_model.completion_requests()[-1]["prompt"]
        assert "def circle_area(circle: Circle) -> float:" in prompt
        assert "<|fim_prefix|>" in prompt and prompt.endswith("<|fim_middle|>")
        accepted = await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=item.command.command, arguments=item.command.arguments)
        )
        assert accepted is True
        # An inline-capable client would not get list items: nothing is shown twice.
        assert session.initialize_result.capabilities.inline_completion_provider is not None


async def test_inline_completion_typed_ahead_and_blocked_by_the_gate(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    fake_model.rules.append(("def run(command", "subprocess.call(command, shell=True)"))
    fake_model.rules.append(("def label(", "f'circle of radius {circle.radius}'"))
    options = fake_backend_options(fake_model)
    async with lsp_session(
        workspace, initialization_options=options, capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        text = "def label(circle):\n    return \n"
        uri = session.open("shop/label.py", text)
        position = types.Position(line=1, character=11)
        first = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position,
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
        assert first is not None and first.items[0].insert_text == "f'circle of radius {circle.radius}'"
        requests_before = len(fake_model.completion_requests())
        # The user types the first characters of the suggestion: the rest comes from the cache.
        session.client.text_document_did_change(_edit(uri, 2, 1, 11, "f'ci"))
        second = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=15),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
        assert second is not None and second.items[0].insert_text == "rcle of radius {circle.radius}'"
        assert len(fake_model.completion_requests()) == requests_before, "typed-ahead must not ask the model"
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
        assert details.source == "cache"

        # An insecure suggestion is dropped by the gate: no item, and the details say why.
        insecure = "import subprocess\n\n\ndef run(command):\n    return \n"
        uri2 = session.open("shop/run.py", insecure)
        blocked = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri2),
                position=types.Position(line=4, character=11),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
        assert blocked is not None and not blocked.items
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri2})
        assert details.source == "blocked"
        assert any("B602" in finding for finding in details.blocked[0].findings)


async def test_cancellation_storm_leaves_the_server_responsive(workspace: Path) -> None:
    with FakeOpenAI(rules=[("def storm", "value + 1")], delay_s=0.05) as fake:
        options = fake_backend_options(fake, completion={"debounce_ms": 50})
        async with lsp_session(
            workspace, initialization_options=options, capabilities=inline_capabilities()
        ) as session:
            await session.wait_for_status("ready")
            text = "def storm(value):\n    return \n"
            uri = session.open("shop/storm.py", text)
            protocol = session.client.protocol
            futures = []
            for i in range(40):
                future = protocol.send_request(
                    types.TEXT_DOCUMENT_INLINE_COMPLETION,
                    types.InlineCompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=types.Position(line=1, character=11),
                        context=types.InlineCompletionContext(
                            trigger_kind=types.InlineCompletionTriggerKind.Automatic
                        ),
                    ),
                )
                futures.append(future)
                if i % 2 == 0:
                    protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=_last_id(protocol)))
                await asyncio.sleep(0.005)
            results = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures), return_exceptions=True)
            answered = [r for r in results if isinstance(r, types.InlineCompletionList)]
            assert answered, "the storm's requests are answered (empty when superseded)"
            # Superseded requests never reached the model: far fewer model calls than requests.
            assert len(fake.completion_requests()) <= 5
            # And the server still answers a fresh request with the real suggestion.
            final = await session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=1, character=11),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            )
            assert final is not None and final.items and final.items[0].insert_text == "value + 1"


def _last_id(protocol: object) -> object:
    futures = getattr(protocol, "_request_futures", {})
    return list(futures)[-1] if futures else 0


async def test_a_recent_edit_in_another_open_buffer_reaches_the_prompt(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    """didOpen/didChange feed retrieval's activity (recent edits, open documents): a helper the user
    just typed in another, unsaved buffer is offered as context."""
    fake_model.rules.append(("def shipping(", "0"))
    async with lsp_session(
        workspace, initialization_options=fake_backend_options(fake_model), capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        notes_uri = session.open("shop/geometry.py")
        typed = "\n\ndef unsaved_rounding_rule(value):\n    return round(value * 20) / 20\n"
        session.client.text_document_did_change(_edit(notes_uri, 2, 1, 0, typed))
        uri = session.open("shop/shipping.py", "def shipping(weight):\n    return \n")
        await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=11),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        prompt = fake_model.completion_requests()[-1]["prompt"]
        # Only the editor's buffer has it: the file on disk was never written.
        assert "unsaved_rounding_rule" not in (workspace / "shop" / "geometry.py").read_text()
        assert "def unsaved_rounding_rule(value):" in prompt
