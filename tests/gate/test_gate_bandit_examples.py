"""bandit's own examples/ (from its sdist) as fixtures, with bandit's own expected findings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from roost.engine.gate import BanditSettings, Gate, VerdictKind
from roost.engine.gate.bandit_runner import WarmBandit

ROOST_PLUGIN_IDS = frozenset({"RB101", "RB102", "RB103", "RB104", "RB105"})


def _expected_counts(functional_tests: Path) -> list[tuple[str, dict, bool]]:
    """(example, expected severity/confidence counts, ignore_nosec) from bandit's test_functional.py.

    Only the plain cases are taken: a test whose body is ``expect = {...}`` then
    ``self.check_example(name, expect[, ignore_nosec=...])``.
    """
    cases = []
    tree = ast.parse(functional_tests.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or not function.name.startswith("test_"):
            continue
        body = [
            s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        if len(body) != 2 or not isinstance(body[0], ast.Assign) or not isinstance(body[1], ast.Expr):
            continue
        call = body[1].value
        if not (isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "check_example"):
            continue
        try:
            expect = ast.literal_eval(body[0].value)
            example = ast.literal_eval(call.args[0])
        except ValueError:
            continue
        ignore_nosec = any(
            k.arg == "ignore_nosec" and getattr(k.value, "value", False) for k in call.keywords
        )
        cases.append((example, expect, ignore_nosec))
    return cases


def test_in_process_runner_matches_bandits_own_expectations(bandit_sdist: Path) -> None:
    # bandit's functional expectations are for its own rules: leave Roost's plugins out for the comparison.
    runner = WarmBandit(BanditSettings(skips=ROOST_PLUGIN_IDS))
    cases = _expected_counts(bandit_sdist / "tests" / "functional" / "test_functional.py")
    assert len(cases) >= 40, "expected most of bandit's functional cases to be plain check_example calls"
    mismatches = []
    for example, expect, ignore_nosec in cases:
        source = (bandit_sdist / "examples" / example).read_text(encoding="utf-8", errors="replace")
        counts = {
            "SEVERITY": {"UNDEFINED": 0, "LOW": 0, "MEDIUM": 0, "HIGH": 0},
            "CONFIDENCE": {"UNDEFINED": 0, "LOW": 0, "MEDIUM": 0, "HIGH": 0},
        }
        try:
            issues = runner.scan_source(source, {} if ignore_nosec else None)
        except SyntaxError:
            issues = []  # bandit skips files it cannot parse
        for issue in issues:
            counts["SEVERITY"][issue.severity.value] += 1
            counts["CONFIDENCE"][issue.confidence.value] += 1
        if counts != expect:
            mismatches.append((example, expect, counts))
    assert not mismatches, mismatches


@pytest.mark.parametrize(
    ("example", "test_id", "verdict"),
    [
        ("subprocess_shell.py", "B602", VerdictKind.BLOCK),
        ("os-popen.py", "B605", VerdictKind.BLOCK),
        ("hashlib_new_insecure_functions.py", "B324", VerdictKind.BLOCK),
        ("eval.py", "B307", VerdictKind.WARN),
        ("yaml_load.py", "B506", VerdictKind.WARN),
        ("pickle_deserialize.py", "B301", VerdictKind.WARN),
        ("mktemp.py", "B306", VerdictKind.WARN),
        ("sql_statements.py", "B608", VerdictKind.WARN),
        ("random_module.py", "RB101", VerdictKind.WARN),
        ("hardcoded-passwords.py", "RB102", VerdictKind.WARN),
        ("okay.py", None, VerdictKind.PASS),
    ],
)
def test_examples_as_suggestions(bandit_sdist: Path, gate: Gate, example: str, test_id, verdict) -> None:
    source = (bandit_sdist / "examples" / example).read_text(encoding="utf-8")
    result = gate.check("python", "", source, "")
    found = {finding.test_id for finding in result.findings}
    if test_id is None:
        assert not found
    else:
        assert test_id in found
    assert result.kind is verdict or (verdict is VerdictKind.WARN and result.kind is VerdictKind.BLOCK)


def test_example_line_inserted_into_its_file_is_found_alone(bandit_sdist: Path, gate: Gate) -> None:
    """Splice one insecure line of an example back into the file: the finding is on that line only."""
    lines = (
        (bandit_sdist / "examples" / "subprocess_shell.py")
        .read_text(encoding="utf-8")
        .splitlines(keepends=True)
    )
    # A shell command built by formatting: HIGH severity. Other shell=True lines of the file are literal (LOW).
    target = next(i for i, line in enumerate(lines) if "% ('something',)" in line)
    prefix, completion, suffix = "".join(lines[:target]), lines[target], "".join(lines[target + 1 :])
    result = gate.check("python", prefix, completion, suffix)
    assert result.kind is VerdictKind.BLOCK
    assert {f.line for f in result.findings} == {1}
    assert result.scanned_as in ("unit", "document")


def test_nosec_example_model_written_nosec_is_ignored(bandit_sdist: Path, gate: Gate) -> None:
    source = (bandit_sdist / "examples" / "nosec.py").read_text(encoding="utf-8")
    as_file = gate.check_file("python", source)  # the workspace's own file: its nosec comments count
    as_suggestion = gate.check("python", "", source, "")  # written by the model: they do not
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "#nosec (on the line)" in text)
    assert len(as_suggestion.findings) > len(as_file.findings)
    assert line in {f.line for f in as_suggestion.findings if f.test_id == "B602"}
    assert line not in {f.line for f in as_file.findings}
