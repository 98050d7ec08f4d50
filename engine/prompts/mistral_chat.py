"""Chat-style infill for Mistral instruct models without FIM tokens — Mistral Small 3.x, Magistral
Small 1.2, Devstral — encoded by mistral-common, so the tokens are exactly the model's chat format.

The tokenizer comes from the model directory (``tekken.json``); without one, mistral-common's bundled
tekken tokenizer is used (same vocabulary family, older control tokens).
"""

from __future__ import annotations

from typing import Any

from roost.engine.prompts.answer import strip_reasoning
from roost.engine.prompts.chat import ChatInfillFormat, infill_messages
from roost.engine.prompts.mistral_tokenizer import load_mistral_tokenizer, tokens_to_text
from roost.engine.prompts.types import Prompt, PromptInput

MISTRAL_CHAT_FAMILIES = ("mistral-small", "magistral", "devstral")


class MistralChatFormat(ChatInfillFormat):
    def __init__(
        self, family: str = "mistral-small", mistral_tokenizer: Any | None = None, *, prefill: bool = True
    ):
        if family not in MISTRAL_CHAT_FAMILIES:
            raise ValueError(
                f"unknown Mistral chat family {family!r}; expected one of {MISTRAL_CHAT_FAMILIES}"
            )
        super().__init__(prefill=prefill)
        self.family = family
        self.tokenizer = mistral_tokenizer if mistral_tokenizer is not None else load_mistral_tokenizer(None)

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return ("</s>",)

    def render(self, prompt_input: PromptInput) -> Prompt:
        from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        fence = self.fence(prompt_input)
        system, user = infill_messages(prompt_input, fence)
        prefill = self.prefill_text(prompt_input, fence)
        chat: list[Any] = [SystemMessage(content=system.content), UserMessage(content=user.content)]
        if prefill:
            # prefix=True: the assistant turn stays open and the model continues after the fence.
            chat.append(AssistantMessage(content=prefill, prefix=True))
        tokenized = self.tokenizer.encode_chat_completion(ChatCompletionRequest(messages=chat))
        return self.make_prompt(
            prompt_input,
            text=tokens_to_text(self.tokenizer, tokenized.tokens),
            token_ids=tuple(tokenized.tokens),
            messages=(system, user),
            fence=fence,
            prefill=prefill,
        )

    def parse_answer(self, raw: str, prompt: Prompt | None = None, *, prefix: str = "") -> str:
        # Magistral reasons in [THINK]…[/THINK] before answering; the reasoning is never code to insert.
        return super().parse_answer(strip_reasoning(raw), prompt, prefix=prefix)
