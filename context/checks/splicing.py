"""Texts to parse for a suggestion, in order of preference, and which of their lines the suggestion wrote.

tree-sitter parses anything, so "does not parse" means: an ERROR or MISSING node touches an inserted line.
The candidates follow Python's order: the whole spliced document, the document cut after the suggestion with
its open brackets and strings closed (a completion cut mid-call), the suggestion with the nearest lines
before it, then the suggestion alone, each closed the same way and, where the language needs one, inside a
wrapper (a Go or Rust function body, a Java method or class body, a JavaScript object).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

_PAIRS = {"(": ")", "[": "]", "{": "}"}
_WINDOW_LINES = (12, 4)


@dataclass(frozen=True)
class Splice:
    """The document with the suggestion in it; rows are 0-based document lines."""

    lines: tuple[str, ...]
    first_inserted: int
    last_inserted: int

    @classmethod
    def build(cls, prefix: str, suggestion: str, suffix: str) -> Splice:
        first = prefix.count("\n")
        # A suggestion that ends with a newline writes nothing on the line after it.
        last = first + suggestion.rstrip("\n").count("\n") if suggestion.strip("\n") else first
        return cls(tuple((prefix + suggestion + suffix).split("\n")), first, last)

    def text(self, start: int = 0, end: int | None = None) -> str:
        return "\n".join(self.lines[start:end])


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
    splice: Splice, wrappers: tuple[tuple[str, str], ...], terminator: str = ""
) -> Iterator[Candidate]:
    yield Candidate("document", splice.text(), 0)
    through_suggestion = splice.text(0, splice.last_inserted + 1)
    for closed in _closed(through_suggestion, terminator):
        yield Candidate("repaired-document", closed, 0)
    seen: set[int] = set()
    for size in _WINDOW_LINES:
        start = max(0, splice.first_inserted - size)
        if start in seen or start == 0:
            continue
        seen.add(start)
        for closed in _closed(splice.text(start, splice.last_inserted + 1), terminator):
            yield Candidate("window", closed, start)
    alone = splice.text(splice.first_inserted, splice.last_inserted + 1)
    for closed in _closed(alone, terminator):
        yield Candidate("suggestion", closed, splice.first_inserted)
    for head, tail in wrappers:
        for closed in _closed(head + "\n" + alone, terminator):
            yield Candidate("wrapped-suggestion", closed + tail, splice.first_inserted, 1)


def _closed(text: str, terminator: str) -> Iterator[str]:
    """``text`` with what it leaves open closed, then also ended as a statement (Java's and Rust's ``;``)
    before the braces of the blocks around it: ``exec(c`` + ``);}}``."""
    tail = closers(text)
    yield text + tail
    if terminator:
        brace = tail.find("}")
        inner, blocks = (tail, "") if brace < 0 else (tail[:brace], tail[brace:])
        statement = (text + inner).rstrip()
        if not statement.endswith((terminator, "{", "}")):
            yield statement + terminator + blocks


def closers(text: str) -> str:
    """What closes the strings, block comment and brackets ``text`` leaves open (a cut-off suggestion)."""
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
        elif char in "\"'`":
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
