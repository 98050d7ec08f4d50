"""The VS Code extension's settings are generated from the server's one configuration schema
(``roost.lsp.config``) by editors/vscode/scripts/generate_settings.py; these tests fail when package.json or
src/serverSettings.ts drift from it (regenerate with ``.venv/bin/python editors/vscode/scripts/generate_settings.py``)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

from roost.lsp.config import schema_rows

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"
GENERATOR = EXTENSION / "scripts" / "generate_settings.py"
REGENERATE = f"regenerate with: {sys.executable} {GENERATOR}"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_settings", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def contributed() -> dict[str, typing.Any]:
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    return package["contributes"]["configuration"]["properties"]


def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{result.stderr}\n{REGENERATE}"


def test_every_server_setting_is_contributed_as_the_schema_says() -> None:
    properties = contributed()
    rows = schema_rows()
    for key, _kind, default, doc in rows:
        setting = properties.get(f"roost.{key}")
        assert setting is not None, f"roost.{key} is not a VS Code setting; {REGENERATE}"
        assert setting["default"] is None, (
            f"roost.{key}: unset must leave roost.toml and the server's default"
        )
        assert doc in setting["markdownDescription"] and f"(`{default}`)" in setting["markdownDescription"]
        assert "null" in setting["type"]
    # Bounds and choices come through (spot checks of each kind of field).
    budget = properties["roost.context.budget"]
    assert (budget["type"], budget["minimum"], budget["maximum"]) == (["integer", "null"], 0, 131072)
    assert properties["roost.gate.block_severity"]["enum"] == ["low", "medium", "high", None]
    assert properties["roost.backend.timeout_s"]["type"] == ["number", "null"]
    assert properties["roost.index.watch"]["type"] == ["boolean", "null"]
    assert properties["roost.completion.exclude"]["items"] == {"type": "string"}
    server_keys = {f"roost.{key}" for key, *_ in rows}
    client_keys = set(generator().CLIENT_SETTINGS)
    assert set(properties) == server_keys | client_keys, set(properties) ^ (server_keys | client_keys)


def test_the_extension_sends_exactly_the_schema_keys() -> None:
    source = (EXTENSION / "src" / "serverSettings.ts").read_text(encoding="utf-8")
    sent = [line.strip().strip('",') for line in source.splitlines() if line.startswith('  "')]
    assert sent == [key for key, *_ in schema_rows()]


def test_launch_settings_are_machine_scoped_and_egress_settings_restricted() -> None:
    """A workspace's own .vscode/settings.json may not choose the program VS Code starts, nor (untrusted)
    where code is sent."""
    properties = contributed()
    for key in ("command", "args", "pythonPath", "env"):
        assert properties[f"roost.server.{key}"]["scope"] == "machine"
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    restricted = set(package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"])
    assert {"roost.backend.endpoint", "roost.backend.kind", "roost.gate.block_secrets"} <= restricted
    assert restricted <= set(properties)


def test_drift_is_detected(tmp_path: Path) -> None:
    """The check compares with a fresh generation: a hand edit of one description is reported."""
    module = generator()
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    package["contributes"]["configuration"]["properties"]["roost.context.budget"]["maximum"] = 4096
    assert module.package_text(module.generated_package(package)) != module.package_text(package)
