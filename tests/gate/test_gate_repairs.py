"""Cut-off suggestions are repaired just enough to parse in their unit, then scanned (issue gate-coverage).

A model stops mid-call, inside a string, after a block header or a continuation backslash; a prompt window cut
from a file may not parse on its own. Each repair kind is checked here end to end through ``Gate.check``,
plus the rules that keep repairs honest: findings on prefix lines never count, a string opened before the
suggestion is never closed over it, and a line the model ended itself is not "repaired".
"""

from __future__ import annotations

import pytest

from roost.engine.gate import Gate, VerdictKind
from roost.engine.gate.repair import open_tail, python2_statement_as_call, repaired_bodies

METHOD_PREFIX = (
    "import os\n"
    "import random\n"
    "import subprocess\n"
    "import time\n"
    "\n"
    "class Shape:\n"
    "    def build(self, d, cursor):\n"
    "        b = random.randint(0, d)\n"
)
SCANNED_IN_CONTEXT = ("repaired-unit", "window", "repaired-window")


def _ids(verdict) -> set[str]:
    return {finding.test_id for finding in verdict.findings}


# -- dangling block headers ----------------------------------------------------------------------------


def test_dangling_header_gets_a_body_and_is_scanned_in_its_unit(gate: Gate) -> None:
    verdict = gate.check("python", METHOD_PREFIX, "        if b == d and random.randint(0, 1):")
    assert verdict.scanned_as == "repaired-unit"
    assert {"B311", "RB101"} <= _ids(verdict)
    assert all(finding.line == 1 for finding in verdict.findings)


def test_dangling_except_is_read_with_the_try_of_the_prefix(gate: Gate) -> None:
    # Alone, "except Exception:" parses nowhere; in its unit, with a body, it is bandit's B110.
    verdict = gate.check("python", "def f(g):\n    try:\n        g()\n", "    except Exception:")
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.kind is VerdictKind.PASS  # B110 is LOW: reported, not flagged
    assert "B110" in _ids(verdict)


# -- calls and strings cut off --------------------------------------------------------------------------


def test_call_cut_inside_a_string_is_closed_and_scanned(gate: Gate) -> None:
    completion = (
        "        cursor.execute(\"UPDATE problem SET last_date='{date}' WHERE id={id};\""
        ".format(date=time.strftime('%Y-%m-%d %H:%M:"
    )
    verdict = gate.check("python", METHOD_PREFIX, completion)
    assert verdict.scanned_as == "repaired-unit"
    assert "RB103" in _ids(verdict)
    assert verdict.flagged and verdict.kind is not VerdictKind.UNSCANNED


def test_call_cut_after_its_bracket_is_scanned_not_unscanned(gate: Gate) -> None:
    # Nothing dangerous has been written yet; what follows is gated when the model writes it.
    verdict = gate.check("python", METHOD_PREFIX, "        rc = subprocess.check_output(")
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.kind is VerdictKind.PASS


def test_a_line_the_model_ended_with_a_string_open_is_not_repaired(gate: Gate) -> None:
    # A newline after an unterminated one-line string is a syntax error, not a cut.
    verdict = gate.check("python", METHOD_PREFIX, "        cursor.execute(\"UPDATE t SET a='{a}'\n")
    assert verdict.kind is VerdictKind.UNSCANNED


@pytest.mark.parametrize(
    "completion",
    [
        "        if c ==",  # an operand owed: a placeholder name
        "        for e",  # a loop cut before its iterable
        "        while not is_ready(st",  # a header cut before its colon
        "        note_map = {'o': ",  # a dict value owed
        "        result.",  # an attribute owed
    ],
)
def test_line_cut_at_any_token_is_completed_and_scanned(gate: Gate, completion: str) -> None:
    verdict = gate.check("python", METHOD_PREFIX, completion)
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.kind is VerdictKind.PASS


def test_placeholder_operand_neither_adds_nor_hides_findings(gate: Gate) -> None:
    verdict = gate.check("python", METHOD_PREFIX, '        cursor.execute("SELECT * FROM t WHERE id=" +')
    assert verdict.scanned_as == "repaired-unit"
    assert "B608" in _ids(verdict)  # the model built the statement by concatenation


# -- backslash continuations ----------------------------------------------------------------------------


def test_dangling_backslash_continuation_is_completed(gate: Gate) -> None:
    completion = '        os.system("adb shell screencap -p > %s" % os.path.join(self.out, "screen") \\'
    verdict = gate.check("python", METHOD_PREFIX, completion)
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.blocked and "B605" in _ids(verdict)


def test_secure_backslash_continuation_is_scanned_clean(gate: Gate) -> None:
    verdict = gate.check("python", METHOD_PREFIX, '        out = subprocess.check_output(["git", "log"]) \\')
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.kind is VerdictKind.PASS


# -- prompt windows that do not parse ------------------------------------------------------------------


def test_window_cut_mid_call_scans_the_statements_above(gate: Gate) -> None:
    # The window opens inside someone's call; the suggestion finishes a call the prefix started.
    prefix = "import subprocess\n        timeout=5,\n    )\n\n    proc = subprocess.Popen(cmd,\n"
    verdict = gate.check("python", prefix, "                            shell=True)")
    assert verdict.scanned_as in SCANNED_IN_CONTEXT
    assert verdict.blocked and "B602" in _ids(verdict)


def test_complete_assignment_glued_onto_a_comment_is_scanned(gate: Gate) -> None:
    # The completion lands on the prefix's comment line: the document reads it as comment text.
    prefix = "import random\n\n    client.connect(\n    )\n\n    # start from a random offset"
    verdict = gate.check("python", prefix, "        self.subnet_idx = random.randint(0, 100)")
    assert {"B311", "RB101"} <= _ids(verdict)
    assert verdict.flagged


def test_repair_never_turns_the_suggestion_into_a_string_opened_above(gate: Gate) -> None:
    # A window cut inside a docstring reads inside out; closing that "string" would hide the code.
    prefix = 'text of a docstring\n"""\nimport subprocess\ndef f(cmd):\n    x = 1\n'
    verdict = gate.check("python", prefix, "    subprocess.call(cmd, shell=True)")
    assert verdict.blocked and "B602" in _ids(verdict)


# -- more text the model writes that does not parse as Python 3 ----------------------------------------


@pytest.mark.parametrize(
    ("prefix", "completion", "test_id"),
    [
        ("def f(co, environ):\n", "    exec co in environ", "B102"),
        ("import os\ndef f(c):\n", "    print 'out:', os.popen(c).read()", "B605"),
    ],
)
def test_python2_statements_are_scanned_as_calls(
    gate: Gate, prefix: str, completion: str, test_id: str
) -> None:
    verdict = gate.check("python", prefix, completion)
    assert verdict.kind is not VerdictKind.UNSCANNED
    assert test_id in _ids(verdict)


def test_doctest_examples_are_scanned_as_code(gate: Gate) -> None:
    prefix = 'import hashlib\n\ndef digest():\n    """Digest.\n\n    >>> import hashlib\n'
    verdict = gate.check("python", prefix, "    >>> m = hashlib.md5()")
    assert verdict.scanned_as == "doctest"
    assert "B324" in _ids(verdict) and verdict.blocked


def test_lone_carriage_returns_end_lines(gate: Gate) -> None:
    verdict = gate.check("python", "import pickle\r\ndef f(b):\r", "    return pickle.loads(b)\r")
    assert verdict.scanned_as == "unit"
    assert "B301" in _ids(verdict)


def test_comment_lines_of_their_own_pass(gate: Gate) -> None:
    verdict = gate.check("python", METHOD_PREFIX, "        # remove trailing")
    assert verdict.kind is VerdictKind.PASS and verdict.scanned_as == "comment"


def test_model_written_nosec_comment_on_a_code_line_is_not_a_free_pass(gate: Gate) -> None:
    prefix = "import subprocess\ndef f(cmd):\n    subprocess.call(cmd, shell=True)"
    verdict = gate.check("python", prefix, "  # nosec")
    assert verdict.kind is not VerdictKind.PASS


# -- what counts -------------------------------------------------------------------------------------------


def test_findings_on_prefix_lines_do_not_count_in_a_repaired_unit(gate: Gate) -> None:
    prefix = "import subprocess\n\ndef f(cmd, data):\n    subprocess.call(cmd, shell=True)\n    eval(data)\n"
    verdict = gate.check("python", prefix, "    digest = hashlib.sha256(data")
    assert verdict.scanned_as == "repaired-unit"
    assert verdict.kind is VerdictKind.PASS
    assert verdict.findings == ()


def test_findings_on_prefix_lines_do_not_count_in_a_window(gate: Gate) -> None:
    prefix = "import subprocess\n        timeout=5,\n    )\n    subprocess.call(cmd, shell=True)\n    rows = fetch(\n"
    verdict = gate.check("python", prefix, "        table)")
    assert verdict.scanned_as in SCANNED_IN_CONTEXT
    assert verdict.findings == ()


def test_suggestion_out_of_its_context_stays_unscanned(gate: Gate) -> None:
    # Inside the prefix's open list, "y = 1" is not a statement: repairing from there would misread it.
    verdict = gate.check("python", "x = [\n", "y = 1\nz = (\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED


# -- the repair functions themselves ------------------------------------------------------------------


def test_open_tail_reports_brackets_strings_and_comments() -> None:
    tail = open_tail("f(a, [b, 'c")
    assert tail is not None and tail.closers == "])" and tail.quote == "'" and tail.quote_at == 9
    tail = open_tail("f(a  # why")
    assert tail is not None and tail.closers == ")" and tail.comment_at == 5
    assert open_tail("f(a]") is None
    assert open_tail("x = 'a\ny'") is None


def test_python2_statement_as_call() -> None:
    assert python2_statement_as_call("    exec code in g, l") == "    exec(code, g, l)"
    assert python2_statement_as_call("print >>sys.stderr, 'x'") == "print('x', file=sys.stderr)"
    assert python2_statement_as_call("print x,") == "print(x,)"
    assert python2_statement_as_call("print(x)") is None
    assert python2_statement_as_call("print = 3") is None


def test_repaired_bodies_closers_go_before_a_trailing_comment() -> None:
    lines = [(0, "def f():"), (1, "    run(cmd,  # why")]
    repaired = list(repaired_bodies(lines, lambda origin: origin == 1, cut_mid_line=True))
    assert repaired[0] == [(0, "def f():"), (1, "    run(cmd,)  # why")]
