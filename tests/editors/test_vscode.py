"""The VS Code extension, tested without VS Code (which cannot be downloaded here).

``npm run test:units`` compiles the TypeScript (strict), type-checks the node tests and runs the unit
tests of the extension's pure parts; ``npm run test:server`` drives the real ``roost serve --stdio`` through vscode-languageserver-protocol
(the protocol library VS Code's language client is built on): initialize, status, an inline completion, a
code action, a fix-up and ``roost/cursorIdle`` (counted by ``roost/debugStats``). Node-side tests for server features still being built are reported as TODO by
node:test (see ``PENDING_SERVER_FEATURES`` in editors/vscode/test/server.test.mjs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import platformdirs
import pytest
from lsp_harness import server_env

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not installed (apt-get install nodejs npm); the VS Code extension needs them",
)


def _npm(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", "--no-audit", "--no-fund", "--loglevel=error", *args],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def installed() -> Path:
    """``npm ci`` unless node_modules already matches package-lock.json (CI's set-up step ran it)."""
    marker = EXTENSION / "node_modules" / ".package-lock.json"
    lock = EXTENSION / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        result = _npm("ci")
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return EXTENSION


def test_compile_strict_lint_and_unit_tests(installed: Path) -> None:
    result = _npm("run", "test:units")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"npm run test:units failed:\n{output[-12000:]}"
    summary = _summary(output)
    assert summary.get("fail") == 0 and summary.get("pass", 0) >= 5, output[-6000:]


@pytest.mark.model
@pytest.mark.slow
def test_node_client_against_the_real_server(installed: Path, tmp_path: Path) -> None:
    """Features in PENDING_SERVER_FEATURES (server.test.mjs) report as TODO and cannot fail this test."""
    # The converted default model is shared with every run (converting takes a minute), as tests/lsp_features does.
    shared_models = os.environ.get("ROOST_CACHE_DIR") or platformdirs.user_cache_dir("roost")
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_models})
    env["ROOST_SERVER_COMMAND"] = json.dumps([sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"])
    env["ROOST_MODEL_TIMEOUT_MS"] = "480000"  # see REAL_MODEL_WAIT_S in test_nvim.py
    result = _npm("run", "test:server", env=env, timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"npm run test:server failed:\n{output[-12000:]}"
    summary = _summary(output)
    assert summary.get("fail") == 0 and summary.get("cancelled") == 0, output[-6000:]
    assert summary.get("pass", 0) + summary.get("todo", 0) == 7, summary


def _summary(output: str) -> dict[str, int]:
    """node:test's closing counts (`# pass 5`, `# fail 0`, ...)."""
    return {
        key: int(value) for key, value in re.findall(r"^# (pass|fail|todo|cancelled) (\d+)$", output, re.M)
    }


def test_node_client_against_the_scripted_server_with_nothing_pending(installed: Path) -> None:
    """The same node test, held to every feature, against the scripted double: proves the test itself."""
    scripted = Path(__file__).with_name("scripted_server.py")
    env = {
        **os.environ,
        "ROOST_SERVER_COMMAND": json.dumps([sys.executable, str(scripted)]),
        "ROOST_PENDING_FEATURES": "",
    }
    compiled = _npm("run", "compile", env=env)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    result = subprocess.run(
        ["node", "--test", "test/server.test.mjs"],
        cwd=installed,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    summary = _summary(output)
    assert summary == {"pass": 7, "fail": 0, "todo": 0, "cancelled": 0}, output[-8000:]


NODE_BUILTINS = {
    "child_process",
    "crypto",
    "events",
    "fs",
    "net",
    "os",
    "path",
    "readline",
    "stream",
    "url",
    "util",
}


def test_vsix_is_marketplace_ready_and_bundled(installed: Path, tmp_path: Path) -> None:
    """``npm run package``: esbuild's bundle and the manifest files only (no node_modules, sources, tests or tsc
    output), with the marketplace fields, and every server setting."""
    vsix = tmp_path / "roost.vsix"
    result = _npm("run", "package", "--", "--out", str(vsix))
    assert result.returncode == 0, f"npm run package failed:\n{result.stdout}\n{result.stderr}"
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
        bundle = archive.read("extension/dist/extension.js").decode("utf-8")
    shipped = {name for name in names if name.startswith("extension/")}
    assert shipped == {
        "extension/package.json",
        "extension/readme.md",
        "extension/changelog.md",
        "extension/LICENSE.txt",
        "extension/images/icon.png",
        "extension/dist/extension.js",
    }, shipped
    # vscode-languageclient is inside the bundle; only VS Code and node itself are required at run time.
    required = set(re.findall(r'require\("([^"]+)"\)', bundle))
    assert "vscode" in required and required - {"vscode"} <= NODE_BUILTINS | {
        f"node:{m}" for m in NODE_BUILTINS
    }
    assert "provideInlineCompletionItems" in bundle
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["icon"] == "images/icon.png"
    assert "AI" in manifest["categories"]
    assert manifest["publisher"] and manifest["repository"]["url"].startswith("https://github.com/")
    assert manifest["bugs"]["url"] and manifest["homepage"]
    assert manifest["dependencies"]["vscode-languageclient"].lstrip("~^").startswith("11.")
    vsce = json.loads((installed / "node_modules" / "@vscode" / "vsce" / "package.json").read_text())
    assert int(vsce["version"].split(".")[0]) >= 3, vsce["version"]
    commands = {command["command"] for command in manifest["contributes"]["commands"]}
    assert {"roost.toggle", "roost.toggleLanguage", "roost.snooze", "roost.explain"} <= commands
    settings = manifest["contributes"]["configuration"]["properties"]
    assert {
        "roost.server.command",
        "roost.enable",
        "roost.completion.exclude",
        "roost.backend.timeout_s",
    } <= set(settings)
