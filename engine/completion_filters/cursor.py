"""The document around the cursor as every filter sees it, and the line arithmetic the filters share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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


def line_starts(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def cut_before(starts: list[int], index: int) -> int:
    return max(0, starts[index] - 1)
