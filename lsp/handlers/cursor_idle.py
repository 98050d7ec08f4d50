"""``roost/cursorIdle``: the editor says where its cursor rests (the Roost extension and plugin send it
~300 ms after the cursor stops, with nothing selected). The completion prompt for that cursor is
prefilled in the background (:meth:`CompletionPipeline.prefetch`), so the first suggestion there does not
wait for seconds of prefill. A notification: nothing is answered, and bad params are logged and ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from roost.lsp.core.document_policy import Refused
from roost.lsp.handlers.inline_completion import completion_input, param_field, pipeline_of
from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

CURSOR_IDLE = "roost/cursorIdle"


def register(server: RoostServer) -> None:
    @server.feature(CURSOR_IDLE)
    def cursor_idle(ls: RoostServer, params: Any) -> None:
        pipeline = pipeline_of(ls)
        pipeline.prefetch_stats.notifications += 1
        cursor = _cursor(params)
        if cursor is None:
            log.info("%s ignored: it needs textDocument.uri and position {line, character}", CURSOR_IDLE)
            return
        uri, position = cursor
        if uri not in ls.workspace.text_documents:
            return  # not open here (closed meanwhile, or another client's document)
        request = completion_input(ls, uri, position)
        if isinstance(request, Refused):
            log.debug("no prefetch at %s: %s", uri, request.reason)
            return
        pipeline.prefetch(request)


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
