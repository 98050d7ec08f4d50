"""Roost models: backends, scheduling, prompt formats, post-processing, the security gate.

Knows nothing of the project graph or of LSP.
"""
