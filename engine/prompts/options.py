"""The prompt layer's options (the LSP layer maps the user configuration onto them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from roost.engine.prompts.family import FAMILIES, detect_family, make_format
from roost.engine.prompts.packer import BudgetSplit, PackOptions
from roost.engine.prompts.types import PromptFormat


@dataclass(frozen=True)
class PromptOptions:
    # "auto": detected from the model's name / config.json; or one of FAMILIES to force it.
    family: str = "auto"
    # Prompt tokens (the caller leaves room for max_new_tokens within the model's context window).
    budget_tokens: int = 2048
    split: BudgetSplit = field(default_factory=BudgetSplit)
    # Chat formats: open the assistant's answer with a code fence (in-process / raw-text transports).
    chat_prefill: bool = True
    trim_granularity_lines: int = 8

    def __post_init__(self) -> None:
        if self.family != "auto" and self.family not in FAMILIES:
            raise ValueError(
                f"unknown prompt family {self.family!r}; expected 'auto' or one of: {', '.join(FAMILIES)}"
            )
        if self.budget_tokens < 1:
            raise ValueError(f"budget_tokens must be >= 1, got {self.budget_tokens}")
        if self.trim_granularity_lines < 1:
            raise ValueError(f"trim_granularity_lines must be >= 1, got {self.trim_granularity_lines}")

    @property
    def pack_options(self) -> PackOptions:
        return PackOptions(self.budget_tokens, self.split, self.trim_granularity_lines)


def resolve_format(
    options: PromptOptions,
    *,
    model_name: str = "",
    config: Mapping[str, Any] | None = None,
    hf_tokenizer: Any | None = None,
    mistral_tokenizer: Any | None = None,
) -> PromptFormat:
    """The format for a model: the configured family, or the detected one with ``family="auto"``."""
    family = options.family if options.family != "auto" else detect_family(model_name, config)
    return make_format(
        family,
        hf_tokenizer=hf_tokenizer,
        mistral_tokenizer=mistral_tokenizer,
        chat_prefill=options.chat_prefill,
    )
