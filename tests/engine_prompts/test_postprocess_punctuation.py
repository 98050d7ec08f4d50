"""A suggestion that ends with the punctuation the rest of the line already has (no brackets): the
punctuation is not doubled. Found driving the server on click (a value typed before the comma already
there): ``width: int = ‸,`` got ``80,`` (``width: int = 80,,``), ``stderr_bytes=‸,`` got ``stderr,``."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, cut_suffix_repetition, postprocess


def ctx(prefix: str, suffix: str, language: str = "python") -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language)


def test_a_comma_the_line_has_is_not_repeated() -> None:
    assert postprocess("80,", ctx("def bar(\n    width: int = ", ",\n    fill: str = '#',\n):\n")) == "80"
    assert postprocess("stderr,", ctx("    return Result(\n        stderr_bytes=", ",\n    )\n")) == "stderr"


def test_a_semicolon_the_line_has_is_not_repeated() -> None:
    assert postprocess("items.length;", ctx("const n = ", ";\n", "javascript")) == "items.length"


def test_brackets_are_still_left_to_bracket_balancing() -> None:
    # ")" may be the suggestion's own (it opened one) or the suffix's: cut_suffix_repetition does not judge.
    assert cut_suffix_repetition("g(x))", ctx("print(", ")\n")) == "g(x))"
    assert postprocess("g(x))", ctx("print(", ")\n")) == "g(x)"
