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
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from roost.engine.gate.gate import Gate
from roost.engine.prompts.types import PromptFormat
from roost.engine.types import Backend, EngineError, RequestPriority
from roost.lsp import metrics
from roost.lsp.core.completion.cache import CompletionCache, typed_ahead
from roost.lsp.core.completion.candidates import (
    postprocess_candidates,
    postprocess_context,
    replaced_after,
    with_extra_stops,
)
from roost.lsp.core.completion.debounce import AdaptiveDebouncer, DebounceOptions
from roost.lsp.core.completion.outcome import (
    BlockedCandidate,
    CompletionInput,
    CompletionOutcome,
    Stopwatch,
    adopt_generation,
)
from roost.lsp.core.completion.prefetch import WARM_AFTER_QUIET_S, Prefetcher, PrefetchStats
from roost.lsp.core.completion.prompt import (
    BufferLimit,
    BuiltPrompt,
    ContextRetriever,
    FunctionCounter,
    PromptDocument,
    PromptSettings,
    PromptTools,
    build_prompt,
    repo_name_of,
)
from roost.lsp.core.completion.quick_prompt import prefill_estimate, quick_budget
from roost.lsp.core.completion.settings import PipelineSettings, pipeline_settings
from roost.lsp.core.completion.sticky_context import StickyRetriever
from roost.lsp.core.completion.streaming import FirstLine, answer_first_line, stream_answer
from roost.lsp.core.completion.typing_prompt import TypingPrompts, continuation_is_quicker
from roost.lsp.core.services import CompletionUnavailable

# The names the handlers, the CLI and the benchmarks import from here (defined beside it).
__all__ = [
    "CompletionInput",
    "CompletionOutcome",
    "CompletionPipeline",
    "CompletionServices",
    "PipelineSettings",
    "pipeline_settings",
    "replaced_after",
]

log = logging.getLogger(__name__)


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
        # Through lambdas: what they call is looked up on each prefetch, as the pipeline's own calls do.
        self._prefetcher = Prefetcher(
            backend=lambda: self.services.backend(),
            build_prompt=lambda document, settings, backend: self.build_prompt(document, settings, backend),
            prompt_settings=lambda: self.settings().prompt,
        )
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
            self._prefetcher.resume_warm(request.uri)
        return outcome

    @property
    def prefetch_stats(self) -> PrefetchStats:
        return self._prefetcher.stats

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
        self._prefetcher.pause_warm(uri)
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
        first_line: asyncio.Future[FirstLine] | None = (
            loop.create_future() if self.settings().first_line_early else None
        )
        task = loop.create_task(self._generate(request, generated, partial, first_line))
        entry = _InFlight(prefix, suffix, task, generated, partial)
        self._in_flight[uri] = entry
        try:
            if first_line is not None:
                early = await answer_first_line(
                    request, task, first_line, generated, watch, self._gate_candidates
                )
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
                adopt_generation(outcome, generated)
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
        self._prefetcher.start(request, None)

    def _cancel_early_rests_outside(self, uri: str) -> None:
        """Cancel the generations still decoding the rest of a block answered early in documents other than
        ``uri``: the user has moved on, and on a CPU they would hold up what is asked here for seconds."""
        for other_uri, other in list(self._in_flight.items()):
            if other_uri != uri and other.early_texts and not other.task.done():
                other.task.cancel()
                del self._in_flight[other_uri]

    def _debounce_options(self) -> DebounceOptions:
        base = self.settings().debounce_ms
        return DebounceOptions(base_ms=base, min_ms=min(10.0, base), max_ms=max(base * 4, 10.0))

    # -- the generation (a task, so typed-ahead requests can share it) -----------------------------
    async def _generate(
        self,
        request: CompletionInput,
        outcome: CompletionOutcome,
        partial: list[str],
        first_line: asyncio.Future[FirstLine] | None = None,
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
        first_line: asyncio.Future[FirstLine] | None = None,
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
        generation = with_extra_stops(generation, stops, shape, request)
        self.model_requests += 1
        parts = partial  # shared with typed-ahead requests waiting on this generation
        # A multi-line FIM answer ends where post-processing would cut it at the block's end (chat
        # answers carry fences and prose around the code, so only their parsed answer can be judged).
        block = postprocess_context(request, shape) if shape == "multi" and prompt.mode == "fim" else None
        early = first_line if block is not None else None  # whole lines of code, as they are decoded
        await stream_answer(
            backend,
            generation,
            parts,
            outcome,
            watch,
            prompt=prompt,
            block=block,
            early=early,
            services=services,
        )
        watch.lap("model")
        if whole is not None:
            # The next requests at this cursor (typing on, or the block's rest) find the whole prompt's start
            # cached; it runs once the document is quiet (WARM_AFTER_QUIET_S) and the engine idle.
            self._prefetcher.start(request, whole, after_quiet_s=WARM_AFTER_QUIET_S)
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
