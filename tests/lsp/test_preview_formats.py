"""``roost context`` previews the prompt the server would send: its format must be the one the server
makes for the configured backend (suffix first with healing for the in-process engine and the shared
engine, which heal forced starts; prefix first for other model servers, which cannot)."""

from __future__ import annotations

from dataclasses import replace

from roost.engine.prompts.qwen import QwenCoderFormat
from roost.lsp.config import BackendSettings, RoostConfig
from roost.lsp.core.context_preview import prompt_tools


def _format_for(kind: str) -> QwenCoderFormat:
    config = RoostConfig()
    config = replace(config, backend=replace(config.backend, kind=kind))
    prompt_format = prompt_tools(config).prompt_format
    assert isinstance(prompt_format, QwenCoderFormat)
    return prompt_format


def test_the_shared_engine_is_previewed_suffix_first_and_another_server_prefix_first() -> None:
    assert BackendSettings().kind == "transformers"
    assert _format_for("shared").suffix_first
    assert not _format_for("openai").suffix_first
    off = RoostConfig()
    off = replace(
        off,
        backend=replace(off.backend, kind="shared"),
        completion=replace(off.completion, suffix_first=False),
    )
    prompt_format = prompt_tools(off).prompt_format
    assert isinstance(prompt_format, QwenCoderFormat) and not prompt_format.suffix_first
