"""BM25 windows, packing and the options: the parts of retrieval that need no graph."""

from __future__ import annotations

import pytest

from roost.context.retrieval import Candidate, CandidateKind, RetrievalOptions
from roost.context.retrieval.bm25 import BM25WindowIndex, split_windows
from roost.context.retrieval.packing import pack


def test_windows_cover_every_line_with_overlap():
    windows = split_windows("a.py", 45, 20, 10)
    assert [(w.start_line, w.end_line) for w in windows] == [(0, 19), (10, 29), (20, 39), (30, 44)]
    assert split_windows("a.py", 5, 20, 10)[0].end_line == 4
    assert split_windows("a.py", 0, 20, 10) == []


def test_bm25_ranks_the_window_sharing_rare_terms_and_updates_incrementally():
    index = BM25WindowIndex(window_lines=3, stride=3)
    index.set_file("math_utils.py", "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n")
    index.set_file("strings.py", "def shout(text):\n    return text.upper()\n")
    index.set_file("more.py", "def lcm(a, b):\n    return a * b // gcd(a, b)\n")
    hits = index.search("result = gcd(a, b) while b", limit=3)
    assert hits[0][0].path == "math_utils.py"
    assert all(window.path != "strings.py" for window, _ in hits)
    assert [w.path for w, _ in index.search("gcd", exclude={"math_utils.py"})] == ["more.py"]
    index.remove_file("math_utils.py")
    assert all(w.path != "math_utils.py" for w, _ in index.search("gcd while"))
    index.set_file("more.py", "def nothing():\n    pass\n")
    assert index.search("gcd lcm") == []


def _candidate(
    path: str, start: int, end: int, text: str, score: float, kind=CandidateKind.DEFINITION, symbol=None
):
    return Candidate(path, start, end, text, kind, score, "test", symbol)


def test_pack_respects_budget_best_first_and_skips_what_does_not_fit():
    candidates = [
        _candidate("a.py", 0, 0, "x" * 50, 0.9),
        _candidate("b.py", 0, 0, "y" * 80, 0.8),  # does not fit after a.py
        _candidate("c.py", 0, 0, "z" * 30, 0.1),  # a smaller, lower one still fits
    ]
    result = pack(candidates, 100, len, lambda t: t)
    assert [i.path for i in result.items] == ["a.py", "c.py"]
    assert result.tokens == 80 <= result.budget
    assert any("over budget" in why for _, why in result.dropped)


def test_pack_drops_duplicates_and_what_the_prompt_shows():
    candidates = [
        _candidate("lib.py", 0, 5, "def f():\n    return 1\n\ndef g():\n    return 2", 0.9, symbol="f"),
        _candidate("lib.py", 3, 4, "def g():\n    return 2", 0.8, kind=CandidateKind.IMPORT),
        _candidate("lib.py", 0, 5, "other rendering", 0.7, symbol="f"),
        _candidate("cur.py", 10, 12, "visible", 0.95),
        _candidate("cur.py", 100, 102, "far away", 0.5),
    ]
    result = pack(candidates, 10_000, len, lambda t: t, current_path="cur.py", visible_lines=(0, 50))
    assert [(i.path, i.start_line) for i in result.items] == [("lib.py", 0), ("cur.py", 100)]
    reasons = sorted(why.split(" ")[0] for _, why in result.dropped)
    assert reasons == ["already", "duplicate", "overlaps"]


def test_pack_redacts_before_counting():
    result = pack(
        [_candidate("s.py", 0, 0, "token = 'abc'", 1.0)], 100, len, lambda t: t.replace("abc", "[R]")
    )
    assert result.items[0].text == "token = '[R]'"
    assert result.items[0].tokens == len("token = '[R]'")


def test_options_reject_impossible_windows():
    with pytest.raises(ValueError):
        RetrievalOptions(window_lines=0)
