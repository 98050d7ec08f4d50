"""Inline completions (``textDocument/inlineCompletion``) and, for clients without inline completion,
the same suggestions as ``textDocument/completion`` items. Accept tracking through ``roost.accepted``."""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from roost.lsp import metrics
from roost.lsp.core.completion.details import explain, outcome_details
from roost.lsp.core.completion.pipeline import (
    CompletionInput,
    CompletionOutcome,
    CompletionPipeline,
    PipelineSettings,
    pipeline_settings,
    replaced_after,
)
from roost.lsp.core.document_policy import Refused, policy_of
from roost.lsp.core.services import Services, services_of
from roost.lsp.core.text_edits import LineCharacter, exact_offset
from roost.lsp.handlers.workspace_edits import services_for_uri

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

ACCEPTED_COMMAND = "roost.accepted"
COMPLETION_DETAILS = "roost/completionDetails"
EXPLAIN_COMPLETION = "roost/explainCompletion"
PIPELINE_KEY = "completion_pipeline"
_WORD_BEFORE = re.compile(r"[A-Za-z_$][\w$]*$")
# Shown suggestions waiting for an accept (id → monotonic time shown); bounded.
_MAX_PENDING_ACCEPTS = 512


def client_supports_inline(ls: RoostServer) -> bool:
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.inline_completion is not None)


def pipeline_of(ls: RoostServer, uri: str | None = None) -> CompletionPipeline:
    """The completion pipeline of the workspace folder that serves ``uri`` (the first folder's without
    one): each folder's prompts come from its own index, cache and settings; the model is shared."""
    services = services_of(ls) if uri is None else services_for_uri(ls, uri)
    pipelines = pipelines_of(ls)
    pipeline = pipelines.get(services)
    if pipeline is None:

        def settings() -> PipelineSettings:
            return pipeline_settings(services.config)

        pipeline = CompletionPipeline(services, settings, services.config.cache.completions)
        pipelines[services] = pipeline
    return pipeline


def pipelines_of(ls: RoostServer) -> dict[Services, CompletionPipeline]:
    """Every folder's pipeline, the first folder's first."""
    pipelines = ls.services.get(PIPELINE_KEY)
    if not isinstance(pipelines, dict):
        pipelines = ls.services[PIPELINE_KEY] = {}
    return pipelines


def drop_pipeline(ls: RoostServer, services: Services) -> None:
    """A removed folder's pipeline goes with it (its cache, debouncers and in-flight requests)."""
    pipelines_of(ls).pop(services, None)


def completion_input(ls: RoostServer, uri: str, position: types.Position) -> CompletionInput | Refused:
    """The pipeline's input, or why no prompt may be built: the document policy, or a cursor that is not
    in the document (a line past the end, a character past the line's end; never clamped, since the
    suggestion would be inserted somewhere the user is not)."""
    verdict = policy_of(ls, uri)
    if isinstance(verdict, Refused):
        return verdict
    document = ls.workspace.get_text_document(uri)
    text = document.source
    offset = cursor_offset(text, position)
    if offset is None:
        return Refused(f"no completion at {position.line}:{position.character}: past the end of the document")
    line_start = text.rfind("\n", 0, offset) + 1
    return CompletionInput(
        uri=uri,
        path=verdict.path,
        language=document.language_id or "plaintext",
        text=text,
        # The pipeline counts rows as the index does, by "\n" alone (LSP also ends a line at a lone "\r").
        line=text.count("\n", 0, offset),
        col=offset - line_start,
        offset=offset,
    )


def param_field(params: Any, name: str) -> Any:
    """A field of a custom method's params: a dict, or the attribute object pygls makes of it (None if absent)."""
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


def cursor_offset(text: str, position: types.Position) -> int | None:
    """The character offset of an LSP position (UTF-16 columns, LSP's lines: a lone ``\r`` ends one too),
    or None when it is not in ``text``."""
    return exact_offset(text, LineCharacter(position.line, position.character))


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

    def remember(self, uri: str, outcome: CompletionOutcome) -> None:
        """The last outcome per document, for ``roost/completionDetails``; bounded, since a client may
        name any number of URIs."""
        self.last.pop(uri, None)
        self.last[uri] = outcome
        while len(self.last) > _MAX_PENDING_ACCEPTS:
            self.last.pop(next(iter(self.last)))

    def accepted(self, item_id: str) -> bool:
        shown_at = self.pending.pop(item_id, None)
        if shown_at is None:
            return False
        metrics.SUGGESTIONS_ACCEPTED.inc()
        metrics.ACCEPT_LATENCY_SECONDS.observe(time.monotonic() - shown_at)
        return True


def _accept_command(item_id: str) -> types.Command:
    return types.Command(title="Roost: suggestion accepted", command=ACCEPTED_COMMAND, arguments=[item_id])


def register(server: RoostServer) -> None:
    tracker = _Tracker()

    async def run(
        ls: RoostServer, uri: str, position: types.Position
    ) -> tuple[CompletionInput | None, CompletionOutcome]:
        request = completion_input(ls, uri, position)
        if isinstance(request, Refused):
            # Not an error: the editor shows nothing, and the details (and the log) say why.
            refused = CompletionOutcome(source="refused", message=request.reason)
            tracker.remember(uri, refused)
            return None, refused
        outcome = await pipeline_of(ls, uri).complete(request)
        if outcome.source != "superseded":
            tracker.remember(uri, outcome)
        return request, outcome

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: RoostServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        request, outcome = await run(ls, params.text_document.uri, params.position)
        if request is None or not outcome.texts:
            return types.InlineCompletionList(items=[])
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=text,
                    range=_replaced_range(params.position, replaced_after(request, text)),
                    command=_accept_command(tracker.shown()),
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
                        range=types.Range(
                            start=start,
                            end=_replaced_range(params.position, replaced_after(request, text)).end,
                        ),
                        new_text=typed + text,
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
    def details(ls: RoostServer, params: Any) -> dict[str, object] | None:
        """The last completion's stage timings, chosen context and gate decisions (demo, editors' status)."""
        uri = param_field(params, "uri")
        outcome = tracker.last.get(uri or "")
        return outcome_details(outcome) if outcome is not None else None

    @server.feature(EXPLAIN_COMPLETION)
    def explain_completion(ls: RoostServer, params: Any) -> dict[str, Any]:
        """Why the last completion in a document showed what it did (the editors' "explain" views)."""
        uri = param_field(params, "uri")
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams(f"{EXPLAIN_COMPLETION} needs a document uri")
        explanation = explain(tracker.last.get(uri), ls.status_state, ls.status_message)
        return asdict(explanation)


def _replaced_range(position: types.Position, replaced: int) -> types.Range:
    """The item's range: the cursor, widened over the ``replaced`` characters after it on its line (closing
    brackets and punctuation: one UTF-16 unit each)."""
    end = types.Position(line=position.line, character=position.character + replaced)
    return types.Range(start=position, end=end)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
