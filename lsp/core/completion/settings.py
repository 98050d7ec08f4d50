"""The pipeline's settings, read from a configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from roost.engine.backends import local_device_is_cpu
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.prompt import PromptSettings, prompt_settings


@dataclass(frozen=True)
class PipelineSettings:
    debounce_ms: float = 75.0
    max_tokens: int = 96
    temperature: float = 0.0
    prompt: PromptSettings = field(default_factory=PromptSettings)
    first_line_early: bool = False  # see CompletionSettings.first_line_early
    prefetch: bool = True  # see CompletionSettings.prefetch
    member_choices: bool = True  # see CompletionSettings.member_choices
    first_answer_ms: int = 0  # see CompletionSettings.first_answer_ms (0: the whole prompt always)
    typing_keeps_prompt: bool = False  # see CompletionSettings.typing_keeps_prompt


def pipeline_settings(config: RoostConfig) -> PipelineSettings:
    """The completion settings of a configuration (the prompt's are :func:`prompt_settings`, shared with
    ``roost context``)."""
    return PipelineSettings(
        debounce_ms=config.completion.debounce_ms,
        max_tokens=config.completion.max_tokens,
        temperature=config.completion.temperature,
        prompt=prompt_settings(config),
        first_line_early=resolved_first_line_early(config),
        prefetch=config.completion.prefetch,
        member_choices=config.completion.member_choices,
        first_answer_ms=config.completion.first_answer_ms,
        typing_keeps_prompt=config.completion.typing_keeps_prompt,
    )


def resolved_first_line_early(config: RoostConfig) -> bool:
    """``completion.first_line_early``, with ``auto`` on where the model runs on this machine's CPU (the
    same device test as the prompt budget's: a block's decode there is seconds, a line's a fraction)."""
    setting = config.completion.first_line_early
    if setting != "auto":
        return setting == "on"
    return config.backend.kind != "openai" and local_device_is_cpu(config.model.device)
