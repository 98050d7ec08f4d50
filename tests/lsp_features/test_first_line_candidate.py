"""The first-line candidate of a multi-line answer (tried when the gate blocks the whole, and offered beside
it) starts where the answer does. Found driving the server on a Go module: at ``if err != nil {▮`` the answer
``\\n\\t\\treturn nil, err\\n\\t}`` had the candidate ``\\t\\treturn nil, err``, which the editor put on the
brace's line (``if err != nil {\\t\\treturn nil, err``)."""

from __future__ import annotations

from roost.lsp.core.completion.candidates import postprocess_candidates
from roost.lsp.core.completion.outcome import CompletionInput

GO_PREFIX = "func f() ([]string, error) {\n\tresult, err := convFunc(sval)\n\tif err != nil {"
GO_SUFFIX = "\n\treturn result, nil\n}\n"


def request(prefix: str, suffix: str, language: str, path: str) -> CompletionInput:
    text = prefix + suffix
    lines = prefix.split("\n")
    return CompletionInput(
        path, language, text, len(lines) - 1, len(lines[-1]), len(prefix), uri=f"file:///w/{path}"
    )


def test_the_first_line_candidate_keeps_the_newline_the_answer_starts_with() -> None:
    candidates = postprocess_candidates(
        "\n\t\treturn nil, err\n\t}\n", request(GO_PREFIX, GO_SUFFIX, "go", "flag.go"), "multi"
    )
    assert candidates == ["\n\t\treturn nil, err\n\t}", "\n\t\treturn nil, err"]


def test_an_answer_starting_on_the_cursors_line_keeps_its_first_line_there() -> None:
    prefix = "def f(x):\n    "
    candidates = postprocess_candidates(
        "y = x + 1\n    return y\n", request(prefix, "\n", "python", "a.py"), "multi"
    )
    assert candidates == ["y = x + 1\n    return y", "y = x + 1"]
