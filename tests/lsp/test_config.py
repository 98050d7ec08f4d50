"""Configuration: schema, layering, errors (unit), and the same through the real server (end to end)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from lsp_harness import REPO_ROOT, lsp_session
from lsprotocol import types

from roost.lsp.config import (
    ConfigStack,
    RoostConfig,
    apply_layer,
    carries_client_settings,
    schema_markdown,
    schema_rows,
    unwrap_client_settings,
)


def test_defaults_follow_the_documented_copilot_like_split() -> None:
    config = RoostConfig()
    assert (config.context.prefix_share, config.context.suffix_share, config.context.context_share) == (
        0.35,
        0.15,
        0.5,
    )
    assert config.model.name == "default"
    assert config.gate.block_severity == "high" and config.gate.unscanned == "warn"


def test_unknown_key_warns_with_the_nearest_valid_key() -> None:
    config, problems = apply_layer(RoostConfig(), {"completion": {"debounce": 10}}, "roost.toml")
    assert [p.severity for p in problems] == ["warning"]
    assert "completion.debounce" in str(problems[0]) and "debounce_ms" in str(problems[0])
    assert config.completion.debounce_ms == RoostConfig().completion.debounce_ms


def test_wrong_type_or_range_is_an_error_naming_the_expected_form_and_keeps_the_last_good_value() -> None:
    base, _ = apply_layer(RoostConfig(), {"context": {"budget": 4096}}, "a")
    config, problems = apply_layer(
        base, {"context": {"budget": "lots", "prefix_share": 3}, "gate": {"unscanned": "maybe"}}, "b"
    )
    messages = sorted(str(p) for p in problems)
    assert all(p.severity == "error" for p in problems) and len(problems) == 3
    assert any("context.budget" in m and "integer" in m for m in messages)
    assert any("context.prefix_share" in m and "between 0 and 1" in m for m in messages)
    assert any("gate.unscanned" in m and '"warn"' in m for m in messages)
    assert (
        config.context.budget == 4096
        and config.context.prefix_share == 0.35
        and config.gate.unscanned == "warn"
    )


def test_valid_keys_of_a_layer_apply_even_when_others_are_bad() -> None:
    config, problems = apply_layer(RoostConfig(), {"index": {"exclude": ["gen/**"], "watch": "yes"}}, "x")
    assert config.index.exclude == ["gen/**"] and config.index.watch is True
    assert len(problems) == 1


def test_shorthand_sets_the_main_key_of_a_section() -> None:
    config, problems = apply_layer(RoostConfig(), {"model": "/models/devstral", "backend": "openai"}, "x")
    assert not problems
    assert config.model.name == "/models/devstral" and config.backend.kind == "openai"


def test_layers_later_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.roost.context]\nbudget = 1000\nprefix_share = 0.4\n'
    )
    stack = ConfigStack.for_workspace(tmp_path)
    assert stack.workspace_file and stack.workspace_file.endswith("pyproject.toml")
    assert stack.current.context.budget == 1000
    stack.set_layer("initializationOptions", {"context": {"budget": 2000}})
    assert (stack.current.context.budget, stack.current.context.prefix_share) == (2000, 0.4)
    stack.set_layer("didChangeConfiguration", {"context": {"budget": 3000}})
    assert stack.current.context.budget == 3000
    # Replacing the live layer with nothing falls back to the earlier layers.
    stack.set_layer("didChangeConfiguration", {})
    assert stack.current.context.budget == 2000


def test_pushed_client_settings_are_all_the_editors_settings(tmp_path: Path) -> None:
    (tmp_path / "roost.toml").write_text("[context]\nbudget = 1000\n")
    stack = ConfigStack.for_workspace(tmp_path)
    stack.set_layer("initializationOptions", {"context": {"budget": 4096, "suffix_share": 0.2}})
    # A setting the user resets is left out of the push: back to the workspace file's value / the default.
    stack.set_client_settings({"context": {"suffix_share": 0.3}})
    assert (stack.current.context.budget, stack.current.context.suffix_share) == (1000, 0.3)
    stack.set_client_settings({})
    assert stack.current.context.suffix_share == RoostConfig().context.suffix_share
    # A bad value keeps the value it has now, and says so; the push's good values apply.
    stack.set_client_settings({"context": {"budget": 3000}, "completion": {"debounce_ms": 40}})
    problems = stack.set_client_settings({"context": {"budget": "huge"}, "completion": "fast"})
    assert (stack.current.context.budget, stack.current.completion.debounce_ms) == (3000, 40)
    assert [(p.severity, p.key) for p in problems] == [("error", "context.budget"), ("error", "completion")]
    assert "keeping 3000" in str(problems[0])


@pytest.mark.parametrize(
    ("settings", "carries"),
    [
        ({"roost": {}}, True),
        ({"roost": {"context": {}}}, True),
        ({"context": {}}, True),
        ({}, False),
        (None, False),
        ({"pylsp": {"plugins": {}}}, False),
        ({"roost": []}, True),  # Neovim's empty settings table
    ],
)
def test_only_a_push_with_roost_settings_replaces_the_start_settings(settings: object, carries: bool) -> None:
    assert carries_client_settings(settings) is carries


def test_roost_toml_wins_over_pyproject_and_broken_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.roost.context]\nbudget = 1000\n")
    (tmp_path / "roost.toml").write_text("[context]\nbudget = 1500\n")
    assert ConfigStack.for_workspace(tmp_path).current.context.budget == 1500
    (tmp_path / "roost.toml").write_text("[context\nbudget = ")
    stack = ConfigStack.for_workspace(tmp_path)
    assert stack.current.context.budget == RoostConfig().context.budget
    assert stack.problems and "cannot be read" in str(stack.problems[0])


def test_readme_configuration_table_is_generated_from_the_schema() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- config-table:start -->\n(.*?)\n<!-- config-table:end -->", readme, re.S)
    assert match, "README.md lacks the generated configuration table markers"
    assert match.group(1).strip() == schema_markdown().strip(), (
        "README's configuration table is out of date: regenerate it with "
        "`python -c 'from roost.lsp.config import schema_markdown; print(schema_markdown())'`"
    )
    assert len(schema_rows()) > 20


async def test_layering_and_errors_through_the_real_server(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "roost.toml").write_text(
        "[context]\nbudget = 1000\nprefix_share = 0.4\n[completion]\ndebounse_ms = 5\n"
    )
    async with lsp_session(root, initialization_options={"roost": {"context": {"budget": 2000}}}) as session:
        client = session.client
        effective = await client.protocol.send_request_async("roost/effectiveConfiguration", {})
        assert effective.settings.context.budget == 2000
        assert effective.settings.context.prefix_share == 0.4
        assert effective.workspaceFile.endswith("roost.toml")
        # The misspelt key produced a warning naming the right one.
        await asyncio.sleep(0.1)
        warnings = [m.message for m in client.log_messages if m.type == types.MessageType.Warning]
        assert any("debounse_ms" in w and "debounce_ms" in w for w in warnings), warnings

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"roost": {"context": {"budget": "huge", "suffix_share": 0.2}}}
            )
        )
        effective = await client.protocol.send_request_async("roost/effectiveConfiguration", {})
        assert effective.settings.context.budget == 2000  # last good value kept
        assert effective.settings.context.suffix_share == 0.2  # the valid key applied
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert any("context.budget" in e and "integer" in e for e in errors), errors

        # The user resets the budget in the editor: the client's push leaves it out, and the workspace
        # file's value applies again (not the 2,000 the editor started with). An empty push of a generic
        # client (no Roost settings) changes nothing.
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
        effective = await client.protocol.send_request_async("roost/effectiveConfiguration", {})
        assert (effective.settings.context.budget, effective.settings.context.suffix_share) == (2000, 0.2)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"roost": {}}))
        effective = await client.protocol.send_request_async("roost/effectiveConfiguration", {})
        assert effective.settings.context.budget == 1000
        assert effective.settings.context.suffix_share == RoostConfig().context.suffix_share


def test_neovims_empty_tables_are_empty_settings_not_problems() -> None:
    """Lua has one table type and Neovim encodes an empty one as ``[]``: the plugin's default settings
    arrived as ``{"roost": []}`` and warned "unknown setting roost"; an empty section was an error."""
    for raw in ({"roost": []}, {"roost": {"completion": []}}, []):
        config, problems = apply_layer(RoostConfig(), unwrap_client_settings(raw), "initializationOptions")
        assert (config, problems) == (RoostConfig(), []), raw
