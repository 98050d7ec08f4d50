"""Trust, point 8: an inline completion for a document the editor never opened, or at a position that is
not in the document, answers an empty result without calling the model.

Before: an unknown URI answered -32603 with a raw ``FileNotFoundError`` (the server tried to read it from
disk), and a position past the end was clamped to the end and the model was asked anyway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, fake_backend_options

TEXT = "def area(radius):\n    return 3.14 * radius * radius\n\n\ndef perimeter(radius):\n    return \n"
REQUEST_TIMEOUT_S = 20.0


def _inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def _inline(session: LspSession, uri: str, line: int, character: int) -> Any:
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


async def _details(session: LspSession, uri: str) -> Any:
    return await asyncio.wait_for(
        session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri}), REQUEST_TIMEOUT_S
    )


def _empty(result: Any) -> bool:
    return result is None or (isinstance(result, types.InlineCompletionList) and not result.items)


async def test_unknown_uri_and_positions_past_the_end_answer_empty_without_the_model(
    tmp_path: Path, recording_backend: FakeOpenAI
) -> None:
    root = tmp_path / "ws"
    (root / "geo").mkdir(parents=True)
    (root / "geo" / "shapes.py").write_text(TEXT)
    (root / "geo" / "on_disk.py").write_text(TEXT)  # exists, but the editor never opens it
    options = fake_backend_options(recording_backend)
    async with lsp_session(
        root, initialization_options=options, capabilities=_inline_capabilities(), command=SERVE_COMMAND
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("geo/shapes.py", TEXT)
        last_line = TEXT.count("\n")  # the empty line after the final newline
        line_five = len(TEXT.split("\n")[5])

        missing = session.uri("geo/no_such_file.py")
        assert _empty(await _inline(session, missing, 0, 0)), "an unknown URI gets an empty result"
        details = await _details(session, missing)
        assert details.source == "refused" and "not opened" in details.message

        unopened = session.uri("geo/on_disk.py")
        assert _empty(await _inline(session, unopened, 5, 11)), "a file on disk the editor never opened"

        assert _empty(await _inline(session, uri, last_line + 1, 0)), "a line past the end"
        assert _empty(await _inline(session, uri, last_line + 40, 3)), "a line far past the end"
        assert _empty(await _inline(session, uri, 5, line_five + 1)), "a character past the line's end"
        assert _empty(await _inline(session, uri, 0, 500)), "a character far past the line's end"
        details = await _details(session, uri)
        assert details.source == "refused" and "past the end" in details.message
        assert recording_backend.requests == [], "no request may reach the model for these"

        # The same document at a real position does reach the model: the checks above can fail.
        await _inline(session, uri, 5, line_five)
        assert len(recording_backend.requests) == 1
