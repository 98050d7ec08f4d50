"""The model's answer as it streams: stopped where post-processing would cut the rest anyway (the block's
end, an echo of the code after the cursor, a line looping on one unit), and with
``completion.first_line_early`` a multi-line answer's first complete line handed to its request, which
answers with it (post-processed and gated on its own) while the rest is still being decoded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from roost.engine.completion_filters.early_stops import (
    block_ended,
    first_complete_line,
    repeats_suffix_from_start,
)
from roost.engine.completion_filters.repetition import loops_within_line
from roost.engine.postprocess import CompletionContext
from roost.engine.prompts.types import Prompt, PromptFormat
from roost.engine.types import Backend, BackendError, GenerationRequest
from roost.lsp.core.completion.candidates import postprocess_candidates
from roost.lsp.core.completion.outcome import BlockedCandidate, CompletionInput, CompletionOutcome, Stopwatch


@dataclass(frozen=True)
class FirstLine:
    """A multi-line generation's first complete line (raw, parsed, its newline included), handed to the
    request that started it, with the generation's stage timings up to that point."""

    text: str
    timings_ms: dict[str, float]


class PromptFormatSource(Protocol):
    """Where the model's prompt format is read (the pipeline's services)."""

    @property
    def prompt_format(self) -> PromptFormat | None: ...


async def stream_answer(
    backend: Backend,
    generation: GenerationRequest,
    parts: list[str],
    outcome: CompletionOutcome,
    watch: Stopwatch,
    *,
    prompt: Prompt,
    block: CompletionContext | None,
    early: asyncio.Future[FirstLine] | None,
    services: PromptFormatSource,
) -> None:
    """Append ``generation``'s streamed text to ``parts`` until it ends or is stopped (noted in ``outcome``,
    with the backend's figures). ``block``: the cursor whose block end and suffix echo stop the stream (None:
    not judged); ``early``: set to the first complete line once decoded."""
    async with contextlib.aclosing(backend.generate(generation)) as stream:
        async for chunk in stream:
            parts.append(chunk.text)
            if chunk.timings is not None:
                outcome.generation = chunk.timings
            if chunk.is_final and chunk.finish_reason == "error":
                # Typed, so the failure is reported with its real reason (not as a crash).
                raise BackendError(
                    chunk.error or "the model failed mid-answer", kind=chunk.error_kind or "failed"
                )
            so_far = "".join(parts)
            if block is not None and "\n" in chunk.text:
                if block_ended(so_far, block):
                    outcome.stopped_at_block_end = True
                    break  # closing the stream cancels the generation
                if repeats_suffix_from_start(so_far, block):
                    outcome.stopped_at_suffix_echo = True
                    break
            if loops_within_line(so_far):
                outcome.stopped_at_line_loop = True
                break
            if early is not None and not early.done() and not chunk.is_final and "\n" in chunk.text:
                line = first_complete_line(so_far)
                parse = services.prompt_format.parse_answer if services.prompt_format else None
                # A stop string inside the line ends the whole answer there: nothing to answer early.
                if line is not None and (parse is None or parse(line, prompt) == line):
                    watch.lap("model")  # the rest of the decode adds to it
                    early.set_result(FirstLine(line, dict(watch.stages)))


GateCandidates = Callable[[CompletionInput, list[str], list[BlockedCandidate]], Awaitable[list[str]]]


async def answer_first_line(
    request: CompletionInput,
    task: asyncio.Task[list[str]],
    first_line: asyncio.Future[FirstLine],
    generated: CompletionOutcome,
    watch: Stopwatch,
    gate_candidates: GateCandidates,
) -> list[str]:
    """The suggestion's first line, post-processed and gated on its own, once the generation has
    decoded it; [] when the generation ends first (or by the time the line is checked: its whole
    answer is then as quick), or when the line alone is cut to nothing or blocked (the whole answer
    decides then)."""
    await asyncio.wait((task, first_line), return_when=asyncio.FIRST_COMPLETED)
    if task.done() or not first_line.done():
        return []
    line = first_line.result()
    started = time.perf_counter()
    candidates = postprocess_candidates(line.text, request, generated.shape)
    postprocessed = time.perf_counter()
    passed = await gate_candidates(request, candidates, [])
    if not passed or task.done():
        return []
    for stage, ms in line.timings_ms.items():
        watch.stages[stage] = watch.stages.get(stage, 0.0) + ms
    watch.stages["postprocess"] = (postprocessed - started) * 1000.0
    watch.stages["gate"] = (time.perf_counter() - postprocessed) * 1000.0
    watch._last = time.perf_counter()  # noqa: SLF001 - stages measured inside the task
    return passed
