"""The cursor's analysis reads a bounded window before the cursor, whatever the line's length.

Before: the receiver and partial-word patterns searched the whole line before the cursor from every start,
quadratic in its length: an inline completion at the end of a 20 000-character line (minified code, a data
literal) took 16 s of CPU, a 40 000-character one over a minute, and the requests behind it waited. Found by
the session fuzz (test_session_fuzz) as completions left unanswered for 30 s.
"""

from __future__ import annotations

import re

import pytest

from roost.context.parsing import parse_facts
from roost.context.retrieval import cursor

LONG = 5_000


class _Recording:
    """A compiled pattern that records the length of each text it searches."""

    def __init__(self, pattern: re.Pattern[str], lengths: list[int]) -> None:
        self.pattern, self.lengths = pattern, lengths

    def search(self, text: str) -> re.Match[str] | None:
        self.lengths.append(len(text))
        return self.pattern.search(text)


def test_the_patterns_search_a_bounded_window(monkeypatch: pytest.MonkeyPatch) -> None:
    lengths: list[int] = []
    for name in ("_MEMBER_AT_CURSOR", "_PARTIAL_AT_CURSOR", "_AFTER_CALL"):
        monkeypatch.setattr(cursor, name, _Recording(getattr(cursor, name), lengths))
    text = "data = " + "ab" * (LONG // 2) + "\n"
    facts = parse_facts("m.py", text)
    assert facts is not None
    cursor.analyse_cursor(facts, text, 0, len(text) - 1, 200)
    assert lengths and max(lengths) < 1_000


@pytest.mark.parametrize(
    ("tail", "receiver", "partial"),
    [("; shapes.circle.ar", "shapes.circle", "ar"), (" + are", None, "are")],
)
def test_the_cursor_is_still_read_at_the_end_of_a_long_line(
    tail: str, receiver: str | None, partial: str
) -> None:
    line = "data = " + "x" * LONG + tail
    text = line + "\n"
    facts = parse_facts("m.py", text)
    assert facts is not None
    context = cursor.analyse_cursor(facts, text, 0, len(line), 200)
    assert (context.receiver, context.partial) == (receiver, partial)
