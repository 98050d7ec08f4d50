"""Whatever text arrives, the gate answers: no exception, and unparsable Python is never "pass"."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roost.engine.gate import Gate, VerdictKind
from roost.engine.gate.batch import answer

_GATE = Gate()
_PIECES = st.sampled_from(
    [
        "def f(x):\n",
        "    ",
        "return ",
        "eval(x)",
        "subprocess.call(c, shell=True)",
        "import subprocess\n",
        "(",
        ")",
        "[",
        '"""',
        "'",
        "\\\n",
        "\n",
        "# nosec\n",
        "class A:\n",
        "\x00",
        "\ud800",
        "é",
        "\u202e",
        "x = 1\n",
        "if x:\n",
    ]
)
_TEXT = st.lists(_PIECES, max_size=12).map("".join) | st.text(max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=_TEXT, completion=_TEXT, suffix=_TEXT, language=st.sampled_from(["python", "go", "weird"]))
def test_gate_always_answers(prefix: str, completion: str, suffix: str, language: str) -> None:
    verdict = _GATE.check(language, prefix, completion, suffix)
    assert verdict.kind in set(VerdictKind)
    json.dumps(verdict.to_json())
    if verdict.kind is VerdictKind.PASS and language == "python" and completion.strip():
        # Repaired units and windows parsed in their context with only closers or a body added: scanned.
        assert verdict.scanned_as in (
            "unit",
            "repaired-unit",
            "window",
            "repaired-window",
            "document",
            "suggestion",
            "suggestion-lines",
            "doctest",
            "comment",
        )
    for finding in verdict.findings:
        # A lone "\r" ends a line, as for Python's tokenizer and LSP clients.
        assert 1 <= finding.line <= completion.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


@settings(max_examples=60, deadline=None)
@given(line=st.text(max_size=60))
def test_batch_line_always_gets_one_json_answer(line: str) -> None:
    result = answer(_GATE, line)
    assert ("error" in result) != ("verdict" in result)
    json.dumps(result)
