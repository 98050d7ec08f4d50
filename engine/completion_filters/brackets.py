"""Brackets: a suggestion does not close what the code after the cursor closes already
(:func:`balance_brackets`), and where it closes the closers right after the cursor on a line of its own, the
editor's item replaces them (:func:`replaced_closers`). Brackets are read outside string literals and line
comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from roost.engine.completion_filters.cursor import CompletionContext

_CLOSERS = {")": "(", "]": "[", "}": "{"}


_OPENERS = {v: k for k, v in _CLOSERS.items()}


BRACKETS = re.compile(r"[()\[\]{}]")


# A Rust char literal: one character or one escape between quotes (anything else after a quote is a lifetime).
_RUST_CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")


LINE_COMMENT = {"python": "#", "ruby": "#", "shellscript": "#", "r": "#", "perl": "#", "yaml": "#"}


def _bracket_events(text: str, language: str) -> list[tuple[int, str]]:
    """Positions of brackets outside string literals and line comments (a line-based approximation:
    good enough for the few lines around a cursor)."""
    comment = LINE_COMMENT.get(language, "//")
    events: list[tuple[int, str]] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote or (ch == "\n" and quote != "`"):
                quote = None
        elif ch == "'" and language == "rust":
            # A Rust quote is a char literal ('{', '\n') or a lifetime ('a, which no quote closes): read as
            # a string, a lifetime hid the brackets after it up to the next quote (fn get<'a>(&'a self, ▮)
            # lost its "(", so a suggestion closing it doubled the ")" already there).
            literal = _RUST_CHAR.match(text, i)
            i = literal.end() if literal else i + 1
            continue
        elif ch in "\"'`":
            quote = ch
        elif text.startswith(comment, i):
            newline = text.find("\n", i)
            if newline < 0:
                break
            i = newline
            continue
        elif ch in _CLOSERS or ch in _OPENERS:
            events.append((i, ch))
        i += 1
    return events


def plain_brackets(text: str) -> list[tuple[int, str]]:
    """Every bracket of ``text`` with its position (text inside a string literal: nothing to skip)."""
    return [(match.start(), match.group()) for match in BRACKETS.finditer(text)]


def _closed_through(open_stack: list[str], closed: int, ch: str) -> int | None:
    """How many brackets of ``open_stack`` (its ``closed`` innermost ones closed already) the closer ``ch``
    closes: the next one where it matches, or for a brace, the next brace and the parentheses and brackets
    left open above it (code with a syntax error before the cursor: in ``void close(String owner {`` the
    ``(`` is never closed, and the class's ``}`` closes through it, as a parser recovers); None: none."""
    depth = len(open_stack) - closed
    if depth > 0 and open_stack[depth - 1] == _CLOSERS[ch]:
        return 1
    if ch != "}":
        return None
    for index in range(depth - 1, -1, -1):
        if open_stack[index] == "{":
            return depth - index
        if open_stack[index] not in "([":
            return None
    return None


def cut_closers_already_there(
    text: str,
    before: Iterable[tuple[int, str]],
    after: Iterable[tuple[int, str]],
    written: Iterable[tuple[int, str]],
) -> str:
    """``text`` cut at its first closer that, together with what comes after the cursor (``after``: its
    brackets) closing the brackets left open before it (``before``), would close one too many; ``written``
    are ``text``'s own brackets. Unchanged where nothing after the cursor closes one of them."""
    open_stack: list[str] = []
    for _, ch in before:
        if ch in _OPENERS:
            open_stack.append(ch)
        elif (through := _closed_through(open_stack, 0, ch)) is not None:
            del open_stack[len(open_stack) - through :]
    # How many of those the rest closes, innermost first, before it opens its own.
    closes = 0
    own: list[str] = []
    for _, ch in after:
        if ch in _OPENERS:
            own.append(ch)
        elif own:
            own.pop()
        elif (through := _closed_through(open_stack, closes, ch)) is not None:
            closes += through
        else:
            break
    if closes == 0:
        return text
    allowed = len(open_stack) - closes
    own = []
    closed_outer = 0
    for position, ch in written:
        if ch in _OPENERS:
            own.append(ch)
        elif own:
            own.pop()
        else:
            closed_outer += 1
            if closed_outer > allowed:
                return text[:position]
    return text


def balance_brackets(text: str, ctx: CompletionContext) -> str:
    """Do not close a bracket the suffix already closes: ``print(foo(`` + ``x))`` with ``)`` after the
    cursor becomes ``x)``. The suggestion is cut at its first closer that, together with the suffix's
    own closers, would close more brackets than the prefix left open. Where nothing after the cursor closes
    a bracket, whatever the suggestion closes is needed (and a short prefix window may not show every open
    bracket, so there is nothing to balance against)."""
    # The few lines around the cursor are enough to know which brackets are open at it and closed after.
    return cut_closers_already_there(
        text,
        _bracket_events("\n".join(ctx.prefix.split("\n")[-30:]), ctx.language),
        _bracket_events("\n".join(ctx.suffix.split("\n")[:30]), ctx.language),
        _bracket_events(text, ctx.language),
    )


def _closers_after_cursor(ctx: CompletionContext) -> str:
    """The closing brackets right after the cursor on its line (``}`` in ``return {▮}``, ``})`` in
    ``f({▮})``)."""
    rest = ctx.current_line_suffix
    return rest[: len(rest) - len(rest.lstrip(")]}"))]


def without_closers_after_cursor(ctx: CompletionContext) -> CompletionContext | None:
    """``ctx`` as a suggestion that replaces the closers after the cursor sees it (they are gone), or None
    where no closer follows the cursor."""
    closers = _closers_after_cursor(ctx)
    if not closers:
        return None
    return replace(ctx, suffix=ctx.suffix[len(closers) :])


def replaced_closers(text: str, ctx: CompletionContext) -> int:
    """How many characters after the cursor the editor's item for ``text`` replaces (0: it is inserted).

    Where closing brackets follow the cursor on its line (``return {▮}``) and a multi-line ``text`` closes
    those same brackets itself, innermost first, and ends there (after what the line has after them, such as
    ``;``), the item replaces them with ``text``: the accepted block reads as the model wrote it, its closer
    on a line of its own. The editors apply the item's range (LSP's ``InlineCompletionItem.range``), as
    Copilot and Tabby replace an auto-closed bracket. ``text`` may close more of the brackets open at the
    cursor than those closers where the rest of the document does not close them (the rest of a nested block
    whose first line the user accepted: ``{"a": {▮}``)."""
    closers = _closers_after_cursor(ctx)
    if not closers:
        return 0
    open_stack = _open_brackets(ctx)
    own: list[str] = []
    closed = 0
    last_close = -1
    for position, ch in _bracket_events(text, ctx.language):
        if ch in _OPENERS:
            own.append(ch)
        elif own:
            own.pop()
        else:
            # The next bracket open at the cursor, and the next of the closers after the cursor while any.
            if closed >= len(open_stack) or open_stack[-1 - closed] != _CLOSERS[ch]:
                return 0
            if closed < len(closers) and ch != closers[closed]:
                return 0
            closed += 1
            last_close = position
    if closed == 0 or "\n" not in text[:last_close]:
        return 0  # a closer on the cursor's line: cut before it and inserted reads the same
    if closed > len(closers):
        # Only where what follows the closers leaves that many open: else the document gets one too many.
        rest = "\n".join(ctx.suffix[len(closers) :].split("\n")[:30])
        still_open = open_stack[: len(open_stack) - len(closers)]
        if closed - len(closers) > len(still_open) - _closed_by(still_open, rest, ctx.language):
            return 0
    # After its last closer the suggestion may write what the line has after the closers (``;``), no more.
    tail = text[last_close + 1 :].rstrip()
    if tail and not (closed == len(closers) and ctx.current_line_suffix[closed:].startswith(tail)):
        return 0
    return min(closed, len(closers)) + len(tail)


def _open_brackets(ctx: CompletionContext) -> list[str]:
    """The brackets open at the cursor (outermost first), from the few lines before it."""
    open_stack: list[str] = []
    for _, ch in _bracket_events("\n".join(ctx.prefix.split("\n")[-30:]), ctx.language):
        if ch in _OPENERS:
            open_stack.append(ch)
        elif open_stack and open_stack[-1] == _CLOSERS[ch]:
            open_stack.pop()
    return open_stack


def _closed_by(open_stack: list[str], text: str, language: str) -> int:
    """How many of ``open_stack``'s brackets ``text`` closes, innermost first, around its own pairs."""
    closes = 0
    own: list[str] = []
    for _, ch in _bracket_events(text, language):
        if ch in _OPENERS:
            own.append(ch)
        elif own:
            own.pop()
        elif closes < len(open_stack) and open_stack[-1 - closes] == _CLOSERS[ch]:
            closes += 1
        else:
            break
    return closes
