"""Which prompt format a model needs: detected from its name / config, or forced by configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from roost.engine.prompts.types import PromptFormat

FIM_FAMILIES = ("qwen2.5-coder", "codestral", "starcoder2", "deepseek-coder", "codellama")
CHAT_FAMILIES = ("mistral-small", "magistral", "devstral", "chat-template")
FAMILIES = FIM_FAMILIES + CHAT_FAMILIES

# Name fragments, checked in order (the first hit wins: "codestral" before the generic "mistral").
_NAME_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("codestral",), "codestral"),
    (("magistral",), "magistral"),
    (("devstral",), "devstral"),
    (("mistral-small", "mistral_small", "mistralsmall", "ministral"), "mistral-small"),
    (("starcoder",), "starcoder2"),
    (("codellama", "code-llama", "code_llama"), "codellama"),
)


def _normalise(name: str) -> str:
    return name.lower().replace(" ", "-")


def detect_family(model_name: str = "", config: Mapping[str, Any] | None = None) -> str:
    """The prompt family of a model, from its name (path, hub id, GGUF file name) and ``config.json``.

    Unknown models get ``chat-template`` (chat infill through the tokenizer's template), which works
    for any instruct model; FIM is only used where the family's FIM tokens are known.
    """
    config = config or {}
    names = [_normalise(model_name), _normalise(str(config.get("_name_or_path", "")))]
    for architecture in config.get("architectures") or ():
        names.append(_normalise(str(architecture)))
    joined = " ".join(names)
    for fragments, family in _NAME_RULES:
        if any(fragment in joined for fragment in fragments):
            return family
    if "qwen" in joined and "coder" in joined:
        return "qwen2.5-coder"
    if "deepseek" in joined and "coder" in joined:
        return "deepseek-coder"

    model_type = str(config.get("model_type", "")).lower()
    text_config = config.get("text_config") or {}
    if model_type == "starcoder2":
        return "starcoder2"
    if model_type == "mistral3" or (model_type == "mistral" and config.get("vocab_size") == 131072):
        # Mistral3ForConditionalGeneration is Small 3.1+ / Magistral 1.2; tekken-vocabulary MistralForCausalLM
        # is Small 3.0-class. Both are instruct models without FIM tokens.
        return "mistral-small"
    if model_type == "llama" and config.get("vocab_size") == 32016:
        # CodeLlama's vocabulary: Llama 2's 32000 plus the 16 infilling/special tokens.
        return "codellama"
    if text_config.get("model_type") == "mistral":
        return "mistral-small"
    return "chat-template"


def detect_family_from_dir(model_dir: str | Path) -> str:
    """:func:`detect_family` with the directory name and its ``config.json`` (if any)."""
    path = Path(model_dir)
    config: dict[str, Any] = {}
    config_file = path / "config.json" if path.is_dir() else None
    if config_file is not None and config_file.is_file():
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
    return detect_family(path.name, config)


def make_format(
    family: str,
    *,
    hf_tokenizer: Any | None = None,
    mistral_tokenizer: Any | None = None,
    chat_prefill: bool = True,
    heals_forced_start: bool = False,
) -> PromptFormat:
    """The format object of ``family``. Chat-template families need ``hf_tokenizer``; Mistral families
    use ``mistral_tokenizer`` (default: mistral-common's bundled tekken). ``heals_forced_start``: the
    backend writes a request's ``forced_start`` in the model's own tokens (formats that measured better
    suffix first use that order then)."""
    from roost.engine.prompts.chat_template import ChatTemplateFormat
    from roost.engine.prompts.codellama import CodeLlamaFormat
    from roost.engine.prompts.codestral import CodestralFormat
    from roost.engine.prompts.deepseek import DeepSeekCoderFormat
    from roost.engine.prompts.mistral_chat import MistralChatFormat
    from roost.engine.prompts.qwen import QwenCoderFormat
    from roost.engine.prompts.starcoder2 import StarCoder2Format

    if family == "qwen2.5-coder":
        return QwenCoderFormat(suffix_first=heals_forced_start)
    if family == "starcoder2":
        return StarCoder2Format()
    if family == "deepseek-coder":
        return DeepSeekCoderFormat()
    if family == "codellama":
        return CodeLlamaFormat()
    if family == "codestral":
        return CodestralFormat(mistral_tokenizer)
    if family in ("mistral-small", "magistral", "devstral"):
        return MistralChatFormat(family, mistral_tokenizer, prefill=chat_prefill)
    if family == "chat-template":
        if hf_tokenizer is None:
            raise ValueError("the chat-template family needs the model's tokenizer (hf_tokenizer=...)")
        return ChatTemplateFormat(hf_tokenizer, prefill=chat_prefill)
    raise ValueError(f"unknown prompt family {family!r}; expected one of: {', '.join(FAMILIES)}")
