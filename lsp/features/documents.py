"""Text synchronisation. pygls keeps the open-document store (incremental sync); this module tells the
rest of Roost (index, completion cache) what changed through ``server.document_listeners``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer


def register(server: RoostServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: RoostServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.emit_document_event("open", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: RoostServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.emit_document_event("change", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: RoostServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.emit_document_event("save", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: RoostServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.emit_document_event("close", params.text_document.uri)
