"""Deterministic refactors at the protocol edge: context's plans (:mod:`roost.context.refactor`) turned into
verified, versioned edits."""
