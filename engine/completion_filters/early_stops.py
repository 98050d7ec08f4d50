"""A suggestion still being generated: whether post-processing will cut all that follows anyway, so the
generation may stop there (the cursor's block has ended; the first line repeats the code after the cursor),
and its first complete line."""

from __future__ import annotations

from roost.engine.completion_filters.cursor import CompletionContext
from roost.engine.completion_filters.lines import limit_indent_scope, trim_blank
from roost.engine.completion_filters.repetition import cut_suffix_repetition


def block_ended(text: str, ctx: CompletionContext) -> bool:
    """Whether a suggestion still being generated has already left the cursor's block: its complete lines
    (up to the last newline) are cut by :func:`limit_indent_scope`. That filter decides each line from the
    line itself (and the first line), and every filter only cuts, so nothing generated after that point
    can reach the editor: the generation may stop there (on a CPU the 0.5B otherwise decodes the rest of
    the function to the token cap, seconds of a line start's latency)."""
    end = text.rfind("\n")
    if end <= 0:
        return False
    complete = text[:end]
    return len(limit_indent_scope(complete, ctx)) < len(complete)


def repeats_suffix_from_start(text: str, ctx: CompletionContext) -> bool:
    """Whether a suggestion still being generated will be cut whole: its first complete line (blank lines
    before it included) already reproduces what follows the cursor, so :func:`cut_suffix_repetition` cuts
    the answer from its start whatever comes next (the rule that cuts that line alone — a distinctive next
    line, or the suffix's only one, or the rest of the cursor's line — matches the whole answer at its first
    line too). A small model at a blank line between two statements often writes the next statement out
    again and then copies the rest of the function to the token cap: seconds of decode for an empty answer.
    """
    line = first_complete_line(text)
    if line is None:
        return False
    first = trim_blank(line, ctx)
    return bool(first) and not cut_suffix_repetition(first, ctx)


def first_complete_line(text: str) -> str | None:
    """``text`` up to and including the newline that ends its first non-blank line (blank lines before it
    kept: post-processing judges them); None while that line is still being written."""
    start = 0
    while (newline := text.find("\n", start)) >= 0:
        if text[start:newline].strip():
            return text[: newline + 1]
        start = newline + 1
    return None
