"""A keystroke on the line of the previous request keeps that request's prompt, plus what was typed.

The engine reuses the KV of the longest token prefix a new prompt shares with a cached one, and a suffix-first
FIM prompt ends with the code before the cursor, so the previous prompt with the typed characters appended
costs a keystroke one short prefill (~0.1 s on a laptop CPU). The prompt the request would build afresh often
shares much less: after a quick first answer (``completion.first_answer_ms``) the whole prompt, with its
project context, starts differently, and retrieval can bring new snippets at the cursor. Prefilling the
difference took 0.35-0.87 s of a non-matching keystroke's 1.3-1.7 s p50 (bench/latency_bench.py, session 13).

So while the user types on one line, a request whose document is the previous request's document with text
typed at its cursor (same line, same code after the cursor) may be answered from that previous prompt
continued: the same context, the same cut of the file, the typed text after it. It is taken only where the
engine estimates the fresh prompt's prefill to cost more than :data:`FRESH_PROMPT_SLACK_S` beyond it; the fresh
prompt is then prefilled once the document is quiet, as after a quick answer, so the next keystrokes get it
(cached, it costs nothing more and wins). A model server cannot estimate: it always gets the fresh prompt.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from roost.engine.prompts.tokens import TokenCounter
from roost.engine.prompts.types import PromptFormat, PromptInput
from roost.engine.speed import PrefillEstimate
from roost.lsp.core.completion.prompt import BuiltPrompt, PromptDocument

# How much longer than the continued prompt's prefill the fresh prompt may take and still be chosen: its
# context may be newer (a snippet retrieval found for what is being typed). ~70 prompt tokens at a laptop
# CPU's ~450 tok/s; a fresh prompt the engine has cached (warmed while the user paused) always passes.
FRESH_PROMPT_SLACK_S = 0.15
# Beyond this much typed since the kept prompt, the fresh one is built as usual (a long line typed without
# a pause: its context should follow what the line has become).
MAX_TYPED_CHARS = 160
# Documents whose last prompt is kept (one each: the last request's).
KEPT_DOCUMENTS = 32


@dataclass(frozen=True)
class PromptAtCursor:
    """The prompt of a document's last model request, and the document around that request's cursor."""

    prefix: str
    suffix: str
    built: BuiltPrompt
    packed: PromptInput  # ``built.packed_input``: what its fill-in-the-middle prompt renders


class TypingPrompts:
    """The last prompt sent for each document, and its continuation for a keystroke on the same line."""

    def __init__(self, size: int = KEPT_DOCUMENTS) -> None:
        self._size = size
        self._last: OrderedDict[str, PromptAtCursor] = OrderedDict()

    def remember(self, uri: str, document: PromptDocument, built: BuiltPrompt) -> None:
        """``built`` was sent to the model for ``document``'s cursor (fill-in-the-middle prompts only: a chat
        prompt renders the code inside a message, where typed text cannot simply be appended)."""
        if built.packed_input is None or built.prompt.mode != "fim":
            self._last.pop(uri, None)
            return
        self._last[uri] = PromptAtCursor(document.prefix, document.suffix, built, built.packed_input)
        self._last.move_to_end(uri)
        while len(self._last) > self._size:
            self._last.popitem(last=False)

    def continued(
        self,
        uri: str,
        document: PromptDocument,
        fresh: BuiltPrompt,
        prompt_format: PromptFormat,
        counter: TokenCounter,
    ) -> BuiltPrompt | None:
        """The document's last prompt with what was typed since appended to its code before the cursor, or
        None where the document is not that request's document plus text typed on the cursor's line. Its
        shape and start choices are the ``fresh`` prompt's (they depend on the cursor, not on the context);
        choices only where both prompts leave the same partial word to the model."""
        last = self._last.get(uri)
        if last is None or document.suffix != last.suffix or not document.prefix.startswith(last.prefix):
            return None
        typed = document.prefix[len(last.prefix) :]
        if not typed or "\n" in typed or len(typed) > MAX_TYPED_CHARS:
            return None
        packed = last.packed.with_parts(prefix=last.packed.prefix + typed)
        prompt = prompt_format.render(packed)
        choices = fresh.start_choices if prompt.forced_start == fresh.prompt.forced_start else ()
        return replace(
            last.built,
            prompt=prompt,
            tokens=prompt_format.count_tokens(prompt, counter),
            shape=fresh.shape,
            packed_input=packed,
            timings_ms=fresh.timings_ms,
            start_choices=choices,
        )


def continuation_is_quicker(fresh: PrefillEstimate | None, continued: PrefillEstimate | None) -> bool:
    """Whether the continued prompt should answer: the fresh one's prefill would take more than
    :data:`FRESH_PROMPT_SLACK_S` longer (False where either estimate is unknown)."""
    if fresh is None or continued is None:
        return False
    return fresh.prefill_s > continued.prefill_s + FRESH_PROMPT_SLACK_S
