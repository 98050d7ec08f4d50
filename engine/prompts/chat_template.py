"""Chat-style infill for any other instruct model, through its tokenizer's own chat template
(transformers ``apply_chat_template``)."""

from __future__ import annotations

from typing import Any

from roost.engine.prompts.chat import ChatInfillFormat, infill_messages
from roost.engine.prompts.types import Prompt, PromptInput

# End-of-turn markers of common chat templates; those in the tokenizer's vocabulary become stops.
_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|EOT|>")


class ChatTemplateFormat(ChatInfillFormat):
    family = "chat-template"

    def __init__(self, tokenizer: Any, *, prefill: bool = True) -> None:
        super().__init__(prefill=prefill)
        if getattr(tokenizer, "chat_template", None) is None:
            raise ValueError(
                f"the tokenizer of {getattr(tokenizer, 'name_or_path', 'this model')} has no chat template; "
                "set the prompt family explicitly (a FIM family) in the configuration"
            )
        self.tokenizer = tokenizer
        vocabulary = tokenizer.get_vocab()
        stops = [tokenizer.eos_token] if tokenizer.eos_token else []
        stops += [marker for marker in _END_OF_TURN if marker in vocabulary]
        self._stops = tuple(dict.fromkeys(stops))

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return self._stops

    def render(self, prompt_input: PromptInput) -> Prompt:
        fence = self.fence(prompt_input)
        system, user = infill_messages(prompt_input, fence)
        text = self._apply_template(system.content, user.content)
        prefill = self.prefill_text(prompt_input, fence)
        return self.make_prompt(
            prompt_input, text=text + prefill, messages=(system, user), fence=fence, prefill=prefill
        )

    def _apply_template(self, system: str, user: str) -> str:
        chat = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        except Exception as error:  # jinja2 TemplateError from templates that raise on a system turn
            if "system" not in str(error).lower():
                raise
        # Some templates (Gemma, older Mistral) reject a system role: the contract goes in the user turn.
        merged = [{"role": "user", "content": f"{system}\n\n{user}"}]
        return self.tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
