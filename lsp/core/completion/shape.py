"""Single-line or multi-line: decided from the syntax at the cursor.

The facts of the buffer come from tree-sitter through :mod:`roost.context` (``parse_facts``); this module
only reads them. A multi-line suggestion is asked for where a block is about to be written: on an empty
line, at the very start of a line of code (lines inserted above it), or right after a block opener, or
inside a definition whose body is still empty (the header was just typed). Anywhere else (in the middle of
an expression, with code after the cursor) one line is enough and is much faster.
"""

from __future__ import annotations

from typing import Literal

from roost.context.facts import FileFacts

Shape = Literal["single", "multi"]

_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->")


def completion_shape(
    facts: FileFacts | None, lines: list[str], line: int, col: int, setting: str = "auto"
) -> Shape:
    if setting == "always":
        return "multi"
    if setting == "never":
        return "single"
    text = lines[line] if line < len(lines) else ""
    before, after = text[:col], text[col:]
    if not before and after.strip():
        # The very start of a line of code: whatever goes here is whole lines inserted above it (a
        # statement, or a block whose body leads into that line), not the end of that line.
        return "multi"
    if after.strip() and after.strip() not in (")", "]", "}", ");", "),"):
        return "single"  # code follows the cursor on this line: complete within it
    if not before.strip():
        return "multi"  # an empty (indented) line: the start of a statement or block
    if before.rstrip().endswith(_BLOCK_OPENERS):
        return "multi"
    if facts is not None:
        for definition in facts.definitions:
            span = definition.span
            # A definition whose body ends where its header does: the body is yet to be written.
            if span.start_line <= line <= span.end_line and span.end_line - span.start_line <= 1:
                header_end = definition.name_span.end_line
                if line >= header_end and span.end_line <= line:
                    return "multi"
    return "single"
