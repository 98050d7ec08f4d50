"""Positions are UTF-16 whatever the client offers first: a client that prefers utf-8 (Neovim >= 0.10 offers
``["utf-8", "utf-16", "utf-32"]``) is answered ``positionEncoding: utf-16``, and a cursor after non-ASCII
characters is read in UTF-16 code units, so the prompt is cut exactly at the cursor."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import lsp_session
from lsprotocol import types
from test_completion import inline_capabilities


async def test_a_client_preferring_utf8_gets_utf16_positions(workspace: Path, fake_model: FakeOpenAI) -> None:
    capabilities = inline_capabilities()
    capabilities.general = types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
    )
    fake_model.rules.append(("greeting", "name)"))
    options = fake_backend_options(fake_model, completion={"debounce_ms": 0})
    async with lsp_session(workspace, initialization_options=options, capabilities=capabilities) as session:
        assert session.initialize_result.capabilities.position_encoding == types.PositionEncodingKind.Utf16
        await session.wait_for_status("ready")
        line = 'greeting = "h\u00e9llo \U0001f426 " + str('  # é: 1 unit, 2 UTF-8 bytes; the bird: 2 units, 4 bytes
        uri = session.open("shop/greet.py", f"{line}\n")
        utf16_column = len(line.encode("utf-16-le")) // 2
        result = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=utf16_column),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        assert result is not None and [item.insert_text for item in result.items] == ["name)"]
        prompt = fake_model.completion_requests()[-1]["prompt"]
        # The prefix ends at the cursor: after "str(" (read as UTF-8 bytes, the column would stop 3 short).
        assert line in prompt and prompt.split(line, 1)[1].startswith("<|fim_")
