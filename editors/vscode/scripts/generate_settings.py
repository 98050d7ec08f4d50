"""Generates the extension's settings from the server's one configuration schema (``roost.lsp.config``).

Writes ``contributes.configuration`` of package.json (every server setting with its description, type, enum,
bounds and default, plus the extension's own settings) and ``src/serverSettings.ts`` (the keys the extension
passes to the server). ``tests/editors/test_vscode_settings.py`` fails when either drifts from the schema.

    .venv/bin/python editors/vscode/scripts/generate_settings.py          # rewrite both files
    .venv/bin/python editors/vscode/scripts/generate_settings.py --check  # exit 1 when they are stale

Every server setting defaults to ``null`` (unset): then the workspace's ``roost.toml`` or the server's own
default applies instead of a value the user never chose; the description names that default.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any, Literal

from roost.lsp.config import UNTRUSTED_WORKSPACE_RESTRICTED_KEYS, RoostConfig, schema_rows

EXTENSION = Path(__file__).resolve().parents[1]
PACKAGE_JSON = EXTENSION / "package.json"
SERVER_SETTINGS_TS = EXTENSION / "src" / "serverSettings.ts"

# Settings that decide where code goes or what runs with it: an untrusted workspace's own settings.json may not
# set them (VS Code then uses the user's values; see capabilities.untrustedWorkspaces); the server holds its
# roost.toml to the same list.
RESTRICTED_IN_UNTRUSTED_WORKSPACES = UNTRUSTED_WORKSPACE_RESTRICTED_KEYS

# The extension's own settings (never sent to the server). `machine` scope for how the server is started: a
# workspace's settings.json must not choose the program VS Code runs.
CLIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "roost.server.command": {
        "type": "string",
        "default": "roost",
        "scope": "machine",
        "markdownDescription": "The `roost` executable (a name on `PATH` or an absolute path, e.g. "
        "`/path/to/.venv/bin/roost`). Ignored when `#roost.server.pythonPath#` is set.",
    },
    "roost.server.args": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["serve", "--stdio"],
        "scope": "machine",
        "description": "Arguments given to the server command.",
    },
    "roost.server.pythonPath": {
        "type": "string",
        "default": "",
        "scope": "machine",
        "markdownDescription": "A Python interpreter with Roost installed. When set, the server is started as "
        "`<pythonPath> -P -m roost.lsp.cli serve --stdio` (`-P` keeps the workspace off the import path).",
    },
    "roost.server.env": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": {},
        "scope": "machine",
        "description": "Extra environment variables for the server process.",
    },
    "roost.enable": {
        "type": "object",
        "additionalProperties": {"type": "boolean"},
        "default": {"*": True},
        "markdownDescription": 'Inline suggestions on or off: `"*"` for every language, a language id '
        '(`"python"`) for one, e.g. `{"*": true, "markdown": false}`. Also from the status-bar item and '
        "*Roost: Toggle inline suggestions*. While off, the server is not asked.",
    },
    "roost.cursorIdle.delay_ms": {
        "type": "integer",
        "default": 300,
        "minimum": 50,
        "maximum": 10000,
        "markdownDescription": "When the cursor has rested this long (with nothing selected) the extension tells "
        "the server where (`roost/cursorIdle`), so it can prepare the prompt there before you type and the first "
        "suggestion comes sooner. Not sent while suggestions are off for the language, nor when "
        "`#roost.completion.prefetch#` is `false` (which turns the preparing off).",
    },
    "roost.trace.server": {
        "type": "string",
        "enum": ["off", "messages", "verbose"],
        "default": "off",
        "description": "Log the protocol messages between VS Code and the server to the Roost output channel.",
    },
}


def _json_type(hint: Any) -> dict[str, Any]:
    """The JSON schema of one field's type, nullable (null: unset)."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return {"type": ["string", "null"], "enum": [*typing.get_args(hint), None]}
    if origin is list:
        (item,) = typing.get_args(hint)
        return {"type": ["array", "null"], "items": _json_type(item) | {"type": _plain_type(item)}}
    return {"type": [_plain_type(hint), "null"]}


def _plain_type(hint: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[hint]


def server_properties() -> dict[str, dict[str, Any]]:
    """One contributed property per server setting, in schema order."""
    defaults = {key: default for key, _kind, default, _doc in schema_rows()}
    properties: dict[str, dict[str, Any]] = {}
    config = RoostConfig()
    for section in dataclasses.fields(RoostConfig):
        values = getattr(config, section.name)
        hints = typing.get_type_hints(type(values))
        for field in dataclasses.fields(values):
            key = f"{section.name}.{field.name}"
            schema = _json_type(hints[field.name])
            for bound in ("minimum", "maximum"):
                if field.metadata.get(bound) is not None:
                    schema[bound] = field.metadata[bound]
            schema["default"] = None
            schema["markdownDescription"] = (
                f"{field.metadata['doc']} Unset: the workspace's `roost.toml`, else the server's default "
                f"(`{defaults[key]}`)."
            )
            properties[f"roost.{key}"] = schema
    return properties


def configuration() -> dict[str, Any]:
    server = server_properties()
    ordered = {**{k: v for k, v in CLIENT_SETTINGS.items() if k != "roost.trace.server"}, **server}
    ordered["roost.trace.server"] = CLIENT_SETTINGS["roost.trace.server"]
    for order, schema in enumerate(ordered.values()):
        schema["order"] = order
    return {"title": "Roost", "properties": ordered}


def untrusted_workspaces() -> dict[str, Any]:
    return {
        "supported": "limited",
        "description": "In an untrusted workspace, its own settings cannot choose the model backend, the "
        "security gate, what is excluded or how the server is started.",
        "restrictedConfigurations": [f"roost.{key}" for key in RESTRICTED_IN_UNTRUSTED_WORKSPACES],
    }


def server_settings_ts() -> str:
    keys = [key.removeprefix("roost.") for key in server_properties()]
    lines = "\n".join(f'  "{key}",' for key in keys)
    return (
        "// Generated by scripts/generate_settings.py from the server's schema (lsp/config.py): do not edit.\n"
        "\n"
        "/** Settings the server reads, by their name under `roost.` (as in roost.toml). */\n"
        f"export const SERVER_SETTING_KEYS = [\n{lines}\n] as const;\n"
    )


def generated_package(package: dict[str, Any]) -> dict[str, Any]:
    updated = json.loads(json.dumps(package))
    updated["contributes"]["configuration"] = configuration()
    updated.setdefault("capabilities", {})["untrustedWorkspaces"] = untrusted_workspaces()
    return updated


def package_text(package: dict[str, Any]) -> str:
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the files are not up to date")
    args = parser.parse_args(argv)
    current_package = PACKAGE_JSON.read_text(encoding="utf-8")
    wanted_package = package_text(generated_package(json.loads(current_package)))
    current_ts = SERVER_SETTINGS_TS.read_text(encoding="utf-8") if SERVER_SETTINGS_TS.exists() else ""
    wanted_ts = server_settings_ts()
    stale = [
        path.name
        for path, current, wanted in (
            (PACKAGE_JSON, current_package, wanted_package),
            (SERVER_SETTINGS_TS, current_ts, wanted_ts),
        )
        if current != wanted
    ]
    if args.check:
        if stale:
            print(f"stale: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    PACKAGE_JSON.write_text(wanted_package, encoding="utf-8")
    SERVER_SETTINGS_TS.write_text(wanted_ts, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
