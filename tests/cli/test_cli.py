"""The ``roost`` command line as a user runs it: a real subprocess of the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from roost.lsp.cli.registry import discover_commands

ROOST = [sys.executable, "-m", "roost.lsp.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # A wide virtual terminal so rich does not wrap the words the tests look for.
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([*ROOST, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_help_lists_every_discovered_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    names = [command.name for command in discover_commands()]
    assert {"serve", "doctor"} <= set(names)
    for name in names:
        assert name in result.stdout


@pytest.mark.parametrize("name", [command.name for command in discover_commands()])
def test_every_command_has_help(name: str) -> None:
    result = run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("roost ")


def test_no_command_prints_help_and_fails() -> None:
    result = run()
    assert result.returncode == 2
    assert "COMMAND" in result.stdout


def test_doctor_reports_a_good_machine(tmp_path: Path) -> None:
    result = run("doctor", str(tmp_path))
    assert "python" in result.stdout and "torch" in result.stdout and "bandit" in result.stdout
    assert "grammars" in result.stdout


def test_doctor_fails_with_the_fix_for_a_missing_model_and_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / "roost.toml").write_text('[model]\nname = "/nowhere/model"\n[context]\nbudget = "x"\n')
    result = run("doctor", str(tmp_path))
    assert result.returncode == 1
    combined = result.stdout + result.stderr
    assert "/nowhere/model" in combined and "no such file" in combined
    assert "context.budget" in combined


def test_bare_top_level_packages_are_not_importable(tmp_path: Path) -> None:
    for name in ("lsp", "context", "engine"):
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import roost.{name}; import importlib.util as u; print(u.find_spec('{name}'))",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.strip() == "None", f"a bare `{name}` package is importable: {probe.stdout}"


def test_doctor_sees_a_converted_default_model_in_the_cache(tmp_path: Path) -> None:
    import json

    from roost.engine.models.default import QWEN_CODER_0_5B

    cache = tmp_path / "cache"
    converted = cache / "models" / QWEN_CODER_0_5B.name
    converted.mkdir(parents=True)
    env = {**os.environ, "COLUMNS": "300", "ROOST_CACHE_DIR": str(cache)}
    before = subprocess.run(
        [*ROOST, "doctor", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert "not yet converted" in before.stdout
    (converted / "roost-model.json").write_text(json.dumps({"sha256": QWEN_CODER_0_5B.sha256}))
    after = subprocess.run(
        [*ROOST, "doctor", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert f"converted copy at {converted}" in after.stdout
