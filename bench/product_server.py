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

# The server as it was before the completion pipeline kept a document's context while the user types on
# one line (lsp/core/completion/sticky_context.py): every keystroke's prompt is retrieved afresh. Only
# for benchmarks that measure what keeping it saves, in the same run.
_FRESH_CONTEXT_SERVER = (
    "import sys\n"
    "from roost.lsp.core.completion.pipeline import CompletionPipeline\n"
    "CompletionPipeline.sticky_retriever = lambda self, retriever: retriever\n"
    "from roost.lsp.cli import main\n"
    "sys.exit(main(['serve', '--stdio']))\n"
)


def serve_command(*, fresh_context: bool = False) -> list[str]:
    """The ``roost`` console script beside this interpreter, or ``python -m`` where none is installed;
    ``fresh_context``: the server retrieving every keystroke's context afresh (the baseline of prompt
    reuse, see ``_FRESH_CONTEXT_SERVER``)."""
    if fresh_context:
        return [sys.executable, "-c", _FRESH_CONTEXT_SERVER]
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
