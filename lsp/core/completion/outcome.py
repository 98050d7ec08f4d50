"""One completion request, what answering it came to (:class:`CompletionOutcome`), and the stopwatch that
times its stages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from roost.context.retrieval.model import ContextItem
from roost.engine.types import GenerationTimings
from roost.lsp.core.completion.prompt import PromptDocument
from roost.lsp.core.completion.shape import Shape


@dataclass(frozen=True)
class CompletionInput(PromptDocument):
    """One completion request: the document and cursor the prompt is built for, and the document's URI."""

    uri: str = field(kw_only=True)  # keys the caches and the in-flight generation

    @property
    def document(self) -> PromptDocument:
        return self


@dataclass
class BlockedCandidate:
    text: str
    findings: list[str]


@dataclass
class CompletionOutcome:
    texts: list[str] = field(default_factory=list)
    # model | cache | typed_ahead | in_flight | superseded | blocked | empty | unavailable | error
    source: str = "empty"
    shape: Shape = "single"
    timings_ms: dict[str, float] = field(default_factory=dict)
    context: list[ContextItem] = field(default_factory=list)  # retrieval's items in the prompt
    prompt_tokens: int = 0  # the prompt sent to the model, in the backend's count (0: none was built)
    # The backend's own figures for the model call (prompt tokens reused from its prefix-KV cache, prefill
    # and decode seconds); None when no model call answered this request (cache, typed ahead, ...).
    generation: GenerationTimings | None = None
    blocked: list[BlockedCandidate] = field(default_factory=list)
    message: str = ""
    # The generation was stopped once its lines left the cursor's block (post-processing cuts there).
    stopped_at_block_end: bool = False
    # The generation was stopped at its first line, which repeats the code after the cursor: post-processing
    # cuts such an answer whole, so the rest would be decoded for nothing.
    stopped_at_suffix_echo: bool = False
    # The generation was stopped once its last line looped on one unit
    # (``completion_filters.repetition.loops_within_line``): post-processing keeps one copy, so the rest to
    # the token cap would be decoded for nothing.
    stopped_at_line_loop: bool = False
    # Answered with the first line of a multi-line suggestion while the rest was still being decoded
    # (``completion.first_line_early``); the generation went on and caches its whole answer when done.
    early_first_line: bool = False
    # Answered from a shorter prompt because the whole one would not have answered within
    # ``completion.first_answer_ms`` (the whole one is prefilled in the background once the document is quiet).
    quick_prompt: bool = False
    # Answered from the document's previous prompt with the text typed since appended (a keystroke on the
    # same line, ``completion.typing_keeps_prompt``); the fresh prompt is prefilled once the document is quiet.
    continued_prompt: bool = False


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self._last = self.started
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + (now - self._last) * 1000.0
        self._last = now

    def total_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0


def adopt_generation(outcome: CompletionOutcome, generated: CompletionOutcome) -> None:
    """The request's outcome takes the generation's account of itself (not its timings: the request adds
    them to its own stages)."""
    outcome.context, outcome.shape, outcome.prompt_tokens = (
        generated.context,
        generated.shape,
        generated.prompt_tokens,
    )
    outcome.generation, outcome.blocked = generated.generation, generated.blocked
    outcome.stopped_at_block_end = generated.stopped_at_block_end
    outcome.stopped_at_suffix_echo = generated.stopped_at_suffix_echo
    outcome.stopped_at_line_loop = generated.stopped_at_line_loop
    outcome.quick_prompt = generated.quick_prompt
    outcome.continued_prompt = generated.continued_prompt
