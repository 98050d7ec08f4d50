"""The retry instruction after an answer that gutted functions shows each function's old statements (the
bundled 0.5B, only told which function lost its body, answered the same signature and docstring again)."""

from __future__ import annotations

from roost.engine.prompts.edit import MAX_QUOTED_BODY_LINES, gutted_complaint


def test_each_gutted_function_is_named_with_the_statements_it_had() -> None:
    complaint = gutted_complaint(
        [("count", "    return len(set(text))"), ("Store.get", "    return 1")], "python"
    )
    assert "`count`, `Store.get` without a body" in complaint
    assert "The body of `count` was:\n```python\n    return len(set(text))\n```" in complaint
    assert "The body of `Store.get` was:\n```python\n    return 1\n```" in complaint


def test_a_long_body_is_quoted_up_to_the_limit() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_QUOTED_BODY_LINES + 5))
    complaint = gutted_complaint([("long", body)], "python")
    assert f"x{MAX_QUOTED_BODY_LINES - 1} = " in complaint and f"x{MAX_QUOTED_BODY_LINES} = " not in complaint
    assert "(5 more lines)" in complaint
