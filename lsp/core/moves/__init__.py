"""Deterministic refactors: context's plans (:mod:`roost.context.refactor`) turned into verified, versioned
edits of workspace files."""
