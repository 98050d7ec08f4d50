"""How the benchmarks start the product as an editor does: the ``roost serve --stdio`` command of this
interpreter's environment, and the environment that lets every run share the converted default model."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import platformdirs
from lsprotocol import types


def serve_command() -> list[str]:
    """The ``roost`` console script beside this interpreter, or ``python -m`` where none is installed."""
    script = Path(sys.executable).with_name("roost")
    if script.exists():
        return [str(script), "serve", "--stdio"]
    return [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]


def model_cache_dir() -> str:
    """The user's cache (or ``$ROOST_CACHE_DIR``): the converted default model is kept there, so a
    benchmark's temporary state directory does not cost a minute of conversion."""
    return os.environ.get("ROOST_CACHE_DIR") or platformdirs.user_cache_dir("roost")


async def first_inline_suggestion(
    client: Any, uri: str, line: int, character: int, *, invoked: bool, timeout_s: float
) -> str:
    """The first inline suggestion at an LSP position (UTF-16 column), as an editor asks for it: invoked
    (a key press) or automatic (typing); "" when the server offers none."""
    trigger = (
        types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
    )
    answer = await asyncio.wait_for(
        client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=trigger),
            )
        ),
        timeout_s,
    )
    items = (answer.items if hasattr(answer, "items") else answer) or []
    text = items[0].insert_text if items else ""
    return text if isinstance(text, str) else text.value
