"""Roost code knowledge: parsing, languages, graph, store, watching, retrieval.

Knows nothing of models or of LSP.
"""
