"""Post-processing of inline completions: a pipeline of small filters, each a pure function.

Every filter takes the suggestion and the text around the cursor and returns a *prefix* of the
suggestion (filters only ever cut), so the pipeline is safe to compose in any order and idempotent.
The candidates of one request are deduplicated at the end.

Why these filters: small code models ramble past the end of the hole (they repeat the suffix, loop on
a line, or keep writing the next function), and ghost text that duplicates what is already on screen
or closes a bracket the suffix already closes is worse than no suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {v: k for k, v in _CLOSERS.items()}
# Lines that may legitimately appear twice in a row or that carry no content of their own.
_TRIVIAL_LINE = re.compile(r"^[\s)\]}{(\[,;:]*$")
_BRACKETS = re.compile(r"[()\[\]{}]")
# Keywords that continue a block at the indentation of its header (they do not leave the scope).
_CONTINUATION = re.compile(r"^(else\b|elif\b|except\b|finally\b|catch\b|case\b|default\b|\}|\)|\])")
_BLOCK_OPENERS = (":", "{", "(", "[")
# A Rust char literal: one character or one escape between quotes (anything else after a quote is a lifetime).
_RUST_CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")
_LINE_COMMENT = {"python": "#", "ruby": "#", "shellscript": "#", "r": "#", "perl": "#", "yaml": "#"}


@dataclass(frozen=True)
class CompletionContext:
    """The document around the cursor. ``prefix`` ends at the cursor, ``suffix`` starts there."""

    prefix: str
    suffix: str
    language: str = ""
    single_line: bool = False
    tab_size: int = 4

    @property
    def current_line_prefix(self) -> str:
        return self.prefix.rsplit("\n", 1)[-1]

    @property
    def current_line_suffix(self) -> str:
        return self.suffix.split("\n", 1)[0]

    @property
    def inserts_lines(self) -> bool:
        """The cursor is at the very start of a line of code: what is written there goes in as whole lines
        above that line, so a suggestion keeps the newline that separates it from the line."""
        return not self.current_line_prefix and bool(self.current_line_suffix.strip())


Filter = Callable[[str, CompletionContext], str]


def _indent_width(line: str, tab_size: int) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += tab_size - width % tab_size
        else:
            break
    return width


def _line_starts(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


# ------------------------------------------------------------------------------------------ filters


def trim_blank(text: str, ctx: CompletionContext) -> str:
    """Whitespace-only suggestions become empty; trailing blank lines are dropped (they would only push
    the suffix down), and trailing spaces too unless text follows the cursor on its line (``x = 1 +``
    before ``y`` needs its space). Leading whitespace is indentation and is kept."""
    if not text.strip():
        return ""
    text = re.sub(r"(\n[ \t]*)+$", "", text)
    return text.rstrip() if not ctx.current_line_suffix.strip() else text


def single_line_cut(text: str, ctx: CompletionContext) -> str:
    """In single-line mode, keep the first line with content. If the cursor line is already complete
    and the model starts on the next line, that next line is the suggestion (newline included)."""
    if not ctx.single_line:
        return text
    newline = text.find("\n")
    if newline < 0:
        return text
    if text[:newline].strip():
        return text[:newline]
    following = text.find("\n", newline + 1)
    # Blank first line: keep the leading newline(s) and the first line with content.
    while following >= 0 and not text[newline + 1 : following].strip():
        newline, following = following, text.find("\n", following + 1)
    return text if following < 0 else text[:following]


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
    repeatable = not _TRIVIAL_LINE.match(rest_of_line) or not _BRACKETS.search(rest_of_line)
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
    starts = _line_starts(text)
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
            return text[: _cut_before(starts, index)] if index > 0 else ""
    return text


def drop_repetitions(text: str, ctx: CompletionContext) -> str:
    """Cut a suggestion that loops: a block of lines that repeats immediately (a non-trivial line three
    times, a block of two or more lines twice), or that restates the last lines before the cursor."""
    starts = _line_starts(text)
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
                return text[: _cut_before(starts, index)] if index > 0 else ""
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


# Documents where a Markdown code fence is text of their own.
_FENCED_LANGUAGES = frozenset({"markdown", "mdx", "plaintext", "restructuredtext", "rst", ""})


def cut_at_code_fence(text: str, ctx: CompletionContext) -> str:
    """Stop before a Markdown code fence at the start of a line of a code document: a small model that has
    written a program into an empty file goes on as a chat answer would (a closing fence, then prose:
    "In this example, we define…"). Where the document already holds a fence (a docstring's example), a
    fence may be the user's and is kept."""
    if ctx.language in _FENCED_LANGUAGES or "```" in ctx.prefix or "```" in ctx.suffix:
        return text
    lines = text.split("\n")
    first = 0 if not ctx.current_line_prefix.strip() else 1  # the first line continues the cursor's
    for index in range(first, len(lines)):
        line = (ctx.current_line_prefix + lines[0]) if index == 0 else lines[index]
        if line.startswith("```"):
            return text[: _cut_before(_line_starts(text), index)] if index > 0 else ""
    return text


def limit_indent_scope(text: str, ctx: CompletionContext) -> str:
    """Keep the suggestion inside the block the cursor is in: stop at the first line that dedents out
    of it (a completion inside a function body stops before the next top-level definition).

    The reference is the cursor line's indentation. If the code before the cursor opens a block
    (``def f():``, ``{``), the block's body is indented deeper and a line back at the reference
    indentation ends it, except block continuations (``else:``, ``except``, a closing brace) — a
    closing brace is kept once and ends the suggestion.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    tab = ctx.tab_size
    cursor_line = ctx.current_line_prefix
    if cursor_line.strip():
        # The statement started before the cursor; if it (completed by the first line) opens a block,
        # the suggestion is that block.
        reference = _indent_width(cursor_line, tab)
        opens_block = (cursor_line + lines[0]).rstrip().endswith(_BLOCK_OPENERS)
    else:
        previous = _previous_code_line(ctx.prefix)
        if previous is not None and previous.rstrip().endswith(_BLOCK_OPENERS):
            # A blank line right under a block header: the suggestion is that block's body.
            reference = _indent_width(previous, tab)
            opens_block = True
        else:
            # Cursor at column 0: the suggestion's first line sets the level.
            reference = _indent_width(cursor_line or lines[0], tab)
            opens_block = False
    starts = _line_starts(text)
    if opens_block and not cursor_line.strip():
        # Under a block header, the suggestion's first line is a full line of its own: back at the
        # header's indentation it is not the body (the model skipped it and wrote the next function).
        first = cursor_line + lines[0]
        if (
            first.strip()
            and _indent_width(first, tab) <= reference
            and not _CONTINUATION.match(first.strip())
        ):
            return ""
    for index in range(1, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        width = _indent_width(line, tab)
        stripped = line.strip()
        if opens_block:
            if width > reference:
                continue
            if width == reference and _CONTINUATION.match(stripped):
                if stripped[0] in "})]" and not stripped.rstrip(";,").endswith(("{", ":")):
                    # The block's closing line: keep it, nothing after it belongs to the block.
                    end = starts[index + 1] - 1 if index + 1 < len(lines) else len(text)
                    return text[:end]
                continue
            return text[: _cut_before(starts, index)]
        if width < reference:
            return text[: _cut_before(starts, index)]
    return text


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


def _previous_code_line(prefix: str) -> str | None:
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip():
            return line
    return None


def _cut_before(starts: list[int], index: int) -> int:
    return max(0, starts[index] - 1)


def _bracket_events(text: str, language: str) -> list[tuple[int, str]]:
    """Positions of brackets outside string literals and line comments (a line-based approximation:
    good enough for the few lines around a cursor)."""
    comment = _LINE_COMMENT.get(language, "//")
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


def _plain_brackets(text: str) -> list[tuple[int, str]]:
    """Every bracket of ``text`` with its position (text inside a string literal: nothing to skip)."""
    return [(match.start(), match.group()) for match in _BRACKETS.finditer(text)]


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


def _cut_closers_already_there(
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
    return _cut_closers_already_there(
        text,
        _bracket_events("\n".join(ctx.prefix.split("\n")[-30:]), ctx.language),
        _bracket_events("\n".join(ctx.suffix.split("\n")[:30]), ctx.language),
        _bracket_events(text, ctx.language),
    )


def _string_open_at_end(line: str, language: str) -> tuple[str, int] | None:
    """The quote of the string literal ``line`` ends inside and where it opened, or None (outside one,
    after a line comment, or where quotes are not simple: a triple-quoted string, a Rust lifetime)."""
    if '"""' in line or "'''" in line:
        return None
    comment = _LINE_COMMENT.get(language, "//")
    quote: str | None = None
    opened = 0
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in '"`' or (ch == "'" and language != "rust"):
            quote, opened = ch, i
        elif line.startswith(comment, i):
            return None
        i += 1
    return None if quote is None else (quote, opened)


def _closing_quote(line: str, quote: str) -> int | None:
    """Where the first unescaped ``quote`` of ``line`` (inside a string literal) is."""
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            return i
        i += 1
    return None


def stay_in_string(text: str, ctx: CompletionContext) -> str:
    """Do not close a string the rest of the line already closes: in ``log("chunk`` + ``");`` (the editor
    closed the quote), a suggestion ``size = ", n);`` becomes ``size = `` and the line reads right, instead
    of the suffix's quote opening a new string; nor a bracket the rest of the string closes. Only the
    suggestion's first line is looked for the quote: a string literal (other than a template literal) ends
    on its line."""
    opened = _string_open_at_end(ctx.current_line_prefix, ctx.language)
    if opened is None:
        return text
    quote, start = opened
    close = _closing_quote(ctx.current_line_suffix, quote)
    if close is None:
        return text
    end = _closing_quote(text.split("\n", 1)[0], quote)
    kept = text if end is None else text[:end]
    # In a string, brackets are plain characters: an f-string's ``{`` or a template literal's ``${`` opened
    # before the cursor that the rest of the string closes is not closed again (``f"Hello {`` + ``}"`` with
    # ``name}!`` keeps ``name``).
    return _cut_closers_already_there(
        kept,
        _plain_brackets(ctx.current_line_prefix[start + 1 :]),
        _plain_brackets(ctx.current_line_suffix[:close]),
        _plain_brackets(kept),
    )


# Languages whose lines hold JSX tags and type arguments, both closed by a ``>`` of their own.
_ANGLE_LANGUAGES = frozenset({"javascript", "typescript", "javascriptreact", "typescriptreact"})


def _angle_closers(line: str) -> tuple[int, int | None]:
    """Read ``line`` outside strings and ``{…}`` (a JSX attribute's value, an arrow's body): the angles it
    leaves open (a tag ``<li``, a type argument ``Map<``; ``a < b`` with a space is a comparison) and where
    its first ``>`` that closes an angle opened before it is (None: none does)."""
    open_angles = 0
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "{(":
            depth += 1
        elif ch in "})":
            depth = max(0, depth - 1)
        elif depth == 0 and ch == "<" and line[i + 1 : i + 2] not in ("=", "<"):
            before, after = line[i - 1 : i] if i else "", line[i + 1 : i + 2]
            if after.isalpha() or (before.isalnum() or before == "_"):
                open_angles += 1
        elif depth == 0 and ch == ">" and line[i - 1 : i] not in ("=", "-") and line[i + 1 : i + 2] != "=":
            if open_angles == 0:
                return 0, i
            open_angles -= 1  # the line's own
        i += 1
    return open_angles, None


def stay_in_tag(text: str, ctx: CompletionContext) -> str:
    """Do not close a JSX tag or a type argument the rest of the line already closes: at
    ``<li key={todo.id} className=▮ onClick={…}>`` the 0.5B wrote ``{todo.done ? "done" : ""}>``, and the
    accepted line ended the tag before ``onClick`` (``…""}> onClick={…}>``). The suggestion's first line is
    cut before its ``>`` (or ``/>``) that closes an angle open at the cursor, as ``balance_brackets`` does
    for brackets."""
    if ctx.language not in _ANGLE_LANGUAGES:
        return text
    open_angles, _ = _angle_closers(ctx.current_line_prefix)
    if open_angles == 0 or _angle_closers(ctx.current_line_suffix)[1] is None:
        return text
    first_line = text.split("\n", 1)[0]
    _, close = _angle_closers(first_line)
    if close is None:
        return text
    return first_line[: close - 1 if first_line[close - 1 : close] == "/" else close].rstrip()


# -------------------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class PostprocessOptions:
    # Order matters little (every filter only cuts) but cheap, decisive cuts go first.
    filters: tuple[Filter, ...] = field(
        default=(
            trim_blank,
            single_line_cut,
            cut_line_loop,
            cut_at_code_fence,
            cut_suffix_repetition,
            drop_repetitions,
            limit_indent_scope,
            balance_brackets,
            stay_in_string,
            stay_in_tag,
            trim_blank,
        )
    )


def postprocess(text: str, ctx: CompletionContext, options: PostprocessOptions | None = None) -> str:
    """Run the filters; returns a prefix of ``text`` (possibly empty: show nothing).

    Between a bracket pair (``return {▮}``) a multi-line suggestion that closes the bracket on a line of its
    own keeps that line, and the editor's item replaces the closer after the cursor with it
    (:func:`replaced_closers`): cut before its own ``}``, the suggestion's last line would be glued to the
    editor's (``"b": 2}``). Otherwise the closers after the cursor are the suffix's, as everywhere."""
    replacing = _without_closers_after_cursor(ctx)
    if replacing is not None and "\n" in text.strip("\n"):
        kept = _filtered(text, replacing, options)
        if replaced_closers(kept, ctx):
            return kept
    return _filtered(text, ctx, options)


def _filtered(text: str, ctx: CompletionContext, options: PostprocessOptions | None) -> str:
    original = text
    for step in (options or PostprocessOptions()).filters:
        text = step(text, ctx)
        if not text:
            return ""
    return _keep_line_break(text, original, ctx)


def _closers_after_cursor(ctx: CompletionContext) -> str:
    """The closing brackets right after the cursor on its line (``}`` in ``return {▮}``, ``})`` in
    ``f({▮})``)."""
    rest = ctx.current_line_suffix
    return rest[: len(rest) - len(rest.lstrip(")]}"))]


def _without_closers_after_cursor(ctx: CompletionContext) -> CompletionContext | None:
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


def _keep_line_break(kept: str, original: str, ctx: CompletionContext) -> str:
    """Lines inserted above a line of code end with the model's own newline (the filters cut before line
    breaks; without it the last suggested line would be glued to the code after the cursor). Only the
    newline the model wrote right after the kept text is restored, so the result is still a prefix."""
    if ctx.inserts_lines and not kept.endswith("\n") and original[len(kept) : len(kept) + 1] == "\n":
        return kept + "\n"
    return kept


def dedupe_candidates(candidates: Iterable[str], ctx: CompletionContext | None = None) -> list[str]:
    """Drop empty candidates and those equal to an earlier one up to trailing whitespace; keep order.
    With ``ctx``, a candidate that only restates the text right after the cursor is dropped too."""
    seen: set[str] = set()
    unique: list[str] = []
    following = ctx.suffix.lstrip() if ctx is not None else ""
    for candidate in candidates:
        key = "\n".join(line.rstrip() for line in candidate.rstrip().split("\n"))
        if not key.strip() or key in seen:
            continue
        if following and following.startswith(key.strip()):
            continue
        seen.add(key)
        unique.append(candidate)
    return unique


def postprocess_candidates(
    candidates: Sequence[str], ctx: CompletionContext, options: PostprocessOptions | None = None
) -> list[str]:
    """Post-process each candidate, then deduplicate."""
    return dedupe_candidates((postprocess(c, ctx, options) for c in candidates), ctx)
