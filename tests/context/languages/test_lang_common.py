"""The shared helpers of the language modules: comment stripping and qualification by containment."""

from __future__ import annotations

import pytest

from roost.context.languages._common import join_rel, parent_dirs, strip_comment


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("/** doc */", "doc"),
        ("/**\n * A shopping cart.\n * Holds line items.\n */", "A shopping cart.\nHolds line items."),
        ("/**\n * code:\n *     indented\n */", "code:\n    indented"),
        ("// a\n// b", "a\nb"),
        ("/// x\n///   y", "x\n  y"),
        ("//! inner", "inner"),
        ("/* plain */", "plain"),
        ("/*\n no star\n   more\n*/", "no star\n  more"),
        ("/***/", ""),
        ("//", ""),
    ],
)
def test_strip_comment(comment: str, expected: str) -> None:
    assert strip_comment(comment) == expected


@pytest.mark.parametrize(
    ("directory", "relative", "expected"),
    [
        ("src", "./a", "src/a"),
        ("src/x", "../a", "src/a"),
        ("", "./a", "a"),
        ("src", "..", ""),
        ("src", "../..", None),  # escapes the workspace
        ("", "../a", None),
    ],
)
def test_join_rel(directory: str, relative: str, expected: str | None) -> None:
    assert join_rel(directory, relative) == expected


def test_parent_dirs() -> None:
    assert list(parent_dirs("a/b/c.ts")) == ["a/b", "a", ""]
    assert list(parent_dirs("c.ts")) == [""]
