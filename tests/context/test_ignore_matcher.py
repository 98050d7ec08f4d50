"""The scan's ignore matcher answers exactly as pathspec's GitIgnoreSpec does (it joins the patterns into
one regex when that gives the same answer, and hands negated specs to pathspec)."""

from __future__ import annotations

import pathspec
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.context.options import DEFAULT_EXCLUDES
from roost.context.scanning import IgnoreMatcher

GITIGNORE_LINES = (
    "# a comment",
    "",
    "*.log",
    "/generated/",
    "docs/_build",
    "**/fixtures/*.json",
    "build*/",
    "a/**/b",
    "secret?.py",
    "[Tt]emp/",
    r"\#hash.py",
    "trailing-space\\ ",
)
NEGATED_LINES = ("*.py", "!keep.py", "sub/", "!sub/inner/")

SEGMENTS = st.sampled_from(
    [
        "a",
        "b",
        "src",
        "sub",
        "inner",
        "node_modules",
        ".git",
        "build",
        "build2",
        "dist",
        "generated",
        "docs",
        "_build",
        "fixtures",
        "Temp",
        "temp",
        ".venv",
        "venv",
        "__pycache__",
        "site-packages",
        "x.py",
        "keep.py",
        "y.log",
        "data.json",
        "secret1.py",
        "#hash.py",
        "trailing-space ",
        "mod.ts",
    ]
)
PATHS = st.tuples(st.lists(SEGMENTS, min_size=1, max_size=5), st.booleans()).map(
    lambda parts_dir: "/".join(parts_dir[0]) + ("/" if parts_dir[1] else "")
)


@settings(max_examples=400, deadline=None)
@given(path=PATHS)
def test_matches_like_pathspec(path: str) -> None:
    for lines in (DEFAULT_EXCLUDES, GITIGNORE_LINES, NEGATED_LINES, ("site-packages/", "dist-packages/")):
        expected = pathspec.GitIgnoreSpec.from_lines(list(lines)).match_file(path)
        assert IgnoreMatcher(lines).matches(path) == expected, (lines, path)


def test_one_regex_unless_negated() -> None:
    assert IgnoreMatcher(DEFAULT_EXCLUDES)._combined is not None
    assert IgnoreMatcher(GITIGNORE_LINES)._combined is not None
    assert IgnoreMatcher(NEGATED_LINES)._combined is None  # order matters: pathspec decides
    empty = IgnoreMatcher(["# only a comment", ""])
    assert not empty.matches("anything.py") and not empty.matches("dir/")
