"""Dedup, drop what the prompt already shows, and pack by score under a token budget.

The token counter and the redactor come from the caller (the engine owns tokenizers and the secret
patterns); this module only decides.
"""

from __future__ import annotations

from collections.abc import Callable

from roost.context.retrieval.model import Candidate, CandidateKind, ContextItem, RetrievalResult

TokenCounter = Callable[[str], int]
# No code tokenizer packs more characters than this into one token on average over a snippet; used only
# to skip counting what cannot fit (an underestimate of tokens can only skip, never overfill).
_MAX_CHARS_PER_TOKEN = 12
Redactor = Callable[[str], str]


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start) + 1)


def _repeats(candidate: Candidate, item: ContextItem, lines: int) -> bool:
    """True when ``item`` already shows what ``candidate`` would: its text is inside the item's, or it is
    mostly the same lines from the same source (two BM25 windows over one region)."""
    if item.path != candidate.path:
        return False
    overlap = _overlap(candidate.start_line, candidate.end_line, item.start_line, item.end_line)
    if overlap == 0:
        return False
    if candidate.text.strip() in item.text:
        return True
    # Member listings pick scattered lines: two of one class (its best members, then more) share none.
    return item.kind == candidate.kind and candidate.kind is not CandidateKind.MEMBERS and overlap * 2 > lines


def pack(
    candidates: list[Candidate],
    budget: int,
    count_tokens: TokenCounter,
    redact: Redactor,
    *,
    current_path: str | None = None,
    visible_lines: tuple[int, int] | None = None,
    item_overhead_tokens: int = 0,
) -> RetrievalResult:
    """Choose candidates best first while the sum of their token costs stays within ``budget``.

    ``visible_lines`` (0-based, inclusive) is the part of ``current_path`` the prompt's prefix/suffix
    shows; snippets mostly inside it are dropped. A candidate whose lines are mostly covered by an
    already chosen snippet of the same file is a duplicate. Items that do not fit are skipped, so a
    smaller, lower-ranked one may still use the remaining budget.
    """
    result = RetrievalResult(budget=max(0, budget))
    chosen: list[ContextItem] = []
    # (path, symbol, first line): overloads (``@overload`` stubs and the real one) are distinct.
    seen_symbols: set[tuple[str, str, int]] = set()
    remaining = result.budget
    ordered = sorted(candidates, key=lambda c: (-c.score, c.path, c.start_line))
    for candidate in ordered:
        lines = candidate.line_count
        if current_path is not None and candidate.path == current_path and visible_lines is not None:
            shown = _overlap(candidate.start_line, candidate.end_line, *visible_lines)
            if shown * 2 > lines:
                result.dropped.append((candidate, "already in the prompt's prefix/suffix"))
                continue
        key = (candidate.path, candidate.symbol or "", candidate.start_line)
        if candidate.symbol is not None and key in seen_symbols:
            result.dropped.append((candidate, "duplicate symbol"))
            continue
        duplicate = next((item for item in chosen if _repeats(candidate, item, lines)), None)
        if duplicate is not None:
            result.dropped.append((candidate, f"overlaps {duplicate.path}:{duplicate.start_line + 1}"))
            continue
        if remaining <= item_overhead_tokens:
            result.dropped.append((candidate, "budget spent"))
            continue
        if len(candidate.text) // _MAX_CHARS_PER_TOKEN + item_overhead_tokens > remaining:
            # Cannot fit whatever the tokenizer says: skip without paying for a count.
            result.dropped.append(
                (candidate, f"over budget (≥ {len(candidate.text) // _MAX_CHARS_PER_TOKEN} tokens)")
            )
            continue
        text = redact(candidate.text)
        tokens = count_tokens(text) + item_overhead_tokens
        if tokens > remaining:
            result.dropped.append((candidate, f"over budget ({tokens} > {remaining} tokens left)"))
            continue
        remaining -= tokens
        if candidate.symbol is not None:
            seen_symbols.add(key)
        chosen.append(
            ContextItem(
                path=candidate.path,
                start_line=candidate.start_line,
                end_line=candidate.end_line,
                text=text,
                kind=candidate.kind,
                score=candidate.score,
                reason=candidate.reason,
                tokens=tokens,
                symbol=candidate.symbol,
            )
        )
    result.items = chosen
    result.tokens = result.budget - remaining
    return result
