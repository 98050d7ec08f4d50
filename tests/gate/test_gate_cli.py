"""``roost guard``: the exact --batch contract (evaluation depends on it), and FILE for people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOST = [sys.executable, "-m", "roost.lsp.cli"]


def guard(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run(
        [*ROOST, "guard", *args], input=stdin, capture_output=True, text=True, timeout=120, env=env
    )


def _request(**fields: object) -> str:
    return json.dumps(fields)


def test_batch_contract_in_order_with_bad_lines() -> None:
    lines = [
        _request(
            language="python",
            prefix="import subprocess\n",
            completion="subprocess.call(c, shell=True)\n",
            suffix="",
        ),
        "this is not json",
        _request(language="python", prefix="def f(x):\n    return ", completion="x + 1", suffix="\n"),
        json.dumps([1, 2]),
        _request(language="python", prefix="", suffix=""),  # no completion
        _request(language="python", prefix="", completion=7, suffix=""),
        "",
        _request(language="python", prefix="def broken(:\n", completion="eval(x if (\n", suffix=""),
        _request(language="python", prefix="", completion="import random\nrandom.seed(1)\n", suffix=""),
        _request(language="rust", prefix="", completion='let k = "AKIA' + 'Q3EGHT5XMPLE4ZRT";\n', suffix=""),
    ]
    result = guard("--batch", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)

    block, bad_json, clean, not_object, missing, wrong_type, empty, unscanned, warn, secret = answers
    for bad in (bad_json, not_object, missing, wrong_type, empty):
        assert set(bad) == {"error"} and isinstance(bad["error"], str) and bad["error"]
    assert "completion" in missing["error"]

    for answer in (block, clean, unscanned, warn, secret):
        assert set(answer) == {"verdict", "findings", "ms"}
        assert isinstance(answer["ms"], float) and answer["ms"] >= 0
        for finding in answer["findings"]:
            assert set(finding) == {"test_id", "severity", "confidence", "cwe", "line", "message"}
            assert isinstance(finding["test_id"], str) and isinstance(finding["message"], str)
            assert finding["severity"] in ("LOW", "MEDIUM", "HIGH")
            assert finding["confidence"] in ("LOW", "MEDIUM", "HIGH")
            assert finding["cwe"] is None or isinstance(finding["cwe"], int)
            assert isinstance(finding["line"], int) and finding["line"] >= 1

    assert block["verdict"] == "block" and block["findings"][0]["test_id"] == "B602"
    assert clean == {"verdict": "pass", "findings": [], "ms": clean["ms"]}
    assert unscanned["verdict"] == "unscanned"
    assert warn["verdict"] == "warn"
    assert {f["line"] for f in warn["findings"] if f["test_id"] == "RB101"} == {2}
    assert secret["verdict"] == "block"


def test_batch_root_supplies_config_and_workspace_secrets(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B307"]\n', encoding="utf-8")
    (tmp_path / ".env").write_text("API_TOKEN=Hh73kLq92mZx\n", encoding="utf-8")
    lines = [
        _request(language="python", prefix="", completion="eval(x)\n", suffix=""),
        _request(
            language="python", prefix="", completion='headers = {"X-Token": "Hh73kLq92mZx"}\n', suffix=""
        ),
    ]
    result = guard("--batch", "--root", str(tmp_path), stdin="\n".join(lines) + "\n")
    skipped, leaked = (json.loads(line) for line in result.stdout.splitlines())
    assert skipped["verdict"] == "pass"
    assert leaked["verdict"] == "block"
    assert "secret:workspace-secret" in {f["test_id"] for f in leaked["findings"]}


def test_file_for_people(tmp_path: Path) -> None:
    insecure = tmp_path / "insecure.py"
    insecure.write_text("import subprocess\nsubprocess.call('ls ' + d, shell=True)\n", encoding="utf-8")
    result = guard(str(insecure))
    assert result.returncode == 1  # would be blocked
    assert "block" in result.stdout and "B602" in result.stdout

    clean = tmp_path / "clean.py"
    clean.write_text("print('hello')\n", encoding="utf-8")
    assert guard(str(clean)).returncode == 0

    assert guard(str(tmp_path / "missing.py")).returncode == 2
    assert guard().returncode == 2  # neither FILE nor --batch
