"""The text of files, as the resolver asks for it (``Resolver(source_for=…)``), from retrieval's own reading
of them (the request's buffer, open documents, the workspace).

Without it a whole-module binding stays the module: ``import Node from './Node.js'`` would bind the file,
not the class it default-exports, so ``class A extends Node`` had no base, ``new Node(`` no class and
``this.`` in a subclass listed the subclass's own members only (three.js in ``bench/retrieval_bench_js.py``:
13 of its 150 cursors found once the resolver reads the import statements).
"""

from __future__ import annotations

from collections.abc import Callable


class SourceText:
    """A request's source provider: each file's lines joined once, as bytes (spans count UTF-8 bytes)."""

    def __init__(self, lines_of: Callable[[str], list[str] | None]) -> None:
        self._lines_of = lines_of
        self._sources: dict[str, bytes | None] = {}

    def __call__(self, path: str) -> bytes | None:
        if path not in self._sources:
            lines = self._lines_of(path)
            self._sources[path] = "\n".join(lines).encode("utf-8") if lines is not None else None
        return self._sources[path]
