"""The language server's use cases as plain typed Python: completion, fix-ups, moves, edits and the
long-lived services. Nothing here knows the protocol (pygls, lsprotocol) or the server; the handlers
(:mod:`roost.lsp.handlers`) convert LSP types to these and back (an import-linter contract keeps it so)."""
