"""One inline completion, stage by stage:

debounce (adaptive) → cancel-previous → cache / typed-ahead (finished or in-flight suggestions) →
single vs multi-line (syntax at the cursor) → retrieval → prompt (the model's format, packed under the
budget) → engine (streaming) → post-processing → gate (a blocked candidate is dropped, the next tried).

With ``completion.first_line_early``, a multi-line request is answered with the suggestion's first line
(post-processed and gated on its own) as soon as it is decoded; the generation goes on in its task, puts its
whole gated answer in the cache under the request's cursor, and the request that follows the accepted line
(a prefix that extends the original one) is served the rest from that same generation (in flight or cached).

Everything here is orchestration; the work is done by the layers. Each stage is timed; the timings go to
the log and the metrics, and back to the caller (``roost demo`` prints them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from roost.context.retrieval.model import ContextItem
from roost.engine import postprocess
from roost.engine.backends import local_device_is_cpu
from roost.engine.gate.gate import Gate
from roost.engine.prompts.types import PromptFormat
from roost.engine.types import (
    Backend,
    BackendError,
    EngineError,
    GenerationRequest,
    GenerationTimings,
    RequestPriority,
)
from roost.lsp import metrics
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.cache import CompletionCache, typed_ahead
from roost.lsp.core.completion.debounce import AdaptiveDebouncer, DebounceOptions
from roost.lsp.core.completion.prompt import (
    BufferLimit,
    BuiltPrompt,
    ContextRetriever,
    FunctionCounter,
    PromptDocument,
    PromptSettings,
    PromptTools,
    build_prompt,
    prompt_settings,
    repo_name_of,
)
from roost.lsp.core.completion.quick_prompt import prefill_estimate, quick_budget
from roost.lsp.core.completion.shape import Shape
from roost.lsp.core.completion.sticky_context import StickyRetriever
from roost.lsp.core.completion.typing_prompt import TypingPrompts, continuation_is_quicker
from roost.lsp.core.services import CompletionUnavailable

log = logging.getLogger(__name__)

# A whole prompt is warmed after a quick answer once its document has had no request for this long: a
# keystroke arriving while it prefills waits for the chunk in progress (~0.4 s on two CPU threads), and
# warming between the keystrokes of a burst made the non-matching keystroke 1.42 s p50 instead of 0.96
# (bench/latency_bench.py --first-answer-ms 2000,0, session 11).
WARM_AFTER_QUIET_S = 0.5


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
    # The generation was stopped once its last line looped on one unit (``postprocess.loops_within_line``):
    # post-processing keeps one copy, so the rest to the token cap would be decoded for nothing.
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


@dataclass(frozen=True)
class _FirstLine:
    """A multi-line generation's first complete line (raw, parsed, its newline included), handed to the
    request that started it, with the generation's stage timings up to that point."""

    text: str
    timings_ms: dict[str, float]


@dataclass
class _InFlight:
    prefix: str
    suffix: str
    task: asyncio.Task[list[str]]
    # The generation's own account (its model call's figures reach the follow-ups it answers too).
    generated: CompletionOutcome
    partial: list[str] = field(default_factory=list)  # the answer streamed so far
    # Its request was answered with the first line (these texts): the rest is decoded for a follow-up
    # that may not come.
    early_texts: tuple[str, ...] = ()

    def may_continue_with(self, typed: str) -> bool:
        """Whether what the user typed since can still be the start of this suggestion."""
        so_far = "".join(self.partial)
        common = min(len(so_far), len(typed))
        return so_far[:common] == typed[:common]


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


@dataclass(frozen=True)
class PipelineSettings:
    debounce_ms: float = 75.0
    max_tokens: int = 96
    temperature: float = 0.0
    prompt: PromptSettings = field(default_factory=PromptSettings)
    first_line_early: bool = False  # see CompletionSettings.first_line_early
    prefetch: bool = True  # see CompletionSettings.prefetch
    member_choices: bool = True  # see CompletionSettings.member_choices
    first_answer_ms: int = 0  # see CompletionSettings.first_answer_ms (0: the whole prompt always)
    typing_keeps_prompt: bool = False  # see CompletionSettings.typing_keeps_prompt


def pipeline_settings(config: RoostConfig) -> PipelineSettings:
    """The completion settings of a configuration (the prompt's are :func:`prompt_settings`, shared with
    ``roost context``)."""
    return PipelineSettings(
        debounce_ms=config.completion.debounce_ms,
        max_tokens=config.completion.max_tokens,
        temperature=config.completion.temperature,
        prompt=prompt_settings(config),
        first_line_early=resolved_first_line_early(config),
        prefetch=config.completion.prefetch,
        member_choices=config.completion.member_choices,
        first_answer_ms=config.completion.first_answer_ms,
        typing_keeps_prompt=config.completion.typing_keeps_prompt,
    )


def resolved_first_line_early(config: RoostConfig) -> bool:
    """``completion.first_line_early``, with ``auto`` on where the model runs on this machine's CPU (the
    same device test as the prompt budget's: a block's decode there is seconds, a line's a fraction)."""
    setting = config.completion.first_line_early
    if setting != "auto":
        return setting == "on"
    return config.backend.kind != "openai" and local_device_is_cpu(config.model.device)


@dataclass
class PrefetchStats:
    """Counts since the server started (``roost/debugStats``): cursor-idle notifications received, resting
    cursors seen through code action requests, prefetches handed to the engine, and prompt tokens they
    prefilled (not found in its cache)."""

    notifications: int = 0
    # Cursors of a client without roost/cursorIdle that rested where code actions were asked for.
    code_action_rests: int = 0
    started: int = 0
    warmed_tokens: int = 0
    # Requests answered from a shorter prompt (completion.first_answer_ms), whose whole prompt was then
    # prefilled like a prefetch.
    quick_answers: int = 0
    # Keystrokes answered from the previous prompt continued (completion.typing_keeps_prompt), whose fresh
    # prompt was then prefilled like a prefetch.
    continued_answers: int = 0


class CompletionServices(Protocol):
    """What the pipeline needs of the server's services (:class:`~roost.lsp.core.services.Services`);
    tests and benchmarks pass their own."""

    @property
    def prompt_format(self) -> PromptFormat | None: ...
    @property
    def retriever(self) -> ContextRetriever | None: ...
    @property
    def index_service(self) -> BufferLimit | None: ...
    @property
    def root(self) -> Path | None: ...
    @property
    def gate(self) -> Gate: ...
    @property
    def workspace_secrets(self) -> frozenset[str]: ...

    async def backend(self) -> Backend: ...

    def report_failure(self, error: Exception) -> str: ...


class CompletionPipeline:
    """Shared by all documents of one server."""

    def __init__(
        self, services: CompletionServices, settings: Callable[[], PipelineSettings], cache_size: int = 256
    ) -> None:
        self.services = services
        self.settings = settings
        self.cache = CompletionCache(cache_size)
        self._debouncers: dict[str, AdaptiveDebouncer] = {}
        self._sequence: dict[str, int] = {}
        self._in_flight: dict[str, _InFlight] = {}
        self.model_requests = 0  # generations started (the typing benchmark checks it)
        # The server's retriever wrapped so that typing on one line keeps the prompt's context (and with
        # it the prompt's start, whose KV the engine reuses); rewrapped when the services replace it.
        self._sticky: StickyRetriever | None = None
        self.prefetch_stats = PrefetchStats()
        self._prefetches: dict[str, asyncio.Task[None]] = {}
        # The prefetches of whole prompts after quick answers (completion.first_answer_ms), by document, with
        # what they prefill: the next request there puts its document's off (see WARM_AFTER_QUIET_S).
        # (None while a request in the document has it paused.)
        self._warms: dict[str, tuple[asyncio.Task[None] | None, CompletionInput, BuiltPrompt]] = {}
        # Each document's last prompt sent to the model, continued by a keystroke on its line.
        self.typing_prompts = TypingPrompts()

    # -- entry point ------------------------------------------------------------------------------
    async def complete(self, request: CompletionInput) -> CompletionOutcome:
        watch = Stopwatch()
        outcome = CompletionOutcome()
        try:
            await self._complete(request, watch, outcome)
        except asyncio.CancelledError:
            outcome.source = "superseded"
            raise
        except Exception as error:  # never fail the request: no suggestion, and the log says why
            report_failure = getattr(self.services, "report_failure", None)  # doubles may lack it
            if isinstance(error, CompletionUnavailable):
                outcome.source, outcome.message = "unavailable", str(error)
            elif isinstance(error, EngineError | MemoryError) and report_failure is not None:
                outcome.source, outcome.message = "unavailable", report_failure(error)
            else:
                log.exception("inline completion failed")
                outcome.source, outcome.message = "error", f"{type(error).__name__}: {error}"
            outcome.texts = []
        finally:
            outcome.timings_ms = dict(watch.stages)
            outcome.timings_ms["total"] = watch.total_ms()
            model_ms = outcome.timings_ms.get("model", 0.0)
            outcome.timings_ms["overhead"] = (
                outcome.timings_ms["total"]
                - model_ms
                - outcome.timings_ms.get("model_load", 0.0)
                - outcome.timings_ms.get("debounce", 0.0)
            )
            self._record(outcome)
            self._resume_warm(request.uri)
        return outcome

    def _pause_warm(self, uri: str) -> None:
        """A request in ``uri``: its whole-prompt warm stops until the request is answered (warming meanwhile
        would hold each keystroke up by a prefill chunk; queued during a decode, it would start the moment
        the decode ends, just as the next keystroke comes). What it had prefilled stays cached."""
        warm = self._warms.get(uri)
        if warm is not None and warm[0] is not None and not warm[0].done():
            warm[0].cancel()
            self._warms[uri] = (None, warm[1], warm[2])

    def _resume_warm(self, uri: str) -> None:
        """The request is answered: a paused warm waits for the quiet time again, from now (a quick answer to
        the request has replaced it with its own whole prompt)."""
        warm = self._warms.get(uri)
        if warm is not None and warm[0] is None:
            self._start_prefetch(warm[1], warm[2], after_quiet_s=WARM_AFTER_QUIET_S)

    def _record(self, outcome: CompletionOutcome) -> None:
        metrics.COMPLETION_REQUESTS.labels(outcome=outcome.source).inc()
        for stage, ms in outcome.timings_ms.items():
            metrics.COMPLETION_STAGE_SECONDS.labels(stage=stage).observe(ms / 1000.0)
        if outcome.source in ("model", "cache", "typed_ahead", "in_flight"):
            log.info(
                "completion %s (%s%s): %s",
                outcome.source,
                outcome.shape,
                ", first line early" if outcome.early_first_line else "",
                " ".join(f"{k}={v:.1f}ms" for k, v in outcome.timings_ms.items()),
            )

    async def _complete(self, request: CompletionInput, watch: Stopwatch, outcome: CompletionOutcome) -> None:
        uri = request.uri
        prefix, suffix = request.prefix, request.suffix
        sequence = self._sequence.get(uri, 0) + 1
        self._sequence[uri] = sequence
        self._pause_warm(uri)
        debouncer = self._debouncers.setdefault(uri, AdaptiveDebouncer(self._debounce_options()))
        debouncer.note_request()

        # 1. Finished suggestions: exact or typed ahead.
        cached = self.cache.get(uri, prefix, suffix)
        watch.lap("cache")
        if cached:
            outcome.texts, outcome.source = list(cached), "cache"
            return

        # 2. A suggestion still being generated whose start the user has typed: wait for it.
        in_flight = self._in_flight.get(uri)
        if (
            in_flight is not None
            and not in_flight.task.done()
            and in_flight.suffix == suffix
            and prefix.startswith(in_flight.prefix)
            and in_flight.may_continue_with(prefix[len(in_flight.prefix) :])
        ):
            # Typing within a first line answered early: the rest of that line at once, as from the cache.
            within = in_flight.early_texts and typed_ahead(
                in_flight.prefix[-512:], in_flight.early_texts, prefix
            )
            if within:
                outcome.texts, outcome.source, outcome.early_first_line = list(within), "in_flight", True
                outcome.generation = in_flight.generated.generation
                return
            try:
                texts = await asyncio.shield(in_flight.task)
            except asyncio.CancelledError:
                if not in_flight.task.cancelled():
                    raise  # this request was cancelled
                texts = []  # the generation was (a request in another document): ask afresh
            watch.lap("model")
            typed = prefix[len(in_flight.prefix) :]
            rest = tuple(texts) if not typed else typed_ahead(in_flight.prefix[-512:], tuple(texts), prefix)
            if rest:
                outcome.texts, outcome.source = list(rest), "in_flight"
                outcome.generation = in_flight.generated.generation
                return
            # The user typed something else: fall through to a fresh request.

        # 3. Debounce: a newer request for this document makes this one moot.
        at_end_of_line = not request.text[request.offset :].split("\n", 1)[0].strip()
        await asyncio.sleep(debouncer.delay_ms(at_end_of_line) / 1000.0)
        # A request that arrived in the same loop iteration as our wake-up has been created but not yet
        # run: let it register before deciding that we are the newest.
        await asyncio.sleep(0)
        watch.lap("debounce")
        if self._sequence.get(uri) != sequence:
            outcome.source = "superseded"
            return

        # 4. Cancel the previous generation for this document (it is for a cursor that no longer exists),
        # and those still decoding the rest of a block answered early in other documents (the user has
        # moved on; on a CPU they would hold this request's generation up for seconds).
        previous = self._in_flight.pop(uri, None)
        if previous is not None and not previous.task.done():
            previous.task.cancel()
        self._cancel_early_rests_outside(uri)

        partial: list[str] = []
        loop = asyncio.get_running_loop()
        # The generation's own account (it may outlive this request when the first line answers early).
        generated = CompletionOutcome()
        first_line: asyncio.Future[_FirstLine] | None = (
            loop.create_future() if self.settings().first_line_early else None
        )
        task = loop.create_task(self._generate(request, generated, partial, first_line))
        entry = _InFlight(prefix, suffix, task, generated, partial)
        self._in_flight[uri] = entry
        try:
            if first_line is not None:
                early = await self._answer_first_line(request, task, first_line, generated, watch)
                if early:
                    entry.early_texts = tuple(early)
                    outcome.context, outcome.shape = generated.context, generated.shape
                    outcome.prompt_tokens = generated.prompt_tokens
                    outcome.quick_prompt = generated.quick_prompt
                    outcome.continued_prompt = generated.continued_prompt
                    outcome.generation = generated.generation  # the model call's figures so far
                    outcome.texts, outcome.source, outcome.early_first_line = early, "model", True
                    return
            try:
                texts = await asyncio.shield(task)
            finally:
                _adopt(outcome, generated)
        finally:
            if task.done() and self._in_flight.get(uri) is entry:
                self._in_flight.pop(uri, None)
        for stage, ms in generated.timings_ms.items():
            watch.stages[stage] = watch.stages.get(stage, 0.0) + ms
        watch._last = time.perf_counter()  # noqa: SLF001 - stages measured inside the task
        if texts:
            outcome.texts, outcome.source = texts, "model"  # the task cached them
        elif outcome.blocked:
            outcome.source = "blocked"

    async def _answer_first_line(
        self,
        request: CompletionInput,
        task: asyncio.Task[list[str]],
        first_line: asyncio.Future[_FirstLine],
        generated: CompletionOutcome,
        watch: Stopwatch,
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
        passed = await self._gate_candidates(request, candidates, [])
        if not passed or task.done():
            return []
        for stage, ms in line.timings_ms.items():
            watch.stages[stage] = watch.stages.get(stage, 0.0) + ms
        watch.stages["postprocess"] = (postprocessed - started) * 1000.0
        watch.stages["gate"] = (time.perf_counter() - postprocessed) * 1000.0
        watch._last = time.perf_counter()  # noqa: SLF001 - stages measured inside the task
        return passed

    # -- prefetch: the prompt where the cursor rests, prefilled before the user asks -------------------
    def prefetch(self, request: CompletionInput) -> None:
        """Build the completion prompt for ``request``'s cursor and have the engine prefill it into its
        prefix cache, in the background at the lowest priority: the first suggestion there then reuses
        that KV instead of prefilling ~1,000 tokens (seconds on a CPU). The document's previous prefetch
        is cancelled (the engine keeps what it had computed). Called on the event loop; never raises."""
        if not self.settings().prefetch:
            return
        # The user has moved to another document: the rest of a block answered early elsewhere is moot
        # (as when a request comes from here), and while it decodes the engine would not prefetch.
        self._cancel_early_rests_outside(request.uri)
        self._start_prefetch(request, None)

    def _start_prefetch(
        self, request: CompletionInput, built: BuiltPrompt | None, *, after_quiet_s: float = 0.0
    ) -> None:
        previous = self._prefetches.pop(request.uri, None)
        if previous is not None and not previous.done():
            previous.cancel()
        self._warms.pop(request.uri, None)
        task = asyncio.get_running_loop().create_task(self._prefetch(request, built, after_quiet_s))
        self._prefetches[request.uri] = task
        if after_quiet_s and built is not None:
            self._warms[request.uri] = (task, request, built)

        def forget(done: asyncio.Task[None], uri: str = request.uri) -> None:
            if self._prefetches.get(uri) is done:
                del self._prefetches[uri]
            warm = self._warms.get(uri)
            if warm is not None and warm[0] is done:
                del self._warms[uri]

        task.add_done_callback(forget)

    def _cancel_early_rests_outside(self, uri: str) -> None:
        """Cancel the generations still decoding the rest of a block answered early in documents other than
        ``uri``: the user has moved on, and on a CPU they would hold up what is asked here for seconds."""
        for other_uri, other in list(self._in_flight.items()):
            if other_uri != uri and other.early_texts and not other.task.done():
                other.task.cancel()
                del self._in_flight[other_uri]

    async def _prefetch(
        self, request: CompletionInput, built: BuiltPrompt | None = None, after_quiet_s: float = 0.0
    ) -> None:
        """Prefill ``built`` (default: the prompt a request at ``request``'s cursor builds now), after
        ``after_quiet_s``; a request in the document meanwhile cancels it, and its answer starts the wait again
        (``_pause_warm``, ``_resume_warm``)."""
        try:
            await asyncio.sleep(after_quiet_s)
            backend = await self.services.backend()
            if built is None:
                # The very prompt a request at this cursor builds (same retriever, so the same kept context).
                built = await asyncio.get_running_loop().run_in_executor(
                    None, self.build_prompt, request.document, self.settings().prompt, backend
                )
            generation = built.prompt.to_request(
                max_new_tokens=1, priority=RequestPriority.PREFETCH, prefill_only=True
            )
            self.prefetch_stats.started += 1
            async with contextlib.aclosing(backend.generate(generation)) as stream:
                async for chunk in stream:
                    if chunk.is_final and chunk.timings is not None:
                        computed = chunk.timings.prompt_tokens - chunk.timings.reused_prompt_tokens
                        self.prefetch_stats.warmed_tokens += max(0, computed)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a prefetch is a hint: the real request reports real failures
            log.info(
                "prefetch at %s:%d failed: %s: %s", request.uri, request.line, type(error).__name__, error
            )

    def _debounce_options(self) -> DebounceOptions:
        base = self.settings().debounce_ms
        return DebounceOptions(base_ms=base, min_ms=min(10.0, base), max_ms=max(base * 4, 10.0))

    # -- the generation (a task, so typed-ahead requests can share it) -----------------------------
    async def _generate(
        self,
        request: CompletionInput,
        outcome: CompletionOutcome,
        partial: list[str],
        first_line: asyncio.Future[_FirstLine] | None = None,
    ) -> list[str]:
        """The suggestion's gated candidates, put in the cache under the request's cursor (also when the
        request that started it was answered early or has gone: a later request finds them there)."""
        watch = Stopwatch()
        try:
            texts = await self._generate_timed(request, outcome, watch, partial, first_line)
        finally:
            outcome.timings_ms = dict(watch.stages)
        if texts:
            self.cache.put(request.uri, request.prefix, request.suffix, tuple(texts))
        return texts

    async def _generate_timed(
        self,
        request: CompletionInput,
        outcome: CompletionOutcome,
        watch: Stopwatch,
        partial: list[str],
        first_line: asyncio.Future[_FirstLine] | None = None,
    ) -> list[str]:
        settings = self.settings()
        services = self.services
        backend = await services.backend()
        watch.lap("model_load")  # nearly 0 once loaded; the first request pays the load
        loop = asyncio.get_running_loop()
        building = time.perf_counter()
        built = await loop.run_in_executor(
            None, self.build_prompt, request.document, settings.prompt, backend
        )
        # What the build's own stages (syntax, retrieval, prompt) do not cover: the wait for a worker
        # thread and the build's untimed parts.
        build_ms = (time.perf_counter() - building) * 1000.0
        watch.stages["prompt_wait"] = max(0.0, build_ms - sum(built.timings_ms.values()))
        whole: BuiltPrompt | None = None  # the prompt to prefill afterwards when a cheaper one answers
        if settings.first_answer_ms > 0 or settings.typing_keeps_prompt:
            choosing = time.perf_counter()
            chosen, kind = await loop.run_in_executor(
                None, self.choose_prompt, request, settings, backend, built
            )
            # Tokenising and estimating (a quick prompt's own build included; its stages replace the
            # whole prompt's below).
            watch.stages["prompt_choice"] = (time.perf_counter() - choosing) * 1000.0
            if kind != "fresh":
                whole, built = built, chosen
                outcome.quick_prompt, outcome.continued_prompt = kind == "quick", kind == "continued"
                if kind == "quick":
                    self.prefetch_stats.quick_answers += 1
                else:
                    self.prefetch_stats.continued_answers += 1
        self.typing_prompts.remember(request.uri, request.document, built)
        prompt, shape = built.prompt, built.shape
        watch.stages.update(built.timings_ms)
        watch._last = time.perf_counter()  # noqa: SLF001
        outcome.context, outcome.shape, outcome.prompt_tokens = built.items, shape, built.tokens

        stops = ("\n",) if shape == "single" else ("\n\n\n",)
        generation = prompt.to_request(
            max_new_tokens=settings.max_tokens if shape == "multi" else min(settings.max_tokens, 48),
            temperature=settings.temperature,
            priority=RequestPriority.INLINE_COMPLETION,
            start_choices=built.start_choices if settings.member_choices else (),
        )
        generation = _with_extra_stops(generation, stops, shape, request)
        self.model_requests += 1
        parts = partial  # shared with typed-ahead requests waiting on this generation
        # A multi-line FIM answer ends where post-processing would cut it at the block's end (chat
        # answers carry fences and prose around the code, so only their parsed answer can be judged).
        block = postprocess_context(request, shape) if shape == "multi" and prompt.mode == "fim" else None
        early = first_line if block is not None else None  # whole lines of code, as they are decoded
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
                    if postprocess.block_ended(so_far, block):
                        outcome.stopped_at_block_end = True
                        break  # closing the stream cancels the generation
                    if postprocess.repeats_suffix_from_start(so_far, block):
                        outcome.stopped_at_suffix_echo = True
                        break
                if postprocess.loops_within_line(so_far):
                    outcome.stopped_at_line_loop = True
                    break
                if early is not None and not early.done() and not chunk.is_final and "\n" in chunk.text:
                    line = postprocess.first_complete_line(so_far)
                    parse = services.prompt_format.parse_answer if services.prompt_format else None
                    # A stop string inside the line ends the whole answer there: nothing to answer early.
                    if line is not None and (parse is None or parse(line, prompt) == line):
                        watch.lap("model")  # the rest of the decode adds to it
                        early.set_result(_FirstLine(line, dict(watch.stages)))
        watch.lap("model")
        if whole is not None:
            # The next requests at this cursor (typing on, or the block's rest) find the whole prompt's start
            # cached; it runs once the document is quiet (WARM_AFTER_QUIET_S) and the engine idle.
            self._start_prefetch(request, whole, after_quiet_s=WARM_AFTER_QUIET_S)
        raw = "".join(parts)
        answer = services.prompt_format.parse_answer(raw, prompt) if services.prompt_format else raw
        candidates = postprocess_candidates(answer, request, shape)
        watch.lap("postprocess")
        passed = await self._gate_candidates(request, candidates, outcome.blocked)
        watch.lap("gate")
        return passed

    async def _gate_candidates(
        self, request: CompletionInput, candidates: list[str], blocked: list[BlockedCandidate]
    ) -> list[str]:
        """The first candidate the security gate lets through (as a one-item list; [] if none): a blocked
        one is dropped (and noted in ``blocked``), the next tried."""
        services = self.services
        loop = asyncio.get_running_loop()
        for candidate in candidates:
            check = functools.partial(
                services.gate.check,
                request.language,
                request.prefix,
                candidate,
                request.suffix[replaced_after(request, candidate) :],  # the text the editor will hold
                workspace_secrets=services.workspace_secrets,
            )
            verdict = await loop.run_in_executor(None, check)
            metrics.GATE_VERDICTS.labels(verdict=str(verdict.kind)).inc()
            if verdict.blocked:
                blocked.append(BlockedCandidate(candidate, [f.describe() for f in verdict.findings]))
                log.info("gate blocked a suggestion: %s", [f.test_id for f in verdict.findings])
                continue  # dropped; the next candidate is tried
            return [candidate]
        return []

    def build_prompt(
        self, document: PromptDocument, settings: PromptSettings, backend: Backend, *, sticky: bool = True
    ) -> BuiltPrompt:
        """Retrieval and prompt packing (CPU work, in a worker thread): :func:`build_prompt` with the
        server's retriever (behind the sticky one unless ``sticky`` is False), index limit, prompt format
        and the backend's token count."""
        services = self.services
        prompt_format = services.prompt_format
        if prompt_format is None:
            raise CompletionUnavailable("Roost: the model's prompt format is not known yet")
        return build_prompt(
            document,
            settings,
            PromptTools(prompt_format, FunctionCounter(backend.count_tokens)),
            retriever=self.sticky_retriever(services.retriever) if sticky else services.retriever,
            buffer_limit=services.index_service,
            repo_name=repo_name_of(services.root),
        )

    def choose_prompt(
        self, request: CompletionInput, settings: PipelineSettings, backend: Backend, fresh: BuiltPrompt
    ) -> tuple[BuiltPrompt, str]:
        """The prompt that answers ``request`` (in a worker thread: it tokenises), and which it is:

        * ``continued``: a keystroke on the line of the document's last request, whose fresh prompt would
          take longer to prefill than that last prompt with the typed text appended
          (``settings.typing_keeps_prompt``, :mod:`~roost.lsp.core.completion.typing_prompt`);
        * ``quick``: a shorter prompt, where ``fresh``'s answer would not come within
          ``settings.first_answer_ms`` (:mod:`~roost.lsp.core.completion.quick_prompt`); its retriever is the
          plain one (the sticky retriever's kept context belongs to the whole prompt);
        * ``fresh``: ``fresh`` itself."""
        prompt_format = self.services.prompt_format
        estimate = None
        if settings.typing_keeps_prompt and prompt_format is not None:
            counter = FunctionCounter(backend.count_tokens)
            continued = self.typing_prompts.continued(
                request.uri, request.document, fresh, prompt_format, counter
            )
            if continued is not None:
                estimate = prefill_estimate(backend, fresh)
                if continuation_is_quicker(estimate, prefill_estimate(backend, continued)):
                    return continued, "continued"
        if settings.first_answer_ms > 0:
            if estimate is None:
                estimate = prefill_estimate(backend, fresh)
            budget = quick_budget(estimate, fresh, settings.first_answer_ms)
            if budget is not None:
                shorter = replace(settings.prompt, budget=budget)
                return self.build_prompt(request.document, shorter, backend, sticky=False), "quick"
        return fresh, "fresh"

    def sticky_retriever(self, retriever: ContextRetriever | None) -> StickyRetriever | None:
        """``retriever`` behind the one :class:`StickyRetriever` of this pipeline (a new one when the
        services hand out another retriever: the old one's context belongs to another workspace state)."""
        if retriever is None:
            return None
        sticky = self._sticky
        if sticky is None or sticky.retriever is not retriever:
            sticky = self._sticky = StickyRetriever(retriever)
        return sticky


def _adopt(outcome: CompletionOutcome, generated: CompletionOutcome) -> None:
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


def _with_extra_stops(
    generation: GenerationRequest, stops: tuple[str, ...], shape: Shape, request: CompletionInput
) -> GenerationRequest:
    extra = stops
    if shape == "single" and not request.prefix.split("\n")[-1].strip():
        extra = ()  # an empty line: the first line may start with a newline-free statement; keep one line later
    if shape == "multi":
        extra += suffix_echo_stop(request.prefix, request.suffix)
    return replace(generation, stop_sequences=tuple(dict.fromkeys(generation.stop_sequences + extra)))


def suffix_echo_stop(prefix: str, suffix: str) -> tuple[str, ...]:
    """A stop at the suffix's next line written out whole: a small model that does not end its middle
    goes on to copy the code after the cursor up to the token cap, and post-processing cuts that copy
    anyway (``cut_suffix_repetition``), so generating it is only time lost. The stop string is the whole
    line, indentation and newline included. At the start of a line the kept text ends with the newline
    before the copy (lines inserted above keep it); elsewhere the stop starts with that newline, so a
    first line that merely continues the cursor's line with the same text is never cut."""
    at_line_start = not prefix.rsplit("\n", 1)[-1]
    following = suffix.split("\n")[0 if at_line_start else 1 :][:-1]  # complete lines only
    next_line = next((line.rstrip() for line in following if line.strip()), "")
    # A short line ("return", "}") could be written for other reasons; the filter keeps those too.
    if len(next_line.strip()) < 8:
        return ()
    return (next_line + "\n",) if at_line_start else ("\n" + next_line + "\n",)


def postprocess_context(request: CompletionInput, shape: Shape) -> postprocess.CompletionContext:
    """The cursor as the post-processing filters see it (also what the block-end stop judges by)."""
    return postprocess.CompletionContext(
        prefix=request.prefix, suffix=request.suffix, language=request.language, single_line=shape == "single"
    )


def replaced_after(request: CompletionInput, text: str) -> int:
    """The characters after ``request``'s cursor that accepting ``text`` replaces (0: it is inserted): the
    closers of ``return {▮}`` where a multi-line suggestion closes them on a line of its own
    (``postprocess.replaced_closers``). A function of the document and the text alone, so it holds for a
    suggestion from the cache or typed ahead as for a fresh one."""
    return postprocess.replaced_closers(text, postprocess_context(request, "multi"))


def postprocess_candidates(answer: str, request: CompletionInput, shape: Shape) -> list[str]:
    """The engine's post-processing filters; candidates best first: the whole suggestion and, for a
    multi-line one, its first line (tried when the gate blocks the whole)."""
    context = postprocess_context(request, shape)
    candidates = [answer]
    if shape == "multi" and "\n" in answer.strip("\n"):
        body = answer.lstrip("\n")
        first_line, newline, _ = body.partition("\n")
        # The newlines before it too: at ``if err != nil {▮`` the block's first line starts on a line of its
        # own (without them it was offered glued to the brace: ``{\t\treturn nil, err``); its newline: lines
        # inserted above a line keep it.
        candidates.append(answer[: len(answer) - len(body)] + first_line + newline)
    return postprocess.postprocess_candidates(candidates, context)
