"""Texts to parse for a suggestion, in order of preference, and which of their lines the suggestion wrote.

tree-sitter parses anything, so "does not parse" means: an ERROR or MISSING node touches an inserted line.
The candidates follow Python's order: the whole spliced document, the document cut after the suggestion with
its open brackets and strings closed (a completion cut mid-call), the suggestion with the nearest lines
before it, then the suggestion alone, each closed the same way and, where the language needs one, inside a
wrapper (a Go or Rust function body, a Java method or class body, a JavaScript object).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_PAIRS = {"(": ")", "[": "]", "{": "}"}
_QUOTES = "\"'`"
_WINDOW_LINES = (12, 4)
# The document is read this far around the suggestion (lines, and characters): a rule looks at one statement,
# and tree-sitter's error recovery over a few KB of broken code (a cut-off suggestion, a window cut from a
# file) costs ~2 ms per KB for Rust.
_LINES_BEFORE, _CHARS_BEFORE = 60, 2000
_LINES_AFTER, _CHARS_AFTER = 20, 800
# A suggestion that starts by closing blocks (``} else {``, ``} catch (e) {``) parses after a stand-in opening.
_LEADING_CLOSERS = re.compile(r"^\s*(?:[)\]}]\s*[,;]?\s*)+")
# A binary operator, comma, assignment or opening bracket that a cut-off suggestion ends with.
_DANGLING_OPERATOR = re.compile(r"(?:[-+*/%&|^<>=,(]|&&|\|\|)\s*$")
_CONTINUATIONS = {"else": "if (a) {} ", "catch": "try {} ", "finally": "try {} "}


@dataclass(frozen=True)
class Splice:
    """The document with the suggestion in it; rows are 0-based document lines."""

    lines: tuple[str, ...]
    first_inserted: int
    last_inserted: int

    @classmethod
    def build(cls, prefix: str, suggestion: str, suffix: str) -> Splice:
        """The spliced text, kept to the lines around the suggestion (rows are counted within them)."""
        first = prefix.count("\n")
        # A suggestion that ends with a newline writes nothing on the line after it.
        last = first + suggestion.rstrip("\n").count("\n") if suggestion.strip("\n") else first
        lines = (prefix + suggestion + suffix).split("\n")
        start = _bounded(lines, first, -1, _LINES_BEFORE, _CHARS_BEFORE)
        end = _bounded(lines, last, 1, _LINES_AFTER, _CHARS_AFTER)
        return cls(tuple(lines[start : end + 1]), first - start, last - start)

    def text(self, start: int = 0, end: int | None = None) -> str:
        return "\n".join(self.lines[start:end])


def _bounded(lines: list[str], row: int, step: int, max_lines: int, max_chars: int) -> int:
    """The farthest row from ``row`` (going by ``step``) within both limits of context."""
    chars = 0
    for count in range(1, max_lines + 1):
        neighbour = row + step * count
        if not 0 <= neighbour < len(lines):
            return row + step * (count - 1)
        chars += len(lines[neighbour]) + 1
        if chars > max_chars:
            return row + step * (count - 1)
    return row + step * max_lines


@dataclass(frozen=True)
class Candidate:
    """A text to parse: document rows ``start`` and on, after ``lead`` wrapper lines."""

    kind: str
    text: str
    start: int
    lead: int = 0

    def document_row(self, row: int) -> int | None:
        """The document row of one of this text's rows, or None for wrapper lines."""
        real = row - self.lead
        return None if real < 0 else self.start + real


def candidates(
    splice: Splice, wrappers: tuple[str, ...], terminator: str = "", quotes: str = _QUOTES
) -> Iterator[Candidate]:
    yield Candidate("document", splice.text(), 0)
    through_suggestion = splice.text(0, splice.last_inserted + 1)
    for closed in _closed(through_suggestion, terminator, quotes):
        yield Candidate("repaired-document", closed, 0)
    seen: set[int] = set()
    for size in _WINDOW_LINES:
        start = max(0, splice.first_inserted - size)
        if start in seen or start == 0:
            continue
        seen.add(start)
        for closed in _closed(splice.text(start, splice.last_inserted + 1), terminator, quotes):
            yield Candidate("window", closed, start)
    alone = splice.text(splice.first_inserted, splice.last_inserted + 1)
    for closed in _closed(alone, terminator, quotes):
        yield Candidate("suggestion", closed, splice.first_inserted)
    reopened = _reopened(alone)
    if reopened is not None:
        for closed in _closed(reopened, terminator, quotes):
            yield Candidate("suggestion", closed, splice.first_inserted)
    # The wrappers' own brackets are closed by ``closers`` with the suggestion's. Lines that all start with
    # ``*`` are also read as the rest of a block comment the window was cut in (`` * text``, `` */``).
    in_comment = all(line.lstrip().startswith("*") for line in alone.split("\n") if line.strip())
    for head in (*wrappers, "/*") if in_comment else wrappers:
        for closed in _closed(head + "\n" + alone, terminator, quotes):
            yield Candidate("wrapped-suggestion", closed, splice.first_inserted, 1)


def _reopened(text: str) -> str | None:
    """``text`` without the closing brackets it starts with, behind a stand-in for what they continue
    (``} else {`` is read as ``if (a) {} else {``); None when it starts with none. Columns of the first line
    shift, rows do not."""
    match = _LEADING_CLOSERS.match(text)
    if match is None:
        return None
    rest = text[match.end() :]
    keyword = re.match(r"(else|catch|finally)\b", rest)
    return (_CONTINUATIONS[keyword.group(1)] if keyword else "") + rest


def _closed(text: str, terminator: str, quotes: str) -> Iterator[str]:
    """``text`` with what it leaves open closed, then also ended as a statement (Java's and Rust's ``;``)
    before the braces of the blocks around it: ``exec(c`` + ``);}}``. A text cut after an operator or a comma
    (``exec(cmd +``) is also tried with a stand-in operand (a trailing comma alone is often valid)."""
    variants = [text, text + " a"] if _DANGLING_OPERATOR.search(text) else [text]
    for variant in variants:
        tail = closers(variant, quotes)
        yield variant + tail
        if terminator:
            brace = tail.find("}")
            inner, blocks = (tail, "") if brace < 0 else (tail[:brace], tail[brace:])
            statement = (variant + inner).rstrip()
            if not statement.endswith((terminator, "{", "}")):
                yield statement + terminator + blocks


def closers(text: str, quotes: str = _QUOTES) -> str:
    """What closes the strings, block comment and brackets ``text`` leaves open (a cut-off suggestion).
    ``quotes``: the characters that open a string (not Rust's ``'``, which also starts a lifetime)."""
    stack: list[str] = []
    quote = ""
    i, n = 0, len(text)
    in_block_comment = False
    while i < n:
        char = text[i]
        if in_block_comment:
            if text.startswith("*/", i):
                in_block_comment = False
                i += 1
        elif quote:
            if char == "\\":
                i += 1
            elif char == quote or (char == "\n" and quote != "`"):
                quote = ""
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            in_block_comment = True
            i += 1
        elif char in quotes:
            quote = char
        elif char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in ")]}" and stack and stack[-1] == char:
            stack.pop()
        i += 1
    tail = ""
    if in_block_comment:
        tail += "*/"
    if quote:
        tail += quote
    return tail + "".join(reversed(stack))
