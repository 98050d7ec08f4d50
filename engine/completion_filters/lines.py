"""Cuts by lines: blank suggestions, single-line mode, a Markdown fence after code, and the cursor's block
(:func:`limit_indent_scope`: a suggestion stops where it dedents out of the block)."""

from __future__ import annotations

import re

from roost.engine.completion_filters.cursor import CompletionContext, cut_before, line_starts


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
            return text[: cut_before(line_starts(text), index)] if index > 0 else ""
    return text


# Keywords that continue a block at the indentation of its header (they do not leave the scope).
_CONTINUATION = re.compile(r"^(else\b|elif\b|except\b|finally\b|catch\b|case\b|default\b|\}|\)|\])")


_BLOCK_OPENERS = (":", "{", "(", "[")


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


def _previous_code_line(prefix: str) -> str | None:
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip():
            return line
    return None


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
    starts = line_starts(text)
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
            return text[: cut_before(starts, index)]
        if width < reference:
            return text[: cut_before(starts, index)]
    return text
