"""A new Python import goes after the module's own imports, never after one inside a function or an
``if``/``try`` block. Found moving attrs' ``filters._split_what`` into ``_funcs.py``: the move's
``from ._make import Attribute`` went in after ``import typing`` inside ``resolve_types`` at column 0, which
cut the function in two (IndentationError on ``import attr``)."""

from __future__ import annotations

import ast

from index_support import apply_replacements

from roost.context.refactor.imports import add_import

FUNCS = (
    '"""Helpers."""\nimport copy\n\nfrom ._make import NOTHING\n\n\n'
    "def resolve_types(cls):\n    if cls:\n        import typing\n\n        hints = typing.get_type_hints(cls)\n"
    "    return cls\n"
)
GUARDED = (
    "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
    "    from ._make import Factory\n    from ._make import NOTHING\n\n\ndef f():\n    return 1\n"
)


def _with_import(text: str) -> str:
    files = {"attr/__init__.py", "attr/_funcs.py", "attr/_make.py"}
    insertion = add_import("attr/_funcs.py", text, "Attribute", "attr/_make.py", files.__contains__)
    return apply_replacements(text, [insertion])


def test_an_import_inside_a_function_is_not_the_place() -> None:
    after = _with_import(FUNCS)
    ast.parse(after)
    assert after.startswith(
        '"""Helpers."""\nimport copy\n\nfrom ._make import NOTHING\nfrom ._make import Attribute\n'
    )


def test_imports_under_if_type_checking_are_not_the_place() -> None:
    after = _with_import(GUARDED)
    ast.parse(after)
    assert "from typing import TYPE_CHECKING\nfrom ._make import Attribute\n" in after
