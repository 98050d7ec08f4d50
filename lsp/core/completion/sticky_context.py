"""Context that stays put while the user types on one line, so that consecutive prompts share their start.

The engine reuses the KV of the longest token prefix a new prompt shares with a cached one, and the
context snippets come first in the prompt (before the document's prefix). Retrieval ranks snippets by
what the cursor's line uses, so a keystroke often reorders them or swaps a low-ranked one, and the
whole prompt after the first changed snippet must then be prefilled again: seconds on a laptop CPU,
for context that is no better for the keystroke than the previous one.

:class:`StickyRetriever` wraps the retriever: it still retrieves for every request, but while the
document has changed only on the cursor's line since the last request for it (same line, same budgets),
it answers with the previous result, unchanged, unless the new one brings code the previous context
does not show (lines outside every previous snippet of that file) that is about what is being typed at
the cursor: the receiver's members listing, or a snippet scored from :data:`AT_CURSOR_SCORE` up (the
definition of the name being completed, a member used on this line). Retrieval's reordering, rescoring
and narrowing (a members listing filtered by the typed part of the name) keep the previous context. So
the snippet block renders byte for byte as before and the prompt differs from the previous one only
from the cursor's line on.

The server's first request at a cursor gets what ``roost context`` previews; later keystrokes on the
same line may keep the context of an earlier one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from roost.context.retrieval.model import CandidateKind, ContextItem, RetrievalResult
from roost.context.retrieval.retriever import RetrievalRequest
from roost.lsp.core.completion.prompt import ContextRetriever

# Retrieval's scores for snippets of what is being typed at the cursor start here (its members listing
# 1.0, a partial name's definition 0.95, a member used on the cursor's line 0.9): one that the previous
# context lacks is worth a new prompt start. Lower ones (names used nearby, imports, outlines) shift
# with every keystroke without saying more about the line being typed.
AT_CURSOR_SCORE = 0.9


def _shown(item: ContextItem, context: list[ContextItem]) -> bool:
    """Whether ``context`` holds a snippet of ``item``'s file spanning all of its lines."""
    return any(
        shown.path == item.path and shown.start_line <= item.start_line and item.end_line <= shown.end_line
        for shown in context
    )


def _about_the_cursor(item: ContextItem) -> bool:
    return item.kind == CandidateKind.MEMBERS or item.score >= AT_CURSOR_SCORE


def _outside_line(text: str, line: int) -> tuple[str, str] | None:
    """``text`` before the start of ``line`` and after its end (None when the line does not exist)."""
    start = 0
    for _ in range(line):
        found = text.find("\n", start)
        if found < 0:
            return None
        start = found + 1
    end = text.find("\n", start)
    return text[:start], text[end:] if end >= 0 else ""


def _line(text: str, line: int) -> str:
    outside = _outside_line(text, line)
    if outside is None:
        return ""
    before, after = outside
    return text[len(before) : len(text) - len(after)]


@dataclass(frozen=True)
class _Retrieved:
    request: RetrievalRequest  # the latest request this result answered
    budgets: tuple[int, int, int]
    count_tokens: Callable[[str], int]
    result: RetrievalResult
    retrieved_line: str  # the cursor's line when ``result`` was retrieved (it may show it)


def keeps_context(
    previous: _Retrieved,
    request: RetrievalRequest,
    budgets: tuple[int, int, int],
    count_tokens: Callable[[str], int],
    fresh: RetrievalResult,
) -> bool:
    """Whether ``previous``'s result still serves ``request`` (see the module docstring)."""
    before = previous.request
    if (
        request.path != before.path
        or request.line != before.line
        or budgets != previous.budgets
        or count_tokens != previous.count_tokens
    ):
        return False
    if request.text != before.text:
        outside = _outside_line(request.text, request.line)
        if outside is None or outside != _outside_line(before.text, before.line):
            return False
    shown_line = previous.retrieved_line.strip()
    if shown_line and any(
        item.path == request.path
        and item.start_line <= request.line <= item.end_line
        and shown_line in item.text
        for item in previous.result.items
    ):
        return False  # a snippet of this document that shows the line being edited would be stale
    kept = previous.result.items
    return not any(_about_the_cursor(item) and not _shown(item, kept) for item in fresh.items)


class StickyRetriever:
    """A :class:`ContextRetriever` that keeps each document's last context while it serves (thread-safe:
    prompts are built in worker threads)."""

    def __init__(self, retriever: ContextRetriever, documents: int = 64) -> None:
        self.retriever = retriever
        self.documents = documents
        self._last: OrderedDict[str, _Retrieved] = OrderedDict()
        self._lock = threading.Lock()
        self.kept = 0  # requests answered with the previous context (tests and benchmarks read it)

    def retrieve(
        self,
        request: RetrievalRequest,
        count_tokens: Callable[[str], int],
        context_budget: int,
        *,
        prefix_budget: int = 0,
        suffix_budget: int = 0,
    ) -> RetrievalResult:
        fresh = self.retriever.retrieve(
            request, count_tokens, context_budget, prefix_budget=prefix_budget, suffix_budget=suffix_budget
        )
        budgets = (context_budget, prefix_budget, suffix_budget)
        with self._lock:
            previous = self._last.get(request.path)
            result, retrieved_line = fresh, _line(request.text, request.line)
            if previous is not None and keeps_context(previous, request, budgets, count_tokens, fresh):
                result, retrieved_line = previous.result, previous.retrieved_line
                if result.member_names != fresh.member_names:  # the cursor's own receiver, not the context
                    result = replace(result, member_names=fresh.member_names)
                self.kept += 1
            # Compared with the latest document next time: typing a line is a chain of one-line changes.
            self._last[request.path] = _Retrieved(request, budgets, count_tokens, result, retrieved_line)
            self._last.move_to_end(request.path)
            while len(self._last) > self.documents:
                self._last.popitem(last=False)
        return result
