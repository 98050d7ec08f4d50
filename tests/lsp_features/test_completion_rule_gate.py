"""The gate's tree-sitter rules through the real server: an inline completion in a JavaScript file whose
suggestion is ``eval(userInput)`` is blocked, and a safe one in the same file is shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import lsp_session
from lsprotocol import types
from test_completion import inline_capabilities


async def _inline(session: object, uri: str, line: int, character: int) -> types.InlineCompletionList | None:
    client = session.client  # type: ignore[attr-defined]
    request = client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
    )
    return await asyncio.wait_for(request, timeout=20)


async def test_eval_of_user_input_in_javascript_is_blocked(workspace: Path, fake_model: FakeOpenAI) -> None:
    # The first rule whose needle is in the prompt answers; the second file's prompt also shows the first.
    fake_model.rules.append(("function parse(userInput", "JSON.parse(userInput);"))
    fake_model.rules.append(("function run(userInput", "eval(userInput);"))
    options = fake_backend_options(fake_model)
    async with lsp_session(
        workspace, initialization_options=options, capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("web/run.js", "function run(userInput) {\n  return \n}\n")
        blocked = await _inline(session, uri, 1, 9)
        assert blocked is not None and not blocked.items, "an eval of user input must not be shown"
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
        assert details.source == "blocked"
        assert any("RJS101" in finding for finding in details.blocked[0].findings)

        safe_uri = session.open("web/parse.js", "function parse(userInput) {\n  return \n}\n")
        shown = await _inline(session, safe_uri, 1, 9)
        assert shown is not None and shown.items[0].insert_text == "JSON.parse(userInput);"
