"""Codestral FIM through mistral-common: the FIM request is encoded by Mistral's own tokenizer, so the
token ids are exactly what Codestral was trained on (``<s>[SUFFIX]{suffix}[PREFIX]{prefix}``).

Codestral has no multi-file format: context files are commented blocks above the prefix. The suffix
comes first in this layout, so prefix-KV reuse only spans keystrokes that leave the suffix unchanged
(typing at the end of a line does).
"""

from __future__ import annotations

from typing import Any

from roost.engine.prompts.comments import commented_context
from roost.engine.prompts.mistral_tokenizer import load_mistral_tokenizer, tokens_to_text
from roost.engine.prompts.types import Prompt, PromptFormat, PromptInput

FIM_TOKENS = ("[PREFIX]", "[SUFFIX]", "[MIDDLE]")


class CodestralFormat(PromptFormat):
    family = "codestral"
    mode = "fim"

    def __init__(self, mistral_tokenizer: Any | None = None) -> None:
        self.tokenizer = mistral_tokenizer if mistral_tokenizer is not None else load_mistral_tokenizer(None)

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return ("</s>",) + FIM_TOKENS

    def render(self, prompt_input: PromptInput) -> Prompt:
        from mistral_common.protocol.fim.request import FIMRequest

        prompt_part = commented_context(prompt_input.snippets, prompt_input.language) + prompt_input.prefix
        tokenized = self.tokenizer.encode_fim(FIMRequest(prompt=prompt_part, suffix=prompt_input.suffix))
        return Prompt(
            family=self.family,
            mode="fim",
            text=tokens_to_text(self.tokenizer, tokenized.tokens),
            token_ids=tuple(tokenized.tokens),
            stop_token_strings=self.stop_token_strings,
            server_fim=(prompt_part, prompt_input.suffix),
            snippets=prompt_input.snippets,
        )
