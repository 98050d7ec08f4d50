"""A blank file's prompt names the file's path: the code says nothing of its language (the bundled 0.5B,
given bare fill-in-the-middle markers, began every empty .py, .go, .rs, .ts and .java file with
``import React from 'react';``)."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import lsp_session
from lsprotocol import types
from test_completion import inline_capabilities


async def test_a_blank_files_prompt_names_its_path(workspace: Path, fake_model: FakeOpenAI) -> None:
    fake_model.rules.append(("shop/fresh.py", "import math"))
    options = fake_backend_options(fake_model)
    async with lsp_session(
        workspace, initialization_options=options, capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        prompts = []
        for name, text in (("shop/fresh.py", "\n  \n"), ("shop/started.py", "x = 1\n\n")):
            uri = session.open(name, text)
            await session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=1, character=0),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            )
            prompts.append(fake_model.completion_requests()[-1]["prompt"])
    blank, started = prompts
    assert "<|file_sep|>shop/fresh.py\n<|fim_prefix|>" in blank, blank
    assert "x = 1" in started and "<|file_sep|>shop/fresh.py" not in started
