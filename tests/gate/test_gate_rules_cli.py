"""``roost guard`` for JavaScript/TypeScript, Java, Go and Rust: the --batch contract and FILE, as for Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOST = [sys.executable, "-m", "roost.lsp.cli"]

# language, file name, insecure line, rule it must hit, the same intent written safely
CASES = [
    ("javascript", "a.js", "const r = eval(userInput);", "RJS101", "const r = JSON.parse(userInput);"),
    ("typescript", "a.ts", "el.innerHTML = `<p>${msg}</p>`;", "RJS133", "el.textContent = msg;"),
    (
        "java",
        "A.java",
        'Runtime.getRuntime().exec("ping " + host);',
        "RJV101",
        'new ProcessBuilder("ping", host).start();',
    ),
    (
        "go",
        "a.go",
        'rows, _ := db.Query("SELECT * FROM t WHERE id = " + id)',
        "RGO103",
        'rows, _ := db.Query("SELECT * FROM t WHERE id = ?", id)',
    ),
    ("rust", "a.rs", "builder.danger_accept_invalid_certs(true);", "RRS109", "builder.use_rustls_tls();"),
]


def guard(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run(
        [*ROOST, "guard", *args], input=stdin, capture_output=True, text=True, timeout=120, env=env
    )


def test_batch_scans_every_language_with_its_rules() -> None:
    lines = []
    for language, _name, insecure, _rule, safe in CASES:
        lines.append(json.dumps({"language": language, "prefix": "", "completion": insecure + "\n"}))
        lines.append(json.dumps({"language": language, "prefix": "", "completion": safe + "\n"}))
    lines.append(json.dumps({"language": "go", "prefix": "", "completion": "%% (( }} <<\n"}))
    result = guard("--batch", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)
    for index, (language, _name, _insecure, rule, _safe) in enumerate(CASES):
        flagged, clean = answers[2 * index], answers[2 * index + 1]
        assert flagged["verdict"] in ("block", "warn"), (language, flagged)
        assert rule in [f["test_id"] for f in flagged["findings"]], (language, flagged)
        assert clean == {"verdict": "pass", "findings": [], "ms": clean["ms"]}, (language, clean)
    assert answers[-1]["verdict"] == "unscanned"


def test_file_reports_findings_and_exit_status(tmp_path: Path) -> None:
    for language, name, insecure, rule, safe in CASES:
        bad = tmp_path / name
        bad.write_text(f"// {language}\n{insecure}\n", encoding="utf-8")
        result = guard(str(bad))
        assert rule in result.stdout, (language, result.stdout)
        assert f"{bad}:" in result.stdout
        blocked = "block" in result.stdout.splitlines()[0]
        assert result.returncode == (1 if blocked else 0), (language, result.stdout)
        bad.write_text(f"// {language}\n{safe}\n", encoding="utf-8")
        result = guard(str(bad))
        assert result.returncode == 0 and "pass" in result.stdout.splitlines()[0], (language, result.stdout)
