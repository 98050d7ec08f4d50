"""Inline completion: the request pipeline (debounce, cancel-previous, cache, context, model, gate)."""
