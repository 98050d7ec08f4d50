"""A FIM answer that drifts into a chat answer (a closing Markdown fence, then prose) in a code document is
cut before the fence; in Markdown, or where the document already holds a fence, a fence is text."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess

# What the bundled model wrote into an empty Python file of the rich package (the dogfood session).
DRIFT = (
    "import rich\n\nclass MyRichText(rich.Text):\n    def __init__(self, text):\n"
    '        super().__init__(text)\n\n# Example usage\nmy_text = MyRichText("Hello, world!")\n'
    "print(my_text)\n```\n\nIn this example, we define a class `MyRichText` that inherits from `rich.Text`."
)
CODE = DRIFT[: DRIFT.index("\n```")]


def test_a_code_document_stops_before_the_fence_and_the_prose() -> None:
    assert postprocess(DRIFT, CompletionContext(prefix="", suffix="", language="python")) == CODE


def test_a_fence_at_the_cursor_line_leaves_nothing() -> None:
    context = CompletionContext(prefix="x = 1\n", suffix="\n", language="python")
    assert postprocess("```\n\nThis sets x.", context) == ""


def test_markdown_keeps_its_fences() -> None:
    context = CompletionContext(prefix="# Usage\n\n```python\n", suffix="", language="markdown")
    assert postprocess("import rich\n```\n\nThen run it.", context) == "import rich\n```\n\nThen run it."


def test_a_document_that_holds_a_fence_keeps_one_in_the_suggestion() -> None:
    prefix = 'def render():\n    """Render.\n\n    Example:\n\n    ```python\n    '
    context = CompletionContext(prefix=prefix, suffix='\n    """\n', language="python")
    assert postprocess("render()\n    ```", context) == "render()\n    ```"


def test_an_indented_fence_in_a_new_docstring_is_kept() -> None:
    context = CompletionContext(prefix='def f():\n    """', suffix="\n", language="python")
    text = 'Run it.\n\n    ```\n    f()\n    ```\n    """'
    assert postprocess(text, context) == text
