"""Chat-style infill for instruct models without FIM tokens: the shared message layout.

The user message lists the context files first, then the current file with a hole, so the rendered
prompt keeps a stable beginning between keystrokes. The answer is prefilled with an opening code fence
where the transport allows it, which makes the model start with code at once.
"""

from __future__ import annotations

from roost.engine.prompts.answer import (
    HOLE,
    SYSTEM_PROMPT,
    answer_opens_its_own_fence,
    cut_at_stop_strings,
    fence_for,
    parse_chat_answer,
)
from roost.engine.prompts.types import Prompt, PromptFormat, PromptInput
from roost.engine.types import ChatMessage


def infill_messages(prompt_input: PromptInput, fence: str) -> tuple[ChatMessage, ChatMessage]:
    """(system, user) messages asking to fill the hole at the cursor."""
    tag = prompt_input.language
    parts: list[str] = []
    if prompt_input.repo_name:
        parts.append(f"Repository: {prompt_input.repo_name}\n")
    if prompt_input.snippets:
        parts.append("Code from other files of the repository that the hole may need:\n")
        for snippet in prompt_input.snippets:
            body = snippet.text.rstrip("\n")
            parts.append(f"{snippet.path}:\n{fence}{tag}\n{body}\n{fence}\n")
    parts.append(f"Fill the hole {HOLE} in {prompt_input.path}:\n")
    tail = "" if prompt_input.suffix.endswith("\n") else "\n"
    parts.append(f"{fence}{tag}\n{prompt_input.prefix}{HOLE}{prompt_input.suffix}{tail}{fence}")
    return ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", "\n".join(parts))


class ChatInfillFormat(PromptFormat):
    """Base of chat formats: the answer contract, the fence prefill and the answer parser."""

    mode = "chat"

    def __init__(self, *, prefill: bool = True) -> None:
        self.prefill = prefill

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        return ("\n```",) if self.prefill else ()

    def fence(self, prompt_input: PromptInput) -> str:
        texts = (prompt_input.prefix, prompt_input.suffix, *(s.text for s in prompt_input.snippets))
        return fence_for(*texts)

    def prefill_text(self, prompt_input: PromptInput, fence: str) -> str:
        return f"{fence}{prompt_input.language}\n" if self.prefill else ""

    def make_prompt(
        self,
        prompt_input: PromptInput,
        *,
        text: str,
        messages: tuple[ChatMessage, ...],
        fence: str,
        prefill: str,
        token_ids: tuple[int, ...] | None = None,
    ) -> Prompt:
        return Prompt(
            family=self.family,
            mode="chat",
            text=text,
            token_ids=token_ids,
            messages=messages,
            stop_token_strings=self.stop_token_strings,
            # The closing fence ends the answer (it may be longer than three backticks).
            stop_sequences=(f"\n{fence}",) if prefill else (),
            prefill=prefill,
            snippets=prompt_input.snippets,
        )

    def parse_answer(self, raw: str, prompt: Prompt | None = None, *, prefix: str = "") -> str:
        """The code to insert. ``prompt`` tells whether the answer started after a prefilled fence;
        ``prefix`` lets the parser drop code the model restated from before the hole."""
        prefill = prompt.prefill if prompt is not None else ""
        # A server or a raw generate() may leave the end-of-turn token and, after a prefilled fence,
        # the closing fence in the text.
        raw = cut_at_stop_strings(raw, self.stop_token_strings)
        if answer_opens_its_own_fence(raw, prefill):
            prefill = ""  # the backend could not send the prefill: the fence stop would cut the answer
        stops = prompt.stop_sequences if prompt is not None and prefill else ()
        return parse_chat_answer(cut_at_stop_strings(raw, stops), prefix=prefix, prefill=prefill)
