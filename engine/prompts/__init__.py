"""Prompt formats: the model's own FIM or chat layout, context packed under a token budget.

Typical use (the LSP layer converts retrieval's items into :class:`ContextSnippet`)::

    fmt = make_format(detect_family(model_name, config), hf_tokenizer=tokenizer)
    options = PackOptions(budget_tokens=2048, split=BudgetSplit(0.35, 0.15, 0.50))
    packed = pack(PromptInput(path, language, prefix, suffix, snippets), fmt, counter, options)
    request = packed.prompt.to_request(max_new_tokens=64)
    ...
    code = fmt.parse_answer(raw_text, packed.prompt)
"""

from roost.engine.prompts.family import (
    CHAT_FAMILIES,
    FAMILIES,
    FIM_FAMILIES,
    detect_family,
    detect_family_from_dir,
    make_format,
)
from roost.engine.prompts.packer import BudgetSplit, PackedPrompt, PackOptions, TokenBudgets, pack
from roost.engine.prompts.tokens import TekkenTokenCounter, TokenCounter, TransformersTokenCounter
from roost.engine.prompts.types import ContextSnippet, Prompt, PromptError, PromptFormat, PromptInput

__all__ = [
    "CHAT_FAMILIES",
    "FAMILIES",
    "FIM_FAMILIES",
    "BudgetSplit",
    "ContextSnippet",
    "PackOptions",
    "PackedPrompt",
    "Prompt",
    "PromptError",
    "PromptFormat",
    "PromptInput",
    "TekkenTokenCounter",
    "TokenBudgets",
    "TokenCounter",
    "TransformersTokenCounter",
    "detect_family",
    "detect_family_from_dir",
    "make_format",
    "pack",
]
