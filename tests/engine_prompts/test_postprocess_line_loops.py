"""A loop within one line (the same unit written again and again to the token cap, which line-level
repetition does not see) is cut to one copy; repetition written by design is kept."""

from __future__ import annotations

import pytest

from roost.engine.completion_filters.repetition import loops_within_line
from roost.engine.postprocess import CompletionContext, cut_line_loop, postprocess

IMPORT = CompletionContext(
    prefix="from typing import Callable, ",
    suffix="\n\n\ndef f():\n    pass\n",
    language="python",
    single_line=True,
)


def test_an_import_list_looping_to_the_token_cap_keeps_one_copy() -> None:
    raw = "Dict, List, Tuple, Dict, List, Tuple, Dict, List, Tuple, Dict, List, Tuple, Dict, Li"
    assert postprocess(raw, IMPORT) == "Dict, List, Tuple"


def test_a_loop_of_calls_is_cut_after_the_first_calls_closer() -> None:
    context = CompletionContext(prefix="    names = ", suffix="\n", language="python", single_line=True)
    raw = "read(path), read(path), read(path), read(path), rea"
    assert postprocess(raw, context) == "read(path)"


def test_only_the_last_line_loop_is_cut_in_a_block() -> None:
    context = CompletionContext(prefix="def f(x):\n    ", suffix="\n", language="python")
    raw = "y = x + 1\n    return [x.value, x.value, x.value, x.value, x.val"
    assert postprocess(raw, context) == "y = x + 1\n    return [x.value"


@pytest.mark.parametrize(
    "line",
    [
        "[0, 0, 0, 0]",
        "a, b, c, d",
        '"=" * 40',
        "[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])",  # a 3x3 literal: its line ends after it
        "=" * 60,  # one character repeated: a short unit
        "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0",  # a short unit even at the token cap
        "Dict, List, Tuple, Dict, List, Tuple",  # twice is not a loop
    ],
)
def test_repetition_written_by_design_is_kept(line: str) -> None:
    context = CompletionContext(prefix="x = ", suffix="\n", language="python", single_line=True)
    assert cut_line_loop(line, context) == line
    assert not loops_within_line(line)


def test_the_cut_is_idempotent_and_a_prefix() -> None:
    raw = "Dict, List, Tuple, Dict, List, Tuple, Dict, List, Tuple, Dict, List, Tuple, Dict, Li"
    once = cut_line_loop(raw, IMPORT)
    assert raw.startswith(once) and cut_line_loop(once, IMPORT) == once


def test_the_decode_stops_one_copy_after_the_filter_would_cut() -> None:
    unit = "Dict, List, Tuple, "
    assert not loops_within_line(unit * 3 + "Di")  # three copies: a 3-row literal may still end its line
    assert loops_within_line(unit * 4)
    assert loops_within_line("def f():\n    return " + "read(path), " * 4)
    assert not loops_within_line("read(path), " * 4 + "\n    x = 1")  # the loop's line has ended


def test_a_line_of_blanks_longer_than_any_indentation_stops_the_generation() -> None:
    # Found dogfooding a Rust crate: at an empty line of a method the 0.5B wrote only spaces, for 10 s.
    assert loops_within_line("\n" + " " * 96)
    assert loops_within_line("x = 1\n" + "\t" * 80)
    assert not loops_within_line(" " * 40)
    assert not loops_within_line(" " * 96 + "return self")
