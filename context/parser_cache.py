"""The tree-sitter parsers of this process: the one place that creates them.

A parser is cheap to reuse and not to create, so each thread keeps one per grammar (a parser holds
per-parse state — the previous tree, included ranges — and must not serve two threads at once). The
module depends on tree-sitter alone so that the language modules, which sit below everything else in
``context/``, can use it too.
"""

from __future__ import annotations

import threading

import tree_sitter


class _ThreadParsers(threading.local):
    def __init__(self) -> None:
        # Keyed by the grammar object's id: grammars live for the process (the language modules hold them).
        self.whole: dict[int, tuple[tree_sitter.Language, tree_sitter.Parser]] = {}
        self.ranged: dict[int, tuple[tree_sitter.Language, tree_sitter.Parser]] = {}


_parsers = _ThreadParsers()


def parser_for(grammar: tree_sitter.Language) -> tree_sitter.Parser:
    """This thread's parser of ``grammar`` for whole texts (its included ranges are never set)."""
    return _cached(_parsers.whole, grammar)


def ranged_parser_for(grammar: tree_sitter.Language) -> tree_sitter.Parser:
    """This thread's parser of ``grammar`` for parses of chosen ranges: callers set ``included_ranges``
    before every parse, so it is kept apart from :func:`parser_for`'s."""
    return _cached(_parsers.ranged, grammar)


def parse(grammar: tree_sitter.Language, source: bytes) -> tree_sitter.Tree:
    """A fresh parse of the whole of ``source``."""
    return parser_for(grammar).parse(source)


def _cached(
    cache: dict[int, tuple[tree_sitter.Language, tree_sitter.Parser]], grammar: tree_sitter.Language
) -> tree_sitter.Parser:
    entry = cache.get(id(grammar))
    # The grammar is kept in the entry so that its id cannot be reused by another grammar while cached.
    if entry is None:
        entry = cache[id(grammar)] = (grammar, tree_sitter.Parser(grammar))
    return entry[1]
