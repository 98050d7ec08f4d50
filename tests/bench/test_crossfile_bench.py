"""The pure helpers of bench/crossfile_bench.py: how a suggestion is scored and how cursors are picked."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import exact_match, identifier_match, leading_identifier, pick_cases  # noqa: E402
from retrieval_bench import Case  # noqa: E402


def _case(name: str) -> Case:
    return Case("pkg/a.py", 1, 4, name, "pkg/b.py", 0, f"def {name}():")


def test_identifier_match_needs_the_whole_leading_identifier() -> None:
    assert identifier_match("helper(x, y)", "helper")
    assert identifier_match("  helper", "helper")
    assert not identifier_match("helper_two(x)", "helper")  # a longer name is another name
    assert not identifier_match("self.helper(x)", "helper")  # the cursor is at the name: nothing before it
    assert not identifier_match("", "helper")
    assert leading_identifier("(x)") == ""


def test_exact_match_ignores_surrounding_whitespace_only() -> None:
    assert exact_match(" helper(x) ", "helper(x)")
    assert not exact_match("helper(x, y)", "helper(x)")


def test_pick_cases_round_robin_unseen_first_alternating() -> None:
    pools = {
        "p": [(_case("s1"), True), (_case("u1"), False), (_case("s2"), True), (_case("u2"), False)],
        "q": [(_case("qs1"), True), (_case("qs2"), True)],  # no unseen cursor: falls back to seen ones
    }
    picked = pick_cases(pools, 5)
    assert [(project, case.name) for project, case, _ in picked] == [
        ("p", "u1"),
        ("q", "qs1"),
        ("p", "s1"),
        ("q", "qs2"),
        ("p", "u2"),
    ]
    assert [seen for _, _, seen in picked] == [False, True, True, True, False]


def test_pick_cases_stops_when_every_pool_is_empty() -> None:
    assert len(pick_cases({"p": [(_case("u"), False)]}, 10)) == 1
