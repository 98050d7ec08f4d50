"""Retrieval's own options; the lead maps user configuration onto them in ``lsp/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class RetrievalOptions:
    # (The prompt budget's split is the caller's: ``Retriever.retrieve`` takes token budgets.)
    # A definition's body is included when it has at most this many lines; else signature + docstring.
    small_body_lines: int = 12
    # Same for definitions reached only through the file's imports (compact: there are many).
    import_body_lines: int = 4
    # Docstrings longer than this many lines are cut (the first lines carry the meaning).
    doc_lines: int = 4
    # A class outline (header + member declarations) is cut to this many characters.
    max_outline_chars: int = 2400
    # How far above the cursor the enclosing function is scanned for names used (lines).
    enclosing_scan_lines: int = 60
    # Below this many graph candidates the BM25 fallback is consulted.
    fallback_below: int = 3
    # BM25 code windows, the CrossCodeEval/RepoCoder setting.
    window_lines: int = 20
    window_stride: int = 10
    # Query for the fallback: this many lines above the cursor.
    query_lines: int = 20
    max_lexical_items: int = 4
    # Imported names resolved per request, best first (files with hundreds of imports stay fast).
    max_import_candidates: int = 40
    # Cross-file candidates: how many definitions one module-level receiver (``mod.``) contributes.
    max_members_per_module: int = 25
    # At ``receiver.|`` the receiver's members are listed, one declaration line each, best-fitting first,
    # per class (its bases each get their own listings) or module file: in listings of these sizes, each
    # ranked below the one before, so the best few always fit and the rest only where there is room.
    receiver_member_listings: tuple[int, ...] = (12, 28, 60)
    # At ``receiver.|`` also this many best-fitting members in one short listing rendered last (0: none),
    # as declarations (``"declaration"``) or written as calls on the receiver (``"call"``:
    # ``tasks.gather(*coros_or_futures, return_exceptions=False)``); with the full listings above or not.
    # Off: with the bundled 0.5B neither form nor length moved identifier match (docs/benchmarks.md).
    best_members: int = 0
    best_members_form: Literal["declaration", "call"] = "declaration"
    member_listings_with_best: bool = True
    # Lines above the cursor whose words rank the receiver's members (``response = debug.`` → ``…_response``).
    fit_context_lines: int = 3
    # Used to estimate how much of the current file the prompt's prefix/suffix shows, so snippets of
    # those lines are not repeated. Deliberately low: an underestimate only keeps a duplicate, an
    # overestimate would drop something the model never sees.
    visible_chars_per_token: float = 2.5
    # Tokens charged per item on top of its text, for the path header the prompt format adds.
    item_overhead_tokens: int = 8

    def __post_init__(self) -> None:
        if self.window_lines < 1 or self.window_stride < 1:
            raise ValueError("window_lines and window_stride must be positive")
