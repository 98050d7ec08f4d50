"""Text synchronisation. pygls keeps the open-document store (incremental sync); this module tells the
rest of Roost (index, completion cache) what changed through ``server.document_listeners`` (event, URI)
and ``server.content_change_listeners`` (each didChange's content changes with the text before and after).
"""

from __future__ import annotations

from lsprotocol import types

from roost.lsp.server import ContentChange, RoostServer


def register(server: RoostServer) -> None:
    # The text of each open document as of the last event: pygls has already applied a didChange when the
    # handler runs, and the change's positions refer to the text before it. Holding a reference to the
    # string pygls replaced costs nothing extra between changes.
    texts: dict[str, str] = {}

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: RoostServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        texts[uri] = ls.workspace.get_text_document(uri).source
        ls.emit_document_event("open", uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: RoostServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        previous, texts[uri] = texts.get(uri), text
        ls.emit_content_change(
            ContentChange(uri, params.text_document.version, params.content_changes, previous, text)
        )
        ls.emit_document_event("change", uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: RoostServer, params: types.DidSaveTextDocumentParams) -> None:
        # A save of a document the editor never opened (a client's slip) has no buffer to read: pygls would
        # read the file, which may not exist; the disk watcher sees a saved file anyway.
        if ls.is_document_open(params.text_document.uri):
            ls.emit_document_event("save", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: RoostServer, params: types.DidCloseTextDocumentParams) -> None:
        texts.pop(params.text_document.uri, None)
        ls.emit_document_event("close", params.text_document.uri)
