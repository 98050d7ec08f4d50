"""An inline completion's cursor is read on LSP's lines, where a lone ``\\r`` ends a line too.

Before: the cursor was found on lines split at ``\\n`` alone, so in a document with a lone ``\\r`` line end
a cursor past the end of its line was taken for a place further on (the model was asked, and the answer's
range was not in the editor's document), and a cursor on a later line was refused. Found by the session
fuzz (test_session_fuzz).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_openai import FakeOpenAI
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, fake_backend_options

# Line 0 ends with a lone "\r": LSP's lines are "s = 1", "def area(r):", "    return r", "".
TEXT = "s = 1\rdef area(r):\n    return r\n"
REQUEST_TIMEOUT_S = 20.0


async def _inline(
    session: LspSession, uri: str, line: int, character: int
) -> types.InlineCompletionList | None:
    return await asyncio.wait_for(
        session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        ),
        REQUEST_TIMEOUT_S,
    )


async def test_a_lone_carriage_return_ends_the_cursor_line(
    tmp_path: Path, recording_backend: FakeOpenAI
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "geo.py").write_text(TEXT, newline="")
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    async with lsp_session(
        root,
        initialization_options=fake_backend_options(recording_backend),
        capabilities=capabilities,
        command=SERVE_COMMAND,
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("geo.py", TEXT)

        past_the_end = await _inline(session, uri, 0, 12)  # line 0 is "s = 1"
        assert past_the_end is None or not past_the_end.items
        assert recording_backend.requests == [], "a cursor past its line's end must not reach the model"

        at_the_end = await _inline(session, uri, 2, len("    return r"))
        assert at_the_end is not None and at_the_end.items, "a cursor at the end of a line gets an answer"
        assert at_the_end.items[0].range == types.Range(
            start=types.Position(line=2, character=12), end=types.Position(line=2, character=12)
        )
        assert len(recording_backend.requests) == 1
