"""``roost/cursorIdle``: the editor says where its cursor rests (the Roost extension and plugin send it
~300 ms after the cursor stops, with nothing selected). The completion prompt for that cursor is
prefilled in the background (:meth:`CompletionPipeline.prefetch`), so the first suggestion there does not
wait for seconds of prefill. A notification: nothing is answered, and bad params are logged and ignored.

Editors without the Roost extension or plugin never send it. Many of them (Sublime's LSP, Emacs' lsp-mode
and eglot, Neovim with a light-bulb plugin, VS Code itself) ask for code actions at the cursor as it moves,
with an empty range and the ``Automatic`` trigger: from a client that has sent no ``roost/cursorIdle``,
such a request counts as the cursor moving there, and a cursor that stays ``REST_S`` (no other such
request for the document meanwhile) is prefetched the same way (:func:`cursor_moved`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from roost.lsp.core.document_policy import Refused
from roost.lsp.handlers.inline_completion import completion_input, param_field, pipeline_of
from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

CURSOR_IDLE = "roost/cursorIdle"
# How long a cursor seen through code action requests must stay before it counts as resting (the Roost
# clients wait 300 ms before they send roost/cursorIdle).
REST_S = 0.3
_REST_TIMERS_KEY = "cursor_rest_timers"


def register(server: RoostServer) -> None:
    @server.feature(CURSOR_IDLE)
    def cursor_idle(ls: RoostServer, params: Any) -> None:
        pipeline = pipeline_of(ls)
        pipeline.prefetch_stats.notifications += 1
        cursor = _cursor(params)
        if cursor is None:
            log.info("%s ignored: it needs textDocument.uri and position {line, character}", CURSOR_IDLE)
            return
        _prefetch_at(ls, *cursor)


def cursor_moved(ls: RoostServer, params: types.CodeActionParams) -> None:
    """A code action request as a cursor signal from a client that sends no ``roost/cursorIdle``: an empty
    range asked for automatically (not by the user) is where the cursor is; once it has stayed there
    ``REST_S``, the prompt there is prefetched. Called on the event loop."""
    pipeline = pipeline_of(ls)
    if pipeline.prefetch_stats.notifications or not pipeline.settings().prefetch:
        return  # a Roost client says where the cursor rests itself; or prefetching is off
    trigger = params.context.trigger_kind if params.context is not None else None
    start, end = params.range.start, params.range.end
    empty = (start.line, start.character) == (end.line, end.character)
    if trigger == types.CodeActionTriggerKind.Invoked or not empty:
        return  # asked for by the user, or a selection: not a cursor at rest
    uri = params.text_document.uri
    timers = _rest_timers(ls)
    previous = timers.pop(uri, None)
    if previous is not None:
        previous.cancel()

    def rested() -> None:
        timers.pop(uri, None)
        pipeline.prefetch_stats.code_action_rests += 1
        _prefetch_at(ls, uri, start)

    timers[uri] = asyncio.get_running_loop().call_later(REST_S, rested)


def _rest_timers(ls: RoostServer) -> dict[str, asyncio.TimerHandle]:
    """The pending "cursor rested" timer of each document, kept with the server's services."""
    timers = ls.services.get(_REST_TIMERS_KEY)
    if not isinstance(timers, dict):
        timers = ls.services[_REST_TIMERS_KEY] = {}
    return timers


def _prefetch_at(ls: RoostServer, uri: str, position: types.Position) -> None:
    if uri not in ls.workspace.text_documents:
        return  # not open here (closed meanwhile, or another client's document)
    request = completion_input(ls, uri, position)
    if isinstance(request, Refused):
        log.debug("no prefetch at %s: %s", uri, request.reason)
        return
    pipeline_of(ls, uri).prefetch(request)


def _cursor(params: Any) -> tuple[str, types.Position] | None:
    """The document URI and position of the notification's params (a dict, or pygls' attribute object
    for a method it does not know), or None when they are not well formed."""
    document, position = param_field(params, "textDocument"), param_field(params, "position")
    uri = param_field(document, "uri")
    line, character = param_field(position, "line"), param_field(position, "character")
    if not isinstance(uri, str) or not _is_index(line) or not _is_index(character):
        return None
    return uri, types.Position(line=line, character=character)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
