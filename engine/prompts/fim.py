"""Shared shape of fill-in-the-middle formats: context, then the prefix, then the suffix."""

from __future__ import annotations

from abc import abstractmethod

from roost.engine.prompts.answer import cut_at_stop_strings
from roost.engine.prompts.comments import commented_context
from roost.engine.prompts.types import Prompt, PromptFormat, PromptInput


class FimFormat(PromptFormat):
    """A FIM format built from text. Subclasses say how the whole prompt is laid out; the context is
    always rendered before the prefix so keystrokes only change the prompt's tail."""

    mode = "fim"

    @abstractmethod
    def render_text(self, prompt_input: PromptInput) -> str:
        """The full prompt text."""

    def render(self, prompt_input: PromptInput) -> Prompt:
        return Prompt(
            family=self.family,
            mode="fim",
            text=self.render_text(prompt_input),
            stop_token_strings=self.stop_token_strings,
            stop_sequences=self.stop_sequences,
            server_fim=self.server_fim(prompt_input),
            snippets=prompt_input.snippets,
        )

    def server_fim(self, prompt_input: PromptInput) -> tuple[str, str]:
        """(prompt, suffix) for servers that apply the FIM template themselves: the context goes into
        the prompt part as comments, since such APIs have no field for other files."""
        context = commented_context(prompt_input.snippets, prompt_input.language)
        return context + prompt_input.prefix, prompt_input.suffix

    def parse_answer(self, raw: str, prompt: Prompt | None = None) -> str:
        return cut_at_stop_strings(raw, self.stop_token_strings + self.stop_sequences)
