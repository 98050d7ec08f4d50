"""Retrieval reads files on the index's rows (a line ends at "\\n" alone), as definitions' spans count them:
with ``str.splitlines`` a form feed (an Emacs page break, as older Python code has) or U+2028 above a
definition shifted every row after it, and the snippet shown for the definition was other lines."""

from __future__ import annotations

from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.facts import text_rows

BUDGET_CHARS = 6000


def test_text_rows_end_only_at_newlines() -> None:
    assert text_rows("a\fb\r\nc\u2028d\n") == ["a\fb", "c\u2028d", ""]


def test_a_definition_after_a_form_feed_is_shown_with_its_own_lines(make_project):
    helpers = (
        "def unrelated():\n    return 0\n\n\f\n# \u2028 a page break above, and a line separator here\n\n"
        "def normalize_header(value):\n    return value.strip().lower()\n"
    )
    root = make_project({"pkg/__init__.py": "", "pkg/helpers.py": helpers})
    request = request_at_marker(
        "pkg/main.py",
        """
        from pkg.helpers import normalize_header

        def read(raw):
            return normalize_header(<|>)
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    shown = [item.text for item in result.items if item.path == "pkg/helpers.py"]
    assert any(text.startswith("def normalize_header(value):\n    return value.strip()") for text in shown), (
        shown
    )
