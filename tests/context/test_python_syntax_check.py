"""The syntax check of proposed edits (``new_syntax_errors``) on Python: tree-sitter's grammar still takes
Python 2's backquotes, so an edit leaving a stray "``" line (a model's closing fence cut short) counted as
parsing and was offered; Python's own parser says it does not."""

from __future__ import annotations

from roost.context.parsing import new_syntax_errors, syntax_errors

CLEAN = "def f(x):\n    return x + 1\n"


def test_a_stray_backquote_line_is_a_syntax_error() -> None:
    errors = new_syntax_errors("m.py", CLEAN, CLEAN + "``\n")
    assert errors is not None
    assert errors.first_line == 2 and errors.first_text == "``"


def test_clean_python_and_other_languages_are_unchanged() -> None:
    assert syntax_errors("m.py", CLEAN) == syntax_errors("m.py", CLEAN + "\n")
    assert new_syntax_errors("m.py", CLEAN, CLEAN + "y = 2\n") is None
    # A file that did not compile before may stay that way (only an increase counts).
    assert new_syntax_errors("m.py", CLEAN + "``\n", CLEAN + "``\ny = 2\n") is None
    assert new_syntax_errors("m.js", "let a = 1;\n", "let a = 1;\n``\n") is None
