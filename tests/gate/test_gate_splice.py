"""The gate on suggestions spliced into documents: what counts, fallbacks, nosec, config, languages."""

from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from roost.engine.gate import Gate, GateOptions, Level, Policy, VerdictKind

INSECURE_PREFIX = textwrap.dedent(
    """\
    import subprocess
    import hashlib

    def existing(cmd):
        subprocess.call(cmd, shell=True)

    def digest(data):
    """
)


def test_only_inserted_lines_count(gate: Gate) -> None:
    # The document already has a shell=True call; a harmless suggestion must not be blamed for it.
    verdict = gate.check("python", INSECURE_PREFIX + "    ", "return hashlib.sha256(data).hexdigest()\n", "")
    assert verdict.kind is VerdictKind.PASS
    assert verdict.findings == ()


def test_finding_line_is_relative_to_the_completion(gate: Gate) -> None:
    completion = "h = hashlib.sha256(data)\n    old = hashlib.md5(data)\n    return h\n"
    verdict = gate.check("python", INSECURE_PREFIX + "    ", completion, "\n\nprint(1)\n")
    assert verdict.kind is VerdictKind.BLOCK
    assert [(f.test_id, f.line) for f in verdict.findings] == [("B324", 2)]
    assert verdict.scanned_as == "unit"


def test_completion_continuing_a_call_of_the_prefix(gate: Gate) -> None:
    # The call starts in the prefix; the suggestion adds shell=True on the next line.
    prefix = "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd,\n"
    verdict = gate.check("python", prefix, "                    shell=True)\n", "")
    assert verdict.kind is VerdictKind.BLOCK
    assert verdict.findings[0].test_id == "B602"
    assert verdict.findings[0].line == 1


def test_completion_mid_line(gate: Gate) -> None:
    verdict = gate.check("python", "def f(source):\n    value = ", "eval(source)", "\n    return value\n")
    assert [f.test_id for f in verdict.findings] == ["B307"]
    assert verdict.findings[0].line == 1


def test_unit_fallback_when_the_rest_of_the_buffer_is_broken(gate: Gate) -> None:
    prefix = "import pickle\n\ndef load(blob):\n    "
    suffix = "\n\ndef broken(:\n    return [\n"
    verdict = gate.check("python", prefix, "return pickle.loads(blob)", suffix)
    assert verdict.scanned_as == "unit"
    assert [f.test_id for f in verdict.findings] == ["B301"]


def test_suggestion_fallback_keeps_the_files_imports(gate: Gate) -> None:
    # Nothing around the suggestion parses, but `system` must still be understood as os.system.
    prefix = "from os import system\n\nclass Broken(\n    def run(self, name):\n        "
    verdict = gate.check("python", prefix, 'system("rm -rf " + name)\n', "    ]]]\n")
    assert verdict.scanned_as == "suggestion"
    assert "B605" in {f.test_id for f in verdict.findings}
    assert verdict.blocked


def test_suggestion_ending_in_a_block_header(gate: Gate) -> None:
    prefix = "import subprocess\ndef f(cmds):\n    if (\n"
    verdict = gate.check(
        "python", prefix, "    for c in cmds: subprocess.call(c, shell=True)\n    while x:\n", ""
    )
    assert "B602" in {f.test_id for f in verdict.findings}


@pytest.mark.parametrize(
    "completion",
    [
        "eval(x if (\n",
        "def (:\n    return ]\n",
        "print('unterminated\n",
    ],
)
def test_nothing_parses_is_unscanned_never_pass(gate: Gate, completion: str) -> None:
    verdict = gate.check("python", "def broken(:\n    ", completion, "\n  ]]\n")
    assert verdict.kind is VerdictKind.UNSCANNED
    assert verdict.action is VerdictKind.WARN  # the default policy for unscanned Python
    assert verdict.flagged
    assert verdict.to_json()["verdict"] == "unscanned"


def test_unscanned_policy_is_configurable() -> None:
    strict = Gate(GateOptions(policy=Policy(unscanned=VerdictKind.BLOCK)))
    verdict = strict.check("python", "", "eval(x if (\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED
    assert verdict.blocked
    # A user may choose to let unscanned code through; it is still reported as unscanned, never as clean.
    lenient = Gate(GateOptions(policy=Policy(unscanned=VerdictKind.PASS)))
    verdict = lenient.check("python", "", "eval(x if (\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED and verdict.action is VerdictKind.PASS
    assert verdict.to_json()["verdict"] == "unscanned"
    with pytest.raises(ValueError):
        Policy(unscanned=VerdictKind.UNSCANNED)


def test_partly_parsed_suggestion_without_findings_is_not_clean(gate: Gate) -> None:
    verdict = gate.check("python", "x = [\n", "y = 1\nz = (\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED


def test_model_written_nosec_is_ignored(gate: Gate) -> None:
    prefix = "import subprocess\ndef f(cmd):\n    "
    for comment in ("# nosec", "# nosec B602", "# nosec: subprocess_popen_with_shell_equals_true"):
        verdict = gate.check("python", prefix, f"subprocess.call(cmd, shell=True)  {comment}\n", "")
        assert verdict.blocked, comment


def test_workspace_nosec_on_untouched_lines_is_honoured(gate: Gate) -> None:
    # The user's own nosec on a multi-line call the suggestion completes still applies to that call...
    prefix = "import subprocess\ndef f(cmd):\n    subprocess.call(  # nosec B602\n        cmd,\n"
    verdict = gate.check("python", prefix, "        shell=True)\n", "")
    assert "B602" not in {f.test_id for f in verdict.findings}
    # ...and can be switched off.
    strict = Gate(GateOptions(honour_workspace_nosec=False))
    assert "B602" in {f.test_id for f in strict.check("python", prefix, "        shell=True)\n", "").findings}


def test_workspace_pyproject_skips_and_levels(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B307"]\n', encoding="utf-8")
    gate = Gate(GateOptions(workspace_root=tmp_path))
    assert gate.check("python", "", "eval(x)\n", "").kind is VerdictKind.PASS
    assert gate.check("python", "import hashlib\n", "hashlib.md5(b'')\n", "").blocked
    # Edited while the server runs: picked up on the next check.
    (tmp_path / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B324"]\n', encoding="utf-8")
    import os

    os.utime(tmp_path / "pyproject.toml", (1, 1))
    assert gate.check("python", "", "eval(x)\n", "").kind is VerdictKind.WARN
    assert not gate.check("python", "import hashlib\n", "hashlib.md5(b'')\n", "").findings


def test_workspace_dot_bandit_ini(tmp_path: Path) -> None:
    (tmp_path / ".bandit").write_text("[bandit]\nskips = B602,B604\nlevel = HIGH\n", encoding="utf-8")
    gate = Gate(GateOptions(workspace_root=tmp_path))
    assert gate.bandit_settings.skips == frozenset({"B602", "B604"})
    assert gate.bandit_settings.min_severity is Level.HIGH
    assert (
        gate.check("python", "import subprocess\n", "subprocess.call(c, shell=True)\n", "").kind
        is VerdictKind.PASS
    )
    # Below the configured minimum severity: not reported at all.
    assert gate.check("python", "", "eval(x)\n", "").findings == ()


def test_broken_workspace_config_is_a_clear_error(tmp_path: Path) -> None:
    from roost.engine.gate import WorkspaceConfigError

    (tmp_path / "pyproject.toml").write_text("[tool.bandit\n", encoding="utf-8")
    with pytest.raises(WorkspaceConfigError, match="pyproject.toml"):
        Gate(GateOptions(workspace_root=tmp_path))


def test_without_a_rule_scanner_other_languages_get_the_secret_scan_only(gate: Gate) -> None:
    # The fixture's gate has no rule scanner (lsp passes context's); engine alone scans Python only.
    js = gate.check("javascript", "", "eval(userInput);\n", "")
    assert js.kind is VerdictKind.PASS
    assert js.scanned_as == "secrets-only"
    assert any("secret scan" in note for note in js.notes)
    leaked = gate.check("go", "", 'token := "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"\n', "")
    assert leaked.blocked
    assert leaked.findings[0].test_id == "secret:github-token"


def test_policy_thresholds() -> None:
    lenient = Gate(GateOptions(policy=Policy(block_severity=Level.HIGH, block_confidence=Level.HIGH)))
    prefix = "import subprocess\n"
    # B602 on a formatted command is HIGH/HIGH: still blocked.
    assert lenient.check("python", prefix, "subprocess.call('ls ' + d, shell=True)\n", "").blocked
    warn_only = Gate(GateOptions(policy=Policy(block_severity=Level.UNDEFINED, block_confidence=Level.HIGH)))
    assert warn_only.check("python", "", "eval(x)\n", "").blocked  # MEDIUM/HIGH now blocks


def test_json_shape(gate: Gate) -> None:
    payload = gate.check("python", "", "eval(x)\n", "").to_json()
    assert set(payload) == {"verdict", "findings", "ms"}
    assert payload["findings"] == [
        {
            "test_id": "B307",
            "severity": "MEDIUM",
            "confidence": "HIGH",
            "cwe": 78,
            "line": 1,
            "message": payload["findings"][0]["message"],
        }
    ]
    assert isinstance(payload["ms"], float)


def test_concurrent_checks_agree(gate: Gate) -> None:
    requests = [
        ("import subprocess\n", "subprocess.call(c, shell=True)\n"),
        ("", "eval(x)\n"),
        ("", "x = 1\n"),
        ("import hashlib\n", "hashlib.md5(b'')\n"),
    ] * 25
    expected = [gate.check("python", p, c, "").to_json()["findings"] for p, c in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda r: gate.check("python", r[0], r[1], "").to_json()["findings"], requests))
    assert got == expected


def test_suggestion_inside_a_docstring_is_scanned_without_the_whole_file(gate: Gate) -> None:
    # Docstring lines at column 0 look like top-level statements to a line-based reading.
    prefix = '"""Module docs.\n\nExample:\n'
    suffix = 'and more docs\n"""\n\nimport os\n\n\ndef f():\n    return 1\n' + "x = 1\n" * 50
    verdict = gate.check("python", prefix, "eval(input())\n", suffix)
    assert verdict.kind is VerdictKind.PASS  # text in a docstring runs nothing
    assert verdict.scanned_as == "unit"


def test_insecure_code_elsewhere_in_a_long_class_is_not_blamed(gate: Gate) -> None:
    methods = "".join(
        f"    def m{i}(self, c):\n        subprocess.call(c, shell=True)\n\n" for i in range(30)
    )
    prefix = "import subprocess\n\nclass Big:\n" + methods + "    def target(self, data):\n        return "
    verdict = gate.check("python", prefix, "data.upper()", "\n\n" + methods)
    assert verdict.kind is VerdictKind.PASS
    insecure = gate.check("python", prefix, "subprocess.call(data, shell=True)", "\n\n" + methods)
    assert [f.test_id for f in insecure.findings] == ["B602"]


def test_absurdly_deep_nesting_is_unscanned_not_a_crash(gate: Gate) -> None:
    completion = (
        "x = "
        + "(" * 60
        + "1"
        + ")" * 60
        + "\n"
        + "if x:\n"
        + "".join("    " * depth + "if x:\n" for depth in range(1, 95))
        + "    " * 95
        + "eval(x)\n"
    )
    verdict = gate.check("python", "", completion, "")
    assert verdict.kind in (VerdictKind.WARN, VerdictKind.UNSCANNED)


def test_flagged_verdicts_are_logged_with_their_findings(
    gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="roost.engine.gate.gate"):
        gate.check("python", "import subprocess\n", "subprocess.call(c, shell=True)\n", "")
        gate.check("python", "", "x = 1\n", "")
    messages = [r.getMessage() for r in caplog.records if r.name == "roost.engine.gate.gate"]
    assert len(messages) == 1
    assert "block" in messages[0] and "B602" in messages[0]


def test_config_broken_while_running_keeps_the_last_good_one(tmp_path: Path) -> None:
    import os

    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.bandit]\nskips = ["B307"]\n', encoding="utf-8")
    gate = Gate(GateOptions(workspace_root=tmp_path))
    config.write_text("[tool.bandit\n", encoding="utf-8")
    os.utime(config, (5, 5))
    assert gate.check("python", "", "eval(x)\n", "").kind is VerdictKind.PASS  # B307 still skipped
    assert gate.config_error and "pyproject.toml" in gate.config_error


def test_collect_imports_reads_real_imports_only() -> None:
    from roost.engine.gate.splice import SplicedDocument, collect_imports

    prefix = (
        '"""Docs.\n\nfrom the archive we read, import what we need.\n"""\n'
        "import os\n"
        "from subprocess import (\n    call,\n    Popen,\n)\n"
        "try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n"
        "from_x = 1\n"
    )
    doc = SplicedDocument.build(prefix, "import yaml\n", "from json import loads\n")
    imports = collect_imports(doc)
    texts = [text for _, text in imports]
    assert texts == [
        "import os",
        "from subprocess import (",
        "call,",
        "Popen,",
        ")",
        "import cPickle as pickle",
        "import pickle",
        "from json import loads",
    ]
    assert all(not doc.is_inserted(index) for index, _ in imports)


def test_string_continuation_lines() -> None:
    from roost.engine.gate.splice import string_continuation_lines

    text = 'x = 1\ndoc = """first\nsecond\nthird"""\ny = \'\'\'a\nb\'\'\'\nz = "\\"\\"\\""\n'
    assert string_continuation_lines(text) == {2: 1, 3: 1, 5: 4}


def test_summary_for_titles_and_replies(gate: Gate) -> None:
    verdict = gate.check("python", "import subprocess\n", "x = 1\nsubprocess.call(c, shell=True)\n", "")
    assert verdict.summary().startswith("block: B602 subprocess call with shell=True")
    assert "(line 2)" in verdict.summary()
    assert gate.check("python", "", "x = 1\n", "").summary() == "pass"


def test_workspace_exclude_dirs(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bandit]\nexclude_dirs = ["tests", "./scripts/"]\n', encoding="utf-8"
    )
    gate = Gate(GateOptions(workspace_root=tmp_path))
    insecure = ("import subprocess\n", "subprocess.call(c, shell=True)\n", "")
    for excluded in ("tests/test_x.py", tmp_path / "scripts" / "deploy.py"):
        verdict = gate.check("python", *insecure, path=excluded)
        assert verdict.kind is VerdictKind.PASS and verdict.scanned_as == "excluded"
    assert gate.check("python", *insecure, path="src/app.py").blocked
    assert gate.check("python", *insecure).blocked  # no path: scanned
    # Secrets are still found in excluded folders.
    leaked = gate.check("python", "", 'KEY = "AKIA' + 'Q3EGHT5XMPLE4ZRT"\n', "", path="tests/t.py")
    assert leaked.blocked
