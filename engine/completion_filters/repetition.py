"""Repetition, the way a small model rambles on: it writes the code after the cursor again
(:func:`cut_suffix_repetition`), repeats its own lines or the lines before the cursor
(:func:`drop_repetitions`), or loops on a unit within its last line (:func:`cut_line_loop`, and
:func:`loops_within_line`, which stops such a generation)."""

from __future__ import annotations

import re

from roost.engine.completion_filters.brackets import BRACKETS
from roost.engine.completion_filters.cursor import CompletionContext, cut_before, line_starts

# Lines that may legitimately appear twice in a row or that carry no content of their own.
_TRIVIAL_LINE = re.compile(r"^[\s)\]}{(\[,;:]*$")


def _is_distinctive(line: str) -> bool:
    """A line unlikely to appear by chance: enough content, not just brackets/punctuation."""
    return len(line.strip()) >= 8 and not _TRIVIAL_LINE.match(line)


def cut_suffix_repetition(text: str, ctx: CompletionContext) -> str:
    """Stop where the suggestion starts repeating the suffix.

    * Same line: a suggestion whose first line ends with the rest of the cursor's line (``= compute(x)``
      typed before ``  # note`` that is already there) loses that tail. Bracket-only remainders are
      left to :func:`balance_brackets`, which can tell whose bracket it is.
    * Later lines: from the first line where the suggestion reproduces the suffix's next non-blank
      lines (indentation included), everything is cut: two lines, or one distinctive line, or a
      distinctive start the suggestion ran out of tokens in.
    """
    # Lines inserted above a line of code: that line is the suffix's first line, not a tail of the
    # suggestion's first line, so the suggestion is compared with the suffix from there on.
    rest_of_line = "" if ctx.inserts_lines else ctx.current_line_suffix.strip()
    first_newline = text.find("\n")
    first_line = (text if first_newline < 0 else text[:first_newline]).rstrip()
    # Punctuation without brackets (the "," after a default value being typed) is repeated as surely as
    # code: "80," before "," read "80,,". Brackets are balance_brackets' to judge.
    repeatable = not _TRIVIAL_LINE.match(rest_of_line) or not BRACKETS.search(rest_of_line)
    if rest_of_line and repeatable and first_line.endswith(rest_of_line):
        # Cut to a fixpoint: a tail that repeats the rest of the line several times ("xx" before "x")
        # is cut whole, so running the filter again never cuts more (the pipeline is idempotent).
        kept = first_line
        while kept.endswith(rest_of_line):
            kept = kept[: len(kept) - len(rest_of_line)]
            if not kept.rstrip().endswith(rest_of_line):
                break
            kept = kept.rstrip()
        return kept

    suffix_lines = ctx.suffix.split("\n")[0 if ctx.inserts_lines else 1 :]
    following = [line.rstrip() for line in suffix_lines if line.strip()]
    if not following:
        return text
    lines = text.split("\n")
    starts = line_starts(text)
    # The suggestion's first line continues the cursor's line; it can only be a repeated *line* when
    # the cursor line is empty so far, and then it is compared with the indentation typed before it (the
    # suffix's lines carry theirs: without it, a first line that writes the next statement again was never
    # recognised, and one followed by new code was suggested as a duplicate of the line below).
    first = 0 if not ctx.current_line_prefix.strip() else 1
    if first == 0:
        lines[0] = ctx.current_line_prefix + lines[0]
    for index in range(first, len(lines)):
        candidate = [line.rstrip() for line in lines[index:] if line.strip()]
        if not candidate or candidate[0] != following[0]:
            continue
        matched = 0
        for got, want in zip(candidate, following, strict=False):
            if got != want:
                break
            matched += 1
        needed = min(len(following), 1 if _is_distinctive(following[0]) else 2)
        ran_out = matched == len(candidate) and _is_distinctive(following[0])
        if matched >= needed or ran_out:
            return text[: cut_before(starts, index)] if index > 0 else ""
    return text


def drop_repetitions(text: str, ctx: CompletionContext) -> str:
    """Cut a suggestion that loops: a block of lines that repeats immediately (a non-trivial line three
    times, a block of two or more lines twice), or that restates the last lines before the cursor."""
    starts = line_starts(text)
    lines = text.split("\n")
    # The first line continues the cursor's line: compare it with the indentation typed before it.
    lines[0] = ctx.current_line_prefix + lines[0] if not ctx.current_line_prefix.strip() else lines[0]
    significant = [bool(line.strip()) and not _TRIVIAL_LINE.match(line) for line in lines]

    # Restating the prefix: the suggestion's next complete lines equal the last lines before the cursor.
    prefix_lines = [line.rstrip() for line in ctx.prefix.split("\n")[:-1] if line.strip()]
    first = 0 if not ctx.current_line_prefix.strip() else 1
    if len(prefix_lines) >= 2:
        for index in range(first, len(lines)):
            window = [line.rstrip() for line in lines[index:] if line.strip()][:3]
            if any(
                len(window) >= size
                and window[:size] == prefix_lines[-size:]
                and any(_is_distinctive(line) for line in window[:size])
                for size in (3, 2)
            ):
                return text[: cut_before(starts, index)] if index > 0 else ""
            if lines[index].strip():
                break  # only a restatement right at the start of the suggestion counts

    for start in range(len(lines)):
        for size in range(1, min(8, (len(lines) - start) // 2) + 1):
            block = lines[start : start + size]
            if sum(significant[start : start + size]) < 1:
                continue
            repeats = 1
            while lines[start + repeats * size : start + (repeats + 1) * size] == block:
                repeats += 1
            needed = 3 if size == 1 else 2
            if size > 1 and sum(significant[start : start + size]) < 2:
                continue
            if repeats >= needed:
                end = start + size
                return text[: starts[end] - 1] if end < len(lines) else text
    return text


# A loop within a line: the same unit of at least this many characters and two tokens, three times in a row
# where the suggestion ends (a model that loops on a line writes it until the token cap; a unit repeated by
# design, such as ``0, `` in ``[0, 0, 0, 0]``, is shorter, and code repeated by design ends its line).
_LOOP_UNIT_CHARS = 8


_LOOP_COPIES = 3


# The decode stops one copy later than post-processing cuts, so the stop never ends an answer the filter
# would have kept whole (a 3-row literal being written is not stopped).
LOOP_STOP_COPIES = 4


_TOKENS = re.compile(r"\w+|[^\w\s]+")


_UNIT_BOUNDARY = " \t,;"


# Blanks no line's indentation reaches (twenty levels of four spaces).
_BLANK_RUN_CHARS = 80


def _line_loop(line: str, copies: int) -> tuple[int, int] | None:
    """Where the run of repeated units that ``line`` ends with starts, and the unit's length, when the
    shortest unit that repeats ``copies`` times there is long enough to be a loop (None otherwise)."""
    n = len(line)
    for period in range(1, n // copies + 1):
        # The last copies * period characters repeat with that period.
        if line[n - copies * period : n - period] == line[n - copies * period + period :]:
            if period < _LOOP_UNIT_CHARS or len(_TOKENS.findall(line[n - period :])) < 2:
                return None  # the shortest repetition is short: "0, 0, 0", "=" * 40 written out
            start = n - copies * period
            while start > 0 and line[start - 1] == line[start - 1 + period]:
                start -= 1
            return start, period
    return None


def loops_within_line(text: str, copies: int = LOOP_STOP_COPIES) -> bool:
    """Whether ``text`` (a suggestion still being generated) ends in a loop within its last line: the model
    writes the same unit again and again until the token cap, and :func:`cut_line_loop` keeps one copy; or
    its last line is a run of blanks longer than any indentation (at an empty line of a Rust method the 0.5B
    wrote nothing but spaces for 10 s, a suggestion :func:`trim_blank` empties)."""
    line = text[text.rfind("\n") + 1 :]
    if len(line) >= _BLANK_RUN_CHARS and not line.strip():
        return True
    return _line_loop(line, copies) is not None


def cut_line_loop(text: str, ctx: CompletionContext) -> str:
    """Cut a loop within the suggestion's last line (``from typing import Callable, ▮`` answered
    ``Dict, List, Tuple, Dict, List, Tuple, Dict, …`` to the token cap; :func:`drop_repetitions` sees only
    repeated lines): one copy of the unit is kept, cut after its last closing bracket, else after its last
    separator (``, `` is dropped with the rest). A repetition that the line goes on after is kept."""
    line_start = text.rfind("\n") + 1
    line = text[line_start:]
    loop = _line_loop(line, _LOOP_COPIES)
    if loop is None:
        return text
    start, period = loop
    ends = range(start + period, start, -1)  # the ends of one copy, latest first
    end = next((end for end in ends if line[end - 1] in ")]}"), None)
    if end is None:
        end = next(
            (end for end in ends if line[end - 1] in _UNIT_BOUNDARY and line[end] not in _UNIT_BOUNDARY),
            start + period,
        )
    return text[: line_start + end].rstrip(_UNIT_BOUNDARY)
