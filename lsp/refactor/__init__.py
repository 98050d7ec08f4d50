"""Deterministic refactors computed from the index's graph (no model): move a symbol, add an import."""
