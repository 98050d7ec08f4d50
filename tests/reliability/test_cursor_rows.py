"""The cursor's analysis reads the cursor's line on the index's rows, which end at ``\\n`` alone (tree-sitter's),
as the line number it is given counts them.

Before: the text was split with ``str.splitlines``, which also breaks at form feeds (Python sources put them
between sections), ``\\x85``, U+2028 and a lone ``\\r``; after one of them the cursor's line was another line,
and the receiver and partial word before the cursor were lost. Found while fixing what the session fuzz
(test_session_fuzz) showed of pygls's splitlines.
"""

from __future__ import annotations

import pytest

from roost.context.parsing import parse_facts
from roost.context.retrieval.cursor import analyse_cursor


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\f\n", "\n\u2028# note\n", "\x85\n"])
def test_the_cursor_line_is_the_index_row(line_end: str) -> None:
    text = "import os" + line_end + "y = os.pa"
    row = text.count("\n")
    facts = parse_facts("m.py", text)
    assert facts is not None
    context = analyse_cursor(facts, text, row, len("y = os.pa"), 200)
    assert (context.receiver, context.partial) == ("os", "pa")
