"""Inline completions (``textDocument/inlineCompletion``) and, for clients without inline completion,
the same suggestions as ``textDocument/completion`` items. Accept tracking through ``roost.accepted``."""

from __future__ import annotations

import itertools
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from roost.lsp import metrics
from roost.lsp.completion.pipeline import (
    CompletionInput,
    CompletionOutcome,
    CompletionPipeline,
    PipelineSettings,
)
from roost.lsp.services import services_of

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

ACCEPTED_COMMAND = "roost.accepted"
COMPLETION_DETAILS = "roost/completionDetails"
PIPELINE_KEY = "completion_pipeline"
_WORD_BEFORE = re.compile(r"[A-Za-z_$][\w$]*$")
# Shown suggestions waiting for an accept (id → monotonic time shown); bounded.
_MAX_PENDING_ACCEPTS = 512


def client_supports_inline(ls: RoostServer) -> bool:
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.inline_completion is not None)


def pipeline_of(ls: RoostServer) -> CompletionPipeline:
    pipeline = ls.services.get(PIPELINE_KEY)
    if pipeline is None:

        def settings() -> PipelineSettings:
            config = ls.config
            return PipelineSettings(
                debounce_ms=config.completion.debounce_ms,
                max_tokens=config.completion.max_tokens,
                multiline=config.completion.multiline,
                temperature=config.completion.temperature,
                budget=config.context.budget,
                prefix_share=config.context.prefix_share,
                suffix_share=config.context.suffix_share,
                context_share=config.context.context_share,
            )

        pipeline = CompletionPipeline(services_of(ls), settings, ls.config.cache.completions)
        ls.services[PIPELINE_KEY] = pipeline
    return pipeline


def relative_path(ls: RoostServer, uri: str) -> str:
    path = Path(to_fs_path(uri) or uri)
    root = ls.workspace_root()
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def completion_input(ls: RoostServer, uri: str, position: types.Position) -> CompletionInput | None:
    document = ls.workspace.get_text_document(uri)
    text = document.source
    try:
        offset = document.offset_at_position(position)
    except Exception:  # a position past the end: nothing sensible to complete
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    return CompletionInput(
        uri=uri,
        path=relative_path(ls, uri),
        language=document.language_id or "plaintext",
        text=text,
        line=text.count("\n", 0, offset),
        col=offset - line_start,
        offset=offset,
    )


class _Tracker:
    """Suggestions shown and accepted, for the accept rate and latency (local metrics only)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.pending: dict[str, float] = {}
        self.last: dict[str, CompletionOutcome] = {}

    def shown(self) -> str:
        item_id = f"s{next(self._ids)}"
        self.pending[item_id] = time.monotonic()
        while len(self.pending) > _MAX_PENDING_ACCEPTS:
            self.pending.pop(next(iter(self.pending)))
        metrics.SUGGESTIONS_SHOWN.inc()
        return item_id

    def accepted(self, item_id: str) -> bool:
        shown_at = self.pending.pop(item_id, None)
        if shown_at is None:
            return False
        metrics.SUGGESTIONS_ACCEPTED.inc()
        metrics.ACCEPT_LATENCY_SECONDS.observe(time.monotonic() - shown_at)
        return True


def _accept_command(item_id: str) -> types.Command:
    return types.Command(title="Roost: suggestion accepted", command=ACCEPTED_COMMAND, arguments=[item_id])


def _describe(outcome: CompletionOutcome) -> dict[str, Any]:
    return {
        "source": outcome.source,
        "shape": outcome.shape,
        "texts": outcome.texts,
        "message": outcome.message,
        "timings_ms": {k: round(v, 2) for k, v in outcome.timings_ms.items()},
        "context": [
            {
                "path": item.path,
                "start_line": item.start_line,
                "end_line": item.end_line,
                "kind": str(item.kind),
                "score": round(item.score, 3),
                "reason": item.reason,
                "tokens": item.tokens,
            }
            for item in outcome.context
        ],
        "blocked": [{"text": b.text, "findings": b.findings} for b in outcome.blocked],
    }


def register(server: RoostServer) -> None:
    tracker = _Tracker()

    async def run(
        ls: RoostServer, uri: str, position: types.Position
    ) -> tuple[CompletionInput | None, CompletionOutcome]:
        request = completion_input(ls, uri, position)
        if request is None:
            return None, CompletionOutcome(source="empty")
        outcome = await pipeline_of(ls).complete(request)
        if outcome.source != "superseded":
            tracker.last[uri] = outcome
        return request, outcome

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: RoostServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        _, outcome = await run(ls, params.text_document.uri, params.position)
        if not outcome.texts:
            return types.InlineCompletionList(items=[])
        here = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=text, range=here, command=_accept_command(tracker.shown())
                )
                for text in outcome.texts
            ]
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "])
    )
    async def completion(ls: RoostServer, params: types.CompletionParams) -> types.CompletionList | None:
        if client_supports_inline(ls):
            return None  # the client shows our inline completions; no duplicate list items
        request, outcome = await run(ls, params.text_document.uri, params.position)
        if request is None or not outcome.texts:
            return types.CompletionList(is_incomplete=True, items=[])
        line_prefix = request.text[request.offset - request.col : request.offset]
        word = _WORD_BEFORE.search(line_prefix)
        typed = word.group(0) if word else ""
        start = types.Position(
            line=params.position.line, character=params.position.character - _utf16_len(typed)
        )
        items = []
        for rank, text in enumerate(outcome.texts):
            first_line = (typed + text).split("\n", 1)[0].strip()
            items.append(
                types.CompletionItem(
                    label=first_line[:80] or text.strip()[:80],
                    kind=types.CompletionItemKind.Text,
                    detail="Roost",
                    documentation=types.MarkupContent(
                        kind=types.MarkupKind.Markdown, value=f"```{request.language}\n{typed}{text}\n```"
                    ),
                    filter_text=typed + text,
                    sort_text=f"0000{rank}",
                    preselect=rank == 0,
                    text_edit=types.TextEdit(
                        range=types.Range(start=start, end=params.position), new_text=typed + text
                    ),
                    command=_accept_command(tracker.shown()),
                )
            )
        # Incomplete: the next keystroke asks again (typed-ahead answers it from the cache).
        return types.CompletionList(is_incomplete=True, items=items)

    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: Any, *arguments: Any) -> bool:
        item_id = str(arguments[0]) if arguments else ""
        known = tracker.accepted(item_id)
        log.info("suggestion %s accepted (accept rate %.2f)", item_id, metrics.accept_rate())
        return known

    @server.feature(COMPLETION_DETAILS)
    def details(ls: RoostServer, params: Any) -> dict[str, Any] | None:
        """The last completion's stage timings, chosen context and gate decisions (demo, editors' status)."""
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        outcome = tracker.last.get(uri or "")
        return _describe(outcome) if outcome is not None else None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
