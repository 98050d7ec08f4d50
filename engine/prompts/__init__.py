"""Prompt formats: the model's own FIM or chat layout, context packed under a token budget.

Typical use (the LSP layer converts retrieval's items into :class:`ContextSnippet`)::

    options = PromptOptions(family="auto", budget_tokens=2048)
    fmt = resolve_format(options, model_name=model_name, config=config, hf_tokenizer=tokenizer)
    packed = pack(PromptInput(path, language, prefix, suffix, snippets), fmt, counter, options.pack_options)
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
from roost.engine.prompts.options import PromptOptions, resolve_format
from roost.engine.prompts.packer import BudgetSplit, PackedPrompt, PackOptions, pack
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
    "PromptOptions",
    "TekkenTokenCounter",
    "TokenCounter",
    "TransformersTokenCounter",
    "detect_family",
    "detect_family_from_dir",
    "make_format",
    "pack",
    "resolve_format",
]
