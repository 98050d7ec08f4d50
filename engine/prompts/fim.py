"""Shared shape of fill-in-the-middle formats: context, then the prefix, then the suffix."""

from __future__ import annotations

import re
from abc import abstractmethod

from roost.engine.prompts.answer import cut_at_stop_strings
from roost.engine.prompts.comments import commented_context
from roost.engine.prompts.types import Prompt, PromptFormat, PromptInput

# The cursor's partial token run: trailing blanks, one punctuation mark and a word's start (``    retu``,
# ``foo.ba``, ``x = ``). A prompt ending there splits a token the way training never did. A rule on
# characters, so it can cut inside a token of punctuation (``().``, `` ==``): the engine, which has the
# model's tokenizer, backs the cut up to that token's start (roost.engine.token_healing.healing_backup).
_HEAL_TAIL = re.compile(r"[ \t]*[^\w\s]?\w*\Z")


def heal_split(prefix: str) -> tuple[str, str]:
    """``prefix`` cut where token healing starts: ``(head, tail)`` with ``head + tail == prefix``; the
    tail is the cursor's partial word (see ``_HEAL_TAIL``), ``""`` at a line start or when it is not
    ASCII (a character spread over byte tokens cannot be forced token by token)."""
    match = _HEAL_TAIL.search(prefix)
    tail = match.group(0) if match else ""
    if not tail.isascii():
        return prefix, ""
    return prefix[: len(prefix) - len(tail)], tail


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
            forced_start=self.forced_start(prompt_input),
        )

    def forced_start(self, prompt_input: PromptInput) -> str:
        """The prefix's tail that ``render_text`` leaves for the model to write (token healing)."""
        return ""

    def server_fim(self, prompt_input: PromptInput) -> tuple[str, str]:
        """(prompt, suffix) for servers that apply the FIM template themselves: the context goes into
        the prompt part as comments, since such APIs have no field for other files."""
        context = commented_context(prompt_input.snippets, prompt_input.language)
        return context + prompt_input.prefix, prompt_input.suffix

    def parse_answer(self, raw: str, prompt: Prompt | None = None) -> str:
        return cut_at_stop_strings(raw, self.stop_token_strings + self.stop_sequences)
