"""A suggestion inside a ``match`` statement: the gate prunes the tree to the suggestion's lines through the
statement's cases (``match_case`` nodes have no position of their own), instead of failing the completion."""

from __future__ import annotations

from roost.engine.gate.gate import Gate

PREFIX = (
    "import subprocess\n\n\n"
    "def area(shape):\n"
    "    match shape:\n"
    "        case Circle(radius=r):\n"
    "            return 3.14 * r * r\n"
    "        case Rect(width=w, height=h):\n"
    "            return w * h\n"
    "        case str(command):\n"
    "            "
)
SUFFIX = "\n    raise TypeError(shape)\n\n\ndef other():\n    return 1\n"


def test_a_safe_suggestion_in_a_case_passes() -> None:
    verdict = Gate().check("python", PREFIX, "return len(command)", SUFFIX)
    assert not verdict.blocked


def test_an_unsafe_suggestion_in_a_case_is_still_blocked() -> None:
    verdict = Gate().check("python", PREFIX, "return subprocess.call(command, shell=True)", SUFFIX)
    assert verdict.blocked
    assert any(finding.test_id == "B602" for finding in verdict.findings)
