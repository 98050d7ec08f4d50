"""``completion.first_answer_ms``: where the engine says the whole prompt would not answer in time, the
request is answered from a shorter prompt and the whole prompt is prefilled once the document is quiet (a double backend
that estimates like the in-process engine; the engine's own estimate: tests/engine/test_prefill_estimate.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from test_pipeline_units import make_pipeline as pipeline_with

from roost.engine.speed import PrefillEstimate
from roost.engine.types import GenerationRequest, GenerationTimings, RequestPriority, TextChunk
from roost.lsp.core.completion.details import outcome_details
from roost.lsp.core.completion.pipeline import CompletionInput, CompletionPipeline
from roost.lsp.core.completion.quick_prompt import MIN_QUICK_BUDGET

# One core of a laptop: 100 prompt tokens/s, 10 decoded tokens/s.
PROMPT_TOKEN_S, DECODED_TOKEN_S = 0.01, 0.1


class EstimatingBackend:
    """Answers every request with ``answer``, records the requests, and estimates a prompt's prefill from
    the prompts it has prefilled (the longest shared start counts as cached), as the engine does."""

    name = "estimating"

    def __init__(self, answer: str = "radius ** 2") -> None:
        self.answer = answer
        self.requests: list[GenerationRequest] = []
        self.prefilled: list[str] = []
        self.decode_s = 0.0  # how long an answer takes
        self.submitted: list[tuple[float, GenerationRequest]] = []  # loop time when each request came

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    def estimate_prefill(self, request: GenerationRequest) -> PrefillEstimate:
        prompt = request.prompt or ""
        shared = max((_common_start(prompt, old) for old in self.prefilled), default=0)
        tokens = self.count_tokens(prompt)
        return PrefillEstimate(tokens, min(tokens - 1, shared // 3), PROMPT_TOKEN_S, DECODED_TOKEN_S)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.requests.append(request)
        self.submitted.append((asyncio.get_running_loop().time(), request))
        self.prefilled.append(request.prompt or "")
        await asyncio.sleep(0 if request.prefill_only else self.decode_s)
        if not request.prefill_only:
            yield TextChunk(text=self.answer)
        yield TextChunk(text="", finish_reason="stop", timings=GenerationTimings())

    async def aclose(self) -> None:
        pass


def _common_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def make_pipeline(backend: Any, first_answer_ms: int) -> CompletionPipeline:
    return pipeline_with(backend, first_answer_ms=first_answer_ms)


# A long file: its whole prompt (the default 2,048-token budget) takes ~20 s at 100 tokens/s.
HEAD = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n\n" for i in range(200))
TEXT = HEAD + "def area(radius):\n    return "


def request(text: str = TEXT) -> CompletionInput:
    line = text.count("\n")
    col = len(text) - (text.rfind("\n") + 1)
    return CompletionInput("a.py", "python", text, line, col, len(text), uri="file:///w/a.py")


async def _prefetches(backend: EstimatingBackend) -> list[GenerationRequest]:
    for _ in range(300):  # the whole prompt's prefill is started after the answer, in the background
        warm = [r for r in backend.requests if r.prefill_only]
        if warm:
            return warm
        await asyncio.sleep(0.01)
    return []


async def test_a_cold_cursor_is_answered_from_a_shorter_prompt_and_the_whole_one_is_warmed() -> None:
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=2000)
    outcome = await pipeline.complete(request())
    assert outcome.texts == ["radius ** 2"] and outcome.quick_prompt
    # Where the time went before the model, the choice of prompt and the wait for a worker thread included
    # (roost/completionDetails): every millisecond of the request's overhead is in a stage.
    stages = outcome.timings_ms
    assert stages["prompt_choice"] >= 0.0 and stages["prompt_wait"] >= 0.0
    named = sum(ms for stage, ms in stages.items() if stage not in ("total", "overhead", "model", "debounce"))
    assert named <= stages["total"] - stages["model"] - stages["debounce"] + 1.0
    assert outcome_details(outcome)["quick_prompt"] is True
    answered = backend.requests[0]
    assert not answered.prefill_only
    assert outcome.prompt_tokens <= MIN_QUICK_BUDGET  # 2 s less a line's decode leaves < 256 tokens here
    warm = await _prefetches(backend)
    assert len(warm) == 1 and warm[0].priority == RequestPriority.PREFETCH
    assert backend.count_tokens(warm[0].prompt) > 1500, "the whole prompt is the one warmed"
    assert pipeline.prefetch_stats.quick_answers == 1

    # Once the whole prompt is cached, the next request at this cursor (a character the suggestion did not
    # have, so not served from the cache) gets it.
    typed = await pipeline.complete(request(TEXT + "3"))
    assert not typed.quick_prompt and typed.prompt_tokens > 1500


async def test_a_prompt_that_answers_in_time_goes_whole() -> None:
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=60_000)  # 20 s of prefill fits a minute
    outcome = await pipeline.complete(request())
    assert not outcome.quick_prompt and outcome.prompt_tokens > 1500
    await asyncio.sleep(0.05)
    assert not any(r.prefill_only for r in backend.requests)


async def test_zero_means_the_whole_prompt_always() -> None:
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=0)
    outcome = await pipeline.complete(request())
    assert not outcome.quick_prompt and outcome.prompt_tokens > 1500


async def test_a_backend_that_cannot_estimate_gets_the_whole_prompt() -> None:
    class ModelServer(EstimatingBackend):
        estimate_prefill = None  # an HTTP model server: its cache and speed are not ours to know

    backend = ModelServer()
    outcome = await make_pipeline(backend, first_answer_ms=2000).complete(request())
    assert not outcome.quick_prompt and outcome.prompt_tokens > 1500


async def test_the_whole_prompt_waits_for_a_quiet_document() -> None:
    """A keystroke right after a quick answer cancels that answer's warming (it would wait for a chunk of
    it): only the last quick answer's whole prompt is warmed, once the typing stops."""
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=2000)
    first = await pipeline.complete(request())
    typed = await pipeline.complete(request(TEXT + "3"))  # not the suggestion: a new model call, quick too
    assert first.quick_prompt and typed.quick_prompt
    warm = await _prefetches(backend)
    await asyncio.sleep(0.2)
    assert len(warm) == 1 and len([r for r in backend.requests if r.prefill_only]) == 1
    assert warm[0].prompt is not None and "return 3<|fim_suffix|>" in warm[0].prompt  # the last cursor's


async def test_typing_into_a_quick_suggestion_puts_the_warming_off_without_dropping_it() -> None:
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=2000)
    assert (await pipeline.complete(request())).quick_prompt
    for typed in ("r", "ra", "rad"):  # along the suggestion: served from the cache, no model call
        assert (await pipeline.complete(request(TEXT + typed))).source == "cache"
        await asyncio.sleep(0.1)
    assert not [r for r in backend.requests if r.prefill_only], "not while the keys come"
    warm = await _prefetches(backend)
    assert len(warm) == 1 and backend.count_tokens(warm[0].prompt) > 1500


async def test_no_warming_starts_while_a_request_in_the_document_decodes() -> None:
    """The quiet time counts from the answer: a warm whose wait would run out during the next request's
    decode is queued only after that answer (queued during it, the engine would start it the moment the
    decode ends, just as the keystroke after comes)."""
    backend = EstimatingBackend()
    pipeline = make_pipeline(backend, first_answer_ms=2000)
    assert (await pipeline.complete(request())).quick_prompt
    backend.decode_s = 0.8  # longer than the quiet time
    slow = await pipeline.complete(request(TEXT + "3"))
    answered = asyncio.get_running_loop().time()
    assert slow.quick_prompt
    await _prefetches(backend)
    warms = [at for at, r in backend.submitted if r.prefill_only]
    assert warms and all(at >= answered for at in warms), (warms, answered)
