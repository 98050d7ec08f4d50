"""``roost index`` and ``roost graph`` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from index_support import copy_fixture

from roost.lsp.cli import main


@pytest.fixture
def workspace(tmp_path):
    return copy_fixture("pyproj", tmp_path)


def test_index_json(workspace, tmp_path, capsys):
    assert main(["index", str(workspace), "--json", "--cache-dir", str(tmp_path / "c")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 8
    assert report["symbols"] == 21
    assert report["edges"] == 12
    assert (report["resolved_imports"], report["external_imports"], report["unresolved_imports"]) == (
        13,
        2,
        1,
    )
    assert report["parsed"] == 8
    assert main(["index", str(workspace), "--json", "--cache-dir", str(tmp_path / "c")]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] == 8


def test_index_text_report(workspace, tmp_path, capsys):
    assert main(["index", str(workspace), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "files" in out and "symbols" in out and "13 resolved" in out and "1 unresolved" in out


def test_index_bad_root(tmp_path, capsys):
    assert main(["index", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_graph_formats(workspace, tmp_path, capsys):
    common = ["--cache-dir", str(tmp_path / "c")]
    assert main(["graph", str(workspace), "--format", "json", *common]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["nodes"]) == 8 and len(payload["edges"]) == 12

    assert main(["graph", str(workspace), "--focus", "src/shapes/base.py", "--depth", "1", *common]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph roost {")
    assert '"src/shapes/circle.py" -> "src/shapes/base.py";' in dot
    assert "scripts/report.py" not in dot

    assert (
        main(["graph", str(workspace), "--focus", "src/shapes/base.py", "--format", "mermaid", *common]) == 0
    )
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("graph LR") and "-->" in mermaid


def test_graph_unknown_focus(workspace, tmp_path, capsys):
    assert main(["graph", str(workspace), "--focus", "nope.py", "--no-cache"]) == 2
    assert "not an indexed file" in capsys.readouterr().err


def test_roost_index_subprocess(workspace, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "roost.lsp.cli",
            "index",
            str(workspace),
            "--json",
            "--cache-dir",
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["files"] == 8
