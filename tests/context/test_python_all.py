"""``__all__`` edits of a Python move (context/refactor/python_all.py): the list's own layout kept."""

from __future__ import annotations

import pytest

from roost.context.refactor.python_all import with_export, without_export


def _apply(text: str, replacement: object) -> str:
    if replacement is None:
        return text
    return text[: replacement.start] + replacement.new_text + text[replacement.end :]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('__all__ = ["keep", "moved"]\n', '__all__ = ["keep"]\n'),
        ('__all__ = ["moved", "keep"]\n', '__all__ = ["keep"]\n'),
        ("__all__ = ('moved',)\n", "__all__ = ()\n"),
        ('__all__ = [\n    "a",\n    "moved",\n]\n', '__all__ = [\n    "a",\n]\n'),
        ('__all__ = ["a",\n           "moved"]\n', '__all__ = ["a"]\n'),
        ('# é\n__all__ = ["é", "moved", "b"]\n', '# é\n__all__ = ["é", "b"]\n'),  # offsets in characters
        ('__all__ = [f"moved", "x"]\n', '__all__ = [f"moved", "x"]\n'),  # not a plain string: left
        ('__all__ += ["moved"]\n', '__all__ += ["moved"]\n'),  # not a literal assignment: left
    ],
)
def test_without_export(before: str, after: str) -> None:
    assert _apply(before, without_export("m.py", before, "moved")) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('__all__ = ["a", "b"]\n', '__all__ = ["a", "b", "new"]\n'),
        ("__all__ = ['a',]\n", "__all__ = ['a', 'new',]\n"),
        ('__all__ = [\n    "a",\n]\n', '__all__ = [\n    "a",\n    "new",\n]\n'),
        ("__all__ = []\n", '__all__ = ["new"]\n'),
        ("__all__ = ()\n", '__all__ = ("new",)\n'),
        ('__all__ = ["new"]\n', '__all__ = ["new"]\n'),  # listed already
        ("x = 1\n", "x = 1\n"),  # no list: none made
    ],
)
def test_with_export(before: str, after: str) -> None:
    assert _apply(before, with_export("m.py", before, "new")) == after
