"""Deterministic refactors computed from the graph and the language modules (no model): plain text
replacements per file; the LSP layer turns them into versioned WorkspaceEdits after verifying them."""
