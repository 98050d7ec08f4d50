"""Continuous batching in front of one model: an asyncio API over a single worker thread.

Why our own loop rather than transformers' ``ContinuousBatchingManager``: that manager is built around
paged-attention kernels and CUDA graphs, and has no request priorities, no stop *strings*, and no
cross-request prefix cache whose entries outlive a request (the keystroke follow-up case). What we
need is small, so we use transformers' :class:`~transformers.DynamicCache` and write the loop:

* The running batch is one left-padded KV cache ``[batch, heads, T, head_dim]`` per layer plus a 2-D
  attention mask. Each decode step feeds every row its last token at its own position id, so rows of
  different lengths decode together and the model sees exactly what it would see alone.
* A request **joins** after its prefill (done alone, so prefill is exact and can reuse cached prefix
  KV): its KV is left-padded to the batch length (or the batch to its length) and concatenated.
  A request **leaves** when its stop condition hits, or when it is cancelled: rows are dropped and the
  left padding that no remaining row needs is trimmed. Both happen between two decode steps, so a
  cancelled request consumes at most the step already in flight.
* **Prefix-KV reuse**: after each prefill the prompt's KV is kept in an LRU (bounded by bytes). A new
  prompt sharing a prefix with an entry (the user typed one more character) starts from that KV and
  prefills only the rest.
* **Priorities**: waiting requests are admitted lowest :class:`RequestPriority` first, then FIFO.
* **Preemption**: when the batch is full and a waiting request is more urgent than a running one (an
  inline completion while edits fill the batch), the least urgent running row is **paused**: its KV
  (real tokens only) is copied out of the batch, and it goes back to the queue at its own priority and
  original arrival order. When it is admitted again it rejoins with that KV and its pending token, with
  no prefill. Keeping the KV rather than dropping and recomputing it makes resuming free and exact:
  recomputing the generated tokens in one prefill would give slightly different floats, and greedy
  decoding could then pick a different token at a near tie. The price is memory: a paused row's KV
  stays where it was (on the GPU) until it resumes or is cancelled; rows are only paused for strictly
  more urgent work, so at most the requests that were running can be paused at once.
* **Speculative decoding** (``speculative_tokens``): while one greedy request runs alone (the editor's
  case), a draft copied from its own tokens (:mod:`~roost.engine.speculative`, prompt lookup) is checked
  in one forward over ``[next token, *draft]``; the agreed tokens go through the same per-token
  acceptance as plain decoding (streaming and stops unchanged) and the KV of the rejected ones is dropped.
* **Prefetch** (``prefill_only`` requests, :attr:`RequestPriority.PREFETCH`): a prompt nobody waits for
  yet (where the editor's cursor rests) is prefilled into the prefix cache while the engine is idle:
  it is admitted only when no row is running, runs in ``prefetch_chunk_tokens`` chunks, and stops
  between two of them as soon as another request is queued, keeping the KV computed so far. A real
  request thus waits at most one small chunk, and reuses whatever the prefetch got through.
* **Layouts**: the batch's KV lives in a :class:`~roost.engine.kv_batch.DynamicKVBatch` (default) or,
  with ``static_cache_tokens``, a fixed-shape :class:`~roost.engine.kv_batch.StaticKVBatch` whose
  decode step is compiled once (see that module).

The prefix cache's tensors are never written: a prefill's new positions are concatenated onto the
reused KV (``DynamicLayer.update``), and the running batch copies a joining row's KV into its own
buffers before writing each step's positions there in place (``kv_batch.DynamicKVBatch``), so cached
prefix KV can be handed to requests by reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from roost.engine import metrics
from roost.engine.backends.logits_screen import MODEL_ATTRIBUTE as LOGITS_SCREEN_ATTRIBUTE
from roost.engine.backends.logits_screen import LogitsScreen
from roost.engine.cpu_threads import CpuThreadChooser
from roost.engine.forced_start import ForcedStartIndex, pick_forced_token
from roost.engine.kv_batch import (
    DynamicKVBatch,
    KVBatch,
    KVLayers,
    StaticKVBatch,
    cache_from,
    input_device,
    returned_cache,
)
from roost.engine.native_memory import release_freed_memory
from roost.engine.speculative import PromptLookup, accepted_tokens
from roost.engine.speed import PrefillEstimate, SpeedMeter
from roost.engine.start_choices import (
    ChoiceState,
    allowed_choice_tokens,
    choice_state,
    pick_choice_token,
)
from roost.engine.token_healing import healed
from roost.engine.tokenizer import TokenizerAdapter
from roost.engine.types import (
    EngineError,
    EngineOverloadedError,
    FinishReason,
    GenerationRequest,
    GenerationTimings,
    StartChoice,
    TextChunk,
    UnsupportedRequestError,
)

log = logging.getLogger(__name__)


# bench/speculative_bench.py, bundled model, int8, one core, 20 single-line answers (identical in every
# setting): 2 drafted tokens took the decode to 1.31 tokens per forward and 1.13x the tokens/s, the
# answers' total decode time to 0.82x on real files (stdlib email) and 0.97x on HumanEval. 4 and 8 accept
# little more (1.39 and 1.42 tokens per forward) while each checked row costs about a sixth of a forward
# on a CPU, so they were slower than off on HumanEval (1.16x and 1.24x the time).
SPECULATIVE_TOKENS_DEFAULT = 2
# One more than this would leave the int8 CPU kernel's decode path (cpu_int8.DECODE_ROWS).
MAX_SPECULATIVE_TOKENS = 15
# The longest an estimate waits for the start-up calibration (about a second for the bundled model on a CPU).
CALIBRATION_WAIT_S = 10.0


@dataclass(frozen=True)
class SchedulerOptions:
    max_batch_size: int = 8
    max_queue_depth: int = 256
    # KV kept for prefix reuse. Qwen2.5-0.5B in fp32: 24 KiB per token, so 128 MiB ≈ 5.4k tokens, two or
    # three full 2,048-token prompts: the open document's last prompt (the follow-up keystroke's reuse)
    # and a neighbour's. 256 MiB put the bundled model's server at 1.6 GB RSS after a few files
    # (bench/latency_bench.py), over the 1.5 GB a laptop should give it. A 24B Mistral in bf16 takes
    # 160 KiB per token: raise it on a GPU (a few GiB hold several long prompts).
    prefix_cache_bytes: int = 128 * 2**20
    # Below this many shared tokens reuse is not worth a lookup hit (and the KV copy).
    min_reused_prefix_tokens: int = 8
    # Long prompts are prefilled in chunks to bound the activation memory of one forward pass.
    prefill_chunk_tokens: int = 1024
    # A ``prefill_only`` request (a prefetch) runs in chunks this small and checks between two of them
    # whether a real request has arrived, which then waits at most one chunk: ~0.4 s for 64 tokens with
    # the bundled model on two CPU threads, where each forward also pays ~0.1 s of fixed cost (the int8
    # weights converted for the GEMM), so smaller chunks would make the prefetch itself much slower.
    prefetch_chunk_tokens: int = 64
    # Context limit of the model; ``None`` reads ``max_position_embeddings`` from its config.
    max_context_tokens: int | None = None
    # Recent scheduler events kept for tests/benchmarks (cancellation, joins, leaves).
    event_log_size: int = 1000
    # Pause the least urgent running request when the batch is full and a more urgent one waits.
    preemption: bool = True
    # A fixed-shape StaticCache of max_batch_size × this many positions instead of the growing
    # DynamicCache; the decode step is then compiled once (see kv_batch). It also caps the context.
    static_cache_tokens: int | None = None
    # With static_cache_tokens: torch.compile the decode step (False: the same layout, eager).
    compile_static_decode: bool = True
    # Prompt-lookup speculative decoding: with a single greedy request in the batch, up to this many
    # tokens copied from its prompt and answer are checked in one forward (0: off). The int8 CPU kernel
    # takes up to 16 rows (this + 1) on its decode path (cpu_int8.DECODE_ROWS), so this is capped at 15.
    speculative_tokens: int = SPECULATIVE_TOKENS_DEFAULT
    # The shortest suffix of the request's tokens that a draft may be matched on (see PromptLookup).
    speculative_min_ngram: int = 2
    # At start, the worker times a prefill of this many tokens and one decode step, so that
    # :meth:`Scheduler.estimate_prefill` can answer before the first real request. None: a model loaded by
    # the transformers backend calibrates (transformers_backend.scheduler_options), a bare Scheduler does
    # not; 0: never (the speeds are then learnt from the requests).
    calibration_tokens: int | None = None
    # On a CPU: before its model steps the worker uses as many of its threads as the cores the machine's other
    # processes leave free (engine/cpu_threads.py: a team short of a core is ~5x slower than one thread).
    adapt_cpu_threads: bool = True


@dataclass(frozen=True)
class SchedulerEvent:
    kind: str  # "admitted", "cancel_requested", "released", "finished", "preempted", "resumed"
    request_id: str
    decode_step: int
    time: float


class PrefixKVCache:
    """LRU of prompt KV by token prefix, bounded by bytes. Written by the worker thread; the lock lets
    other threads ask how much of a prompt it holds (:meth:`shared_length`)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[int, tuple[torch.Tensor, KVLayers, int]] = OrderedDict()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _longest(self, token_ids: torch.Tensor) -> tuple[int, int | None]:
        best_len, best_key = 0, None
        for key, (tokens, _kv, _size) in self._entries.items():
            n = min(len(tokens), len(token_ids))
            if n <= best_len:
                continue
            differs = (tokens[:n] != token_ids[:n]).nonzero()
            shared = int(differs[0]) if len(differs) else n
            if shared > best_len:
                best_len, best_key = shared, key
        return best_len, best_key

    def lookup(self, token_ids: torch.Tensor) -> tuple[int, KVLayers | None]:
        """Longest cached prefix of ``token_ids``: (its length, its KV layers or None)."""
        with self._lock:
            best_len, best_key = self._longest(token_ids)
            if best_key is None:
                return 0, None
            self._entries.move_to_end(best_key)
            return best_len, self._entries[best_key][1]

    def shared_length(self, token_ids: torch.Tensor) -> int:
        """How many leading tokens of ``token_ids`` an entry holds (the LRU order is left alone)."""
        with self._lock:
            return self._longest(token_ids)[0]

    def store(self, token_ids: torch.Tensor, kv: KVLayers) -> None:
        size = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in kv)
        if size > self.max_bytes:
            return
        with self._lock:
            # An entry that is a prefix of the new one is superseded by it.
            for key, (tokens, _kv, old_size) in list(self._entries.items()):
                if len(tokens) <= len(token_ids) and torch.equal(tokens, token_ids[: len(tokens)]):
                    del self._entries[key]
                    self.bytes -= old_size
            self._entries[next(self._ids)] = (token_ids, kv, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _key, (_tokens, _kv, old_size) = self._entries.popitem(last=False)
                self.bytes -= old_size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0


@dataclass(eq=False)
class _RequestState:
    request: GenerationRequest
    prompt_ids: list[int]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[TextChunk]
    stop_ids: frozenset[int]
    stop_texts: tuple[str, ...]
    submit_time: float
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    admit_time: float = 0.0
    prefill_s: float = 0.0
    first_token_time: float = 0.0
    reused_tokens: int = 0
    generated: list[int] = field(default_factory=list)
    emitted_chars: int = 0
    unsent_ids: list[int] = field(default_factory=list)
    next_token: int = -1
    kv_len: int = 0  # tokens of this row in the KV cache (its real, unpadded length)
    generator: torch.Generator | None = None
    seq: int = 0  # arrival order, kept when a paused request goes back to the queue
    paused_kv: KVLayers | None = None  # the KV of a preempted request, until it resumes
    preemptions: int = 0
    lookup: PromptLookup | None = None  # its tokens for speculative drafts, built at its first draft
    # Token healing: the answer's forced start (its text is not streamed), whether part of it is still
    # to be written, and how many generated tokens it took (they do not count against max_new_tokens).
    forced: str = ""
    forcing: bool = False
    forced_tokens: int = 0
    # The request's start choices while the answer's first word is still being chosen (then emptied).
    choices: tuple[str, ...] = ()


class Scheduler:
    """Serve :class:`GenerationRequest` s on ``model`` with continuous batching (see module docstring).

    ``generate`` follows the :class:`roost.engine.types.Backend` streaming/cancellation contract.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: TokenizerAdapter,
        options: SchedulerOptions | None = None,
        *,
        extra_eos_ids: Sequence[int] = (),
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.options = options or SchedulerOptions()
        # The CPU int8 output layer's 4-bit screen (engine/backends/logits_screen.py), turned on for decode
        # steps whose logits are only argmax'ed; None on other models and devices.
        self.logits_screen: LogitsScreen | None = getattr(model, LOGITS_SCREEN_ATTRIBUTE, None)
        self.device = input_device(model)
        config = (
            model.config.get_text_config(decoder=True) if hasattr(model.config, "get_text_config") else None
        )
        self.max_context_tokens = self.options.max_context_tokens or int(
            getattr(config or model.config, "max_position_embeddings", 32768)
        )
        if self.options.static_cache_tokens:
            # The last static position is reserved: a row always needs room for its next token.
            self.max_context_tokens = min(self.max_context_tokens, self.options.static_cache_tokens - 1)
        # transformers 5.2x renamed the forward's ``past_key_values`` to ``cache``; accept both.
        self._cache_kwarg = (
            "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        )
        self._eos_ids = frozenset(tokenizer.eos_token_ids) | frozenset(extra_eos_ids)
        self._forced_index: ForcedStartIndex | Literal[False] | None = None
        self._forced_index_lock = threading.Lock()
        self.prefix_cache = PrefixKVCache(self.options.prefix_cache_bytes)
        self.speed = SpeedMeter()
        # Set once the start-up calibration is done (at once without one): an estimate asked meanwhile
        # waits for it, as a request would queue behind it.
        self._calibrated = threading.Event()
        if not self.options.calibration_tokens:
            self._calibrated.set()
        self.events: deque[SchedulerEvent] = deque(maxlen=self.options.event_log_size)
        self.decode_steps = 0
        # Speculative decoding, for benchmarks: forwards that checked a draft, draft tokens, accepted ones.
        self.speculative_steps = 0
        self.draft_tokens = 0
        self.accepted_draft_tokens = 0

        self._cv = threading.Condition()
        self._pending: list[tuple[int, int, _RequestState]] = []  # heap of (priority, seq, state)
        self._seq = itertools.count()
        self._closing = False
        # Running batch (worker thread only).
        self._rows: list[_RequestState] = []
        self._worked_since_trim = False
        self._batch: KVBatch = self._new_batch()
        self.cpu_threads: CpuThreadChooser | None = None  # the worker's, made at its start
        self._worker = threading.Thread(target=self._run, name="roost-engine-worker", daemon=True)
        self._worker.start()
        # The vocabulary index of forced starts (about a second for 150k tokens) is built now, beside the
        # server's start-up, not inside the first keystroke that needs it.
        threading.Thread(target=self.forced_start_index, name="roost-vocabulary-index", daemon=True).start()

    def _new_batch(self) -> KVBatch:
        if self.options.static_cache_tokens:
            return StaticKVBatch(
                self.model,
                self._cache_kwarg,
                self.device,
                slots=self.options.max_batch_size,
                max_tokens=self.options.static_cache_tokens,
                compile=self.options.compile_static_decode,
            )
        return DynamicKVBatch(self.model, self._cache_kwarg, self.device)

    # ------------------------------------------------------------------------------------ public API

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text))

    def estimate_prefill(self, request: GenerationRequest) -> PrefillEstimate | None:
        """What ``request``'s prompt would cost now: its tokens, the part the prefix cache holds, and this
        engine's measured speeds; None for chat or token-id prompts and before any speed is known. Safe
        from any thread (tokenising a 1,000-token prompt takes milliseconds: call it off the event loop)."""
        self._calibrated.wait(timeout=CALIBRATION_WAIT_S)
        rates = self.speed.rates()
        if rates is None or request.prompt is None:
            return None
        ids = self.tokenizer.encode(request.prompt)
        shared = self.prefix_cache.shared_length(torch.tensor(ids, dtype=torch.long)) if ids else 0
        return PrefillEstimate(len(ids), self._reusable(shared, len(ids), logits_needed=True), *rates)

    def _reusable(self, shared: int, prompt_tokens: int, *, logits_needed: bool) -> int:
        """Of ``shared`` leading prompt tokens in the prefix cache, how many a prefill reuses: a request's
        last prompt token always runs through the model, to give the next token's logits (a prefetch needs
        none: a prompt already cached whole is done), and a shorter share than ``min_reused_prefix_tokens``
        is not worth the KV copy (0)."""
        reused = min(shared, max(0, prompt_tokens - 1) if logits_needed else prompt_tokens)
        return reused if reused >= self.options.min_reused_prefix_tokens else 0

    def forced_start_index(self) -> ForcedStartIndex | None:
        """The vocabulary index for forced answer starts (built at the first use: about a second for 150k
        tokens); None when the tokenizer cannot list its tokens' texts."""
        with self._forced_index_lock:
            if self._forced_index is None:
                texts = getattr(self.tokenizer, "vocabulary_texts", None)
                self._forced_index = ForcedStartIndex(texts()) if texts is not None else False
            return self._forced_index or None

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        state = self._submit(request)
        try:
            while True:
                chunk = await state.queue.get()
                yield chunk
                if chunk.is_final:
                    return
        finally:
            if not state.finished:
                self._cancel(state)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout=30)

    @property
    def queue_depth(self) -> int:
        with self._cv:
            return len(self._pending)

    @property
    def batch_size(self) -> int:
        return len(self._rows)

    # -------------------------------------------------------------------------------- submit / cancel

    def _submit(self, request: GenerationRequest) -> _RequestState:
        if self._closing:
            raise EngineError("the engine is shut down")
        if request.suffix is not None:
            raise UnsupportedRequestError(
                "the in-process engine takes FIM prompts built by the prompt formatter, not a `suffix` field"
            )
        moved = ""  # the prompt's end that token healing moves into the forced start
        if request.prompt_token_ids is not None:
            prompt_ids = list(request.prompt_token_ids)
        elif request.messages is not None:
            prompt_ids = self.tokenizer.encode_chat(request.messages, request.assistant_prefill)
        else:
            # Token healing: the prompt ends where the model's own tokens of the line end (see
            # roost.engine.token_healing), what it cut off joins the forced start.
            prompt, moved = healed(self.tokenizer, request.prompt or "", request.forced_start)
            prompt_ids = self.tokenizer.encode(prompt)
        if not prompt_ids:
            raise UnsupportedRequestError("the prompt is empty")
        if len(prompt_ids) + 1 > self.max_context_tokens:
            raise UnsupportedRequestError(
                f"the prompt has {len(prompt_ids)} tokens; the model's context holds {self.max_context_tokens}"
            )
        stop_ids, stop_texts = set(self._eos_ids), list(request.stop_sequences)
        if request.assistant_prefill:  # always honoured in process
            stop_texts += request.prefill_stop_sequences
        for token in request.stop_token_strings:
            token_id = self.tokenizer.special_token_id(token)
            if token_id is None:
                stop_texts.append(token)  # not one token in this vocabulary: match it as text
            else:
                stop_ids.add(token_id)
        generator = None
        if request.temperature > 0:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(request.seed if request.seed is not None else time.time_ns() & 0xFFFFFFFF)
        state = _RequestState(
            request=request,
            prompt_ids=prompt_ids,
            loop=asyncio.get_running_loop(),
            queue=asyncio.Queue(),
            stop_ids=frozenset(stop_ids),
            stop_texts=tuple(s for s in stop_texts if s),
            submit_time=time.perf_counter(),
            generator=generator,
        )
        # Settled on the worker thread (``_settle_forced_start``): the index may still be being built, and
        # the caller's event loop must not wait for it.
        state.forced = moved + request.forced_start
        state.forcing = bool(state.forced)
        # Choices are relative to the prompt's end, so they begin with the forced start and what moved.
        state.choices = tuple(
            _prepended(moved, choice)
            for choice in request.start_choices
            if choice.startswith(request.forced_start)
        )
        with self._cv:
            if self._closing:
                raise EngineError("the engine is shut down")
            if len(self._pending) >= self.options.max_queue_depth:
                raise EngineOverloadedError(
                    f"{len(self._pending)} requests are already waiting; try again later"
                )
            state.seq = next(self._seq)
            heapq.heappush(self._pending, (int(request.priority), state.seq, state))
            metrics.QUEUE_DEPTH.set(len(self._pending))
            self._cv.notify_all()
        return state

    def _cancel(self, state: _RequestState) -> None:
        if state.cancelled.is_set():
            return
        self._log("cancel_requested", state)
        state.cancelled.set()
        with self._cv:
            self._cv.notify_all()

    def _log(self, kind: str, state: _RequestState) -> None:
        self.events.append(
            SchedulerEvent(kind, state.request.request_id, self.decode_steps, time.perf_counter())
        )

    # ----------------------------------------------------------------------------------- worker loop

    def _run(self) -> None:
        # Made here: torch's thread count is per thread, and this thread runs every model step.
        self.cpu_threads = (
            CpuThreadChooser(torch.get_num_threads())
            if self.options.adapt_cpu_threads and self.device.type == "cpu"
            else None
        )
        with torch.inference_mode():
            if self.options.calibration_tokens:
                self._calibrate(self.options.calibration_tokens)
            while True:
                if self._worked_since_trim and not self._rows and not self._pending:
                    # Idle: the prefills' freed activations go back to the OS (see native_memory).
                    self._worked_since_trim = False
                    release_freed_memory()
                with self._cv:
                    while not self._closing and not self._pending and not self._rows:
                        self._cv.wait()
                    if self._closing:
                        break
                try:
                    if self.cpu_threads is not None:
                        self.cpu_threads.update()
                    self._release_cancelled_rows()
                    self._admit_waiting()
                    if self._rows:
                        self._decode_step()
                except Exception as error:  # never let one bad step kill the engine
                    log.exception("engine step failed")
                    for state in list(self._rows):
                        self._finish(state, "error", error=f"{type(error).__name__}: {error}")
                    self._reset_batch()
        self._shutdown()

    def _calibrate(self, tokens: int) -> None:
        """Time a prefill of ``tokens`` tokens and one decode step, so the speeds are known before the first
        request (a small forward first: the very first one pays one-off set-up). Never fails the engine."""
        from transformers import DynamicCache

        try:
            code = self.tokenizer.encode(
                "def scale(values, factor):\n    return [v * factor for v in values]\n" * 64
            )
            for count in (8, min(tokens, len(code) - 1)):
                ids = torch.tensor([code[:count]], dtype=torch.long, device=self.device)
                cache = DynamicCache()
                started = time.perf_counter()
                out = self.model(
                    input_ids=ids, use_cache=True, logits_to_keep=1, **{self._cache_kwarg: cache}
                )
                prefilled = time.perf_counter()
                self.model(
                    input_ids=ids[:, -1:],
                    position_ids=torch.tensor([[count]], device=self.device),
                    use_cache=True,
                    logits_to_keep=1,
                    **{self._cache_kwarg: returned_cache(out)},
                )
                decoded = time.perf_counter()
            self.speed.add_prefill(count, prefilled - started)
            self.speed.add_decode(1, decoded - prefilled)
        except Exception:  # a model this loop cannot time still serves requests
            log.exception("engine speed calibration failed")
        finally:
            self._calibrated.set()
        self._worked_since_trim = True

    def _shutdown(self) -> None:
        with self._cv:
            waiting = [state for _prio, _seq, state in self._pending]
            self._pending.clear()
        for state in waiting + self._rows:
            self._finish(state, "error", error="the engine was shut down")
        self._reset_batch()
        self.prefix_cache.clear()

    def _is_cancelled(self, state: _RequestState) -> bool:
        event = state.request.cancel_event
        if event is not None and event.is_set() and not state.finished:
            self._finish(state, "cancelled")
        return state.cancelled.is_set() or state.finished

    def _release_cancelled_rows(self) -> None:
        keep = [i for i, state in enumerate(self._rows) if not self._is_cancelled(state)]
        if len(keep) != len(self._rows):
            self._keep_rows(keep)

    def _admit_waiting(self) -> None:
        while True:
            with self._cv:
                if not self._pending:
                    break
                head = self._pending[0][2]
                # A cancelled head is released below; it must not pause anybody first.
                head_gone = head.cancelled.is_set() or (
                    head.request.cancel_event is not None and head.request.cancel_event.is_set()
                )
                if head.request.prefill_only and self._rows and not head_gone:
                    # A prefetch waits for an idle engine: its prefill would hold up every decode step.
                    # (It heads the queue only when nothing more urgent waits.)
                    break
                if (
                    len(self._rows) >= self.options.max_batch_size
                    and not head_gone
                    and not self._preempt_for(self._pending[0][0])
                ):
                    break
                _prio, _seq, state = heapq.heappop(self._pending)
                metrics.QUEUE_DEPTH.set(len(self._pending))
            if self._is_cancelled(state):
                state.paused_kv = None
                self._log("released", state)
                continue
            if state.paused_kv is not None:
                kv, state.paused_kv = state.paused_kv, None
                self._log("resumed", state)
                self._join_batch(state, kv)
                continue
            state.admit_time = time.perf_counter()
            self._log("admitted", state)
            if state.request.prefill_only:
                self._prefetch(state)
                continue
            self._settle_forced_start(state)
            try:
                kv, logits = self._prefill(state)
            except Exception as error:  # e.g. out of memory on a huge prompt: fail this request only
                log.exception("prefill failed")
                self._finish(state, "error", error=f"{type(error).__name__}: {error}")
                continue
            state.kv_len = len(state.prompt_ids)
            if self._accept_token(state, self._pick_token(logits[0], state)):
                continue  # finished on its first token; never joins the batch
            self._join_batch(state, kv)

    def _settle_forced_start(self, state: _RequestState) -> None:
        """A forced start this tokenizer cannot heal (it cannot list its tokens' texts) becomes prompt text:
        the model continues after it, so the answer is still what follows it."""
        if state.forcing and self.forced_start_index() is None:
            request = state.request
            state.prompt_ids = self.tokenizer.encode((request.prompt or "") + request.forced_start)
            state.forced, state.forcing = "", False
        if state.choices and self.forced_start_index() is None:
            state.choices = ()  # nor can it hold the first word to the start choices

    def _preempt_for(self, waiting_priority: int) -> bool:
        """Pause the least urgent running row if it is less urgent than ``waiting_priority`` (called
        with ``_cv`` held: the paused row goes straight back into the queue). True when a slot was freed."""
        if not self.options.preemption or not self._rows:
            return False
        # Least urgent first; among equals the latest arrival, which has waited least.
        index = max(range(len(self._rows)), key=lambda i: (self._rows[i].request.priority, self._rows[i].seq))
        victim = self._rows[index]
        if int(victim.request.priority) <= waiting_priority:
            return False
        victim.paused_kv = self._batch.row_kv(index, victim.kv_len)
        victim.preemptions += 1
        self._log("preempted", victim)
        metrics.PREEMPTIONS.inc()
        self._keep_rows([i for i in range(len(self._rows)) if i != index], log_released=False)
        heapq.heappush(self._pending, (int(victim.request.priority), victim.seq, victim))
        metrics.QUEUE_DEPTH.set(len(self._pending))
        return True

    # ----------------------------------------------------------------------------------------- model

    def _prefill(self, state: _RequestState) -> tuple[KVLayers, torch.Tensor]:
        # The prompt's last position gives the first token: its logits are read as a decode step's are.
        with self._logits_read_by([state]):
            kv, logits, _complete = self._compute_prompt_kv(state, self.options.prefill_chunk_tokens)
        assert logits is not None
        return kv, logits

    def _prefetch(self, state: _RequestState) -> None:
        """A ``prefill_only`` request: its prompt's KV into the prefix cache, no token generated; stopped
        between two chunks (keeping what was computed) once anything else waits or it is cancelled."""
        try:
            kv, _logits, complete = self._compute_prompt_kv(
                state, self.options.prefetch_chunk_tokens, interruptible=True
            )
        except Exception as error:
            log.exception("prefetch failed")
            self._finish(state, "error", error=f"{type(error).__name__}: {error}")
            return
        state.kv_len = int(kv[0][0].shape[-2]) if kv else 0
        self._finish(state, "length" if complete else "cancelled")

    def _should_yield(self, state: _RequestState) -> bool:
        """Whether a prefetch should stop now: cancelled, another request is waiting, or the engine is
        shutting down (which waits for the worker)."""
        event = state.request.cancel_event
        if state.cancelled.is_set() or (event is not None and event.is_set()):
            return True
        with self._cv:
            return self._closing or any(other is not state for _prio, _seq, other in self._pending)

    def _compute_prompt_kv(
        self, state: _RequestState, chunk_tokens: int, *, interruptible: bool = False
    ) -> tuple[KVLayers, torch.Tensor | None, bool]:
        """The KV of ``state``'s prompt (its longest cached prefix reused), the last position's logits,
        and whether the whole prompt was computed (``interruptible`` may stop it between chunks: the KV
        and the cache entry then cover the tokens computed so far, and the logits are None)."""
        from transformers import DynamicCache

        start = time.perf_counter()
        self._worked_since_trim = True
        ids = torch.tensor(state.prompt_ids, dtype=torch.long)
        shared, cached_kv = self.prefix_cache.lookup(ids)
        reused = self._reusable(shared, len(ids), logits_needed=not interruptible)
        if cached_kv is None or not reused:
            reused, cache = 0, DynamicCache()
        else:
            cache = cache_from([(k[:, :, :reused], v[:, :, :reused]) for k, v in cached_kv])
        logits = None
        computed_to = reused
        chunk = max(1, chunk_tokens)
        for begin in range(reused, len(ids), chunk):
            if interruptible and self._should_yield(state):
                break
            end = min(begin + chunk, len(ids))
            # Only the prompt's last position needs logits, and a prefetch none: an earlier chunk keeps no
            # position, which skips the lm_head (a 136M-weight layer: ~19 ms a chunk on one core of the
            # 2-core machine).
            last = end == len(ids) and not interruptible
            out = self.model(
                input_ids=ids[begin:end].unsqueeze(0).to(self.device),
                position_ids=torch.arange(begin, end, device=self.device).unsqueeze(0),
                use_cache=True,
                logits_to_keep=1 if last else torch.empty(0, dtype=torch.long, device=self.device),
                **{self._cache_kwarg: cache},
            )
            cache = returned_cache(out)
            logits = out.logits[:, -1, :] if last else None
            computed_to = end
        kv: KVLayers = [(layer.keys, layer.values) for layer in cache.layers] if computed_to else []
        if computed_to > reused:
            self.prefix_cache.store(ids[:computed_to], kv)
            metrics.PREFIX_CACHE_BYTES.set(self.prefix_cache.bytes)
        state.reused_tokens = reused
        state.prefill_s = time.perf_counter() - start
        if not interruptible:  # a prefetch's small chunks cost more per token than a request's prefill
            self.speed.add_prefill(computed_to - reused, state.prefill_s)
        metrics.PROMPT_TOKENS.labels(kind="reused").inc(reused)
        metrics.PROMPT_TOKENS.labels(kind="computed").inc(computed_to - reused)
        complete = computed_to == len(ids)
        return kv, (logits if complete else None), complete

    def _decode_step(self) -> None:
        alone = self._rows[0] if len(self._rows) == 1 else None
        written = len(alone.generated) if alone is not None else 0
        started = time.perf_counter()
        if not self._speculative_decode_step():
            self._plain_decode_step()
        if alone is not None:  # the editor's case; a batch's steps are shared between its rows
            self.speed.add_decode(len(alone.generated) - written, time.perf_counter() - started)
        if self.decode_steps % 16 == 0:
            metrics.update_gpu_metrics()

    def _plain_decode_step(self) -> None:
        rows = self._rows
        input_ids = torch.tensor([[s.next_token] for s in rows], dtype=torch.long, device=self.device)
        positions = torch.tensor([[s.kv_len] for s in rows], dtype=torch.long, device=self.device)
        metrics.BATCH_SIZE_PER_STEP.observe(len(rows))
        with self._logits_read_by(rows):
            logits = self._batch.decode(input_ids, positions)
        self.decode_steps += 1
        keep = []
        for index, state in enumerate(rows):
            state.kv_len += 1
            if not self._accept_token(state, self._pick_token(logits[index], state)):
                keep.append(index)
        if len(keep) != len(rows):
            self._keep_rows(keep)

    def _speculative_decode_step(self) -> bool:
        """One forward over the single running row's next token and a prompt-lookup draft; False (nothing
        done) when speculation does not apply: several rows, sampling, the static layout, no draft."""
        if len(self._rows) != 1 or not isinstance(self._batch, DynamicKVBatch):
            return False
        state = self._rows[0]
        if not self._greedy_and_free(state):
            return False  # sampled, or a forced start or start choice picked among allowed tokens
        limit = min(self.options.speculative_tokens, MAX_SPECULATIVE_TOKENS)
        # No draft past the token budget or the context: those tokens could never be accepted.
        limit = min(
            limit,
            state.request.max_new_tokens - (len(state.generated) - state.forced_tokens) - 1,
            self.max_context_tokens - state.kv_len - 2,
        )
        if limit <= 0:
            return False
        if state.lookup is None:
            state.lookup = PromptLookup(state.prompt_ids, min_ngram=self.options.speculative_min_ngram)
        # The lookup holds the prompt and every accepted token; the last one is ``next_token``.
        state.lookup.extend(state.generated[len(state.lookup) - len(state.prompt_ids) :])
        draft = state.lookup.draft(limit)
        if not draft:
            return False
        inputs = [state.next_token, *draft]
        base = state.kv_len
        input_ids = torch.tensor([inputs], dtype=torch.long, device=self.device)
        positions = torch.arange(base, base + len(inputs), device=self.device).unsqueeze(0)
        metrics.BATCH_SIZE_PER_STEP.observe(1)
        with self._argmax_only(True):  # _greedy_and_free, checked above
            logits = self._batch.decode_positions(input_ids, positions)
        self.decode_steps += 1
        self.speculative_steps += 1
        tokens = accepted_tokens(draft, logits[0].argmax(dim=-1).tolist())
        self.draft_tokens += len(draft)
        self.accepted_draft_tokens += len(tokens) - 1
        for offset, token in enumerate(tokens, 1):
            state.kv_len = base + offset
            if self._accept_token(state, token):
                self._keep_rows([])
                return True
        # The KV holds [next_token, *draft]; keep the inputs that the accepted tokens followed.
        self._batch.drop_last(len(inputs) - len(tokens))
        return True

    @contextlib.contextmanager
    def _argmax_only(self, argmax_only: bool) -> Iterator[None]:
        """The forward inside reads only the argmax of its logits (when ``argmax_only``): the output layer
        may screen the vocabulary (:attr:`logits_screen`)."""
        screen = self.logits_screen
        if screen is None or not argmax_only:
            yield
            return
        screen.argmax_only = True
        try:
            yield
        finally:
            screen.argmax_only = False

    @contextlib.contextmanager
    def _logits_read_by(self, rows: Sequence[_RequestState]) -> Iterator[None]:
        """The forward inside gives the next token of ``rows``: its output layer computes only what their
        picks read — the argmax where every row decodes greedily and freely, a lone constrained row's
        allowed tokens (:attr:`LogitsScreen.exact_rows`), else every logit exactly."""
        if all(self._greedy_and_free(s) for s in rows):
            with self._argmax_only(True):
                yield
            return
        screen = self.logits_screen
        allowed = self._allowed_tokens(rows[0]) if screen is not None and len(rows) == 1 else None
        if screen is None or allowed is None:
            yield
            return
        screen.exact_rows = allowed
        try:
            yield
        finally:
            screen.exact_rows = None

    def _allowed_tokens(self, state: _RequestState) -> torch.Tensor | None:
        """The only tokens whose logits :meth:`_pick_token` reads for ``state``'s next token, where it is
        held to a forced start or to the start choices' first word (the same sets it picks among); None
        where it may read any (free, or past a whole choice, where any non-identifier token may follow)."""
        written = self._choosing(state)
        index = self.forced_start_index() if written is not None or state.forcing else None
        if index is None:
            return None
        if written is not None:
            ids, word_complete = allowed_choice_tokens(index, written, state.choices)
            return None if word_complete else ids
        written = self.tokenizer.decode(state.generated)
        if not state.forced.startswith(written):
            return None
        return index.allowed(state.forced[len(written) :])

    def _greedy_and_free(self, state: _RequestState) -> bool:
        """Whether ``state``'s next token is the argmax of its logits: greedy, and no forced start or start
        choices to pick it among (those compare chosen tokens' logits)."""
        return state.request.temperature == 0 and not state.forcing and self._choosing(state) is None

    def _choosing(self, state: _RequestState) -> str | None:
        """The answer so far (forced start included) while its first word is still to be one of the start
        choices; None once a choice is written whole and ended, or without choices."""
        if not state.choices:
            return None
        written = self.tokenizer.decode(state.generated)
        if choice_state(written, state.choices) is ChoiceState.CHOOSING:
            return written
        state.choices = ()  # free from here on
        return None

    def _pick_token(self, logits: torch.Tensor, state: _RequestState) -> int:
        request = state.request
        written = self._choosing(state)
        index = self.forced_start_index() if written is not None else None
        if written is not None and index is not None:
            # Every choice starts with the forced start, so a choice's token also agrees with it.
            token = pick_choice_token(
                logits, index, written, state.choices, state.stop_ids, request.temperature, state.generator
            )
            return token if token is not None else -1
        if state.forcing:
            index = self.forced_start_index()
            written = self.tokenizer.decode(state.generated)
            token = None
            if index is not None and state.forced.startswith(written):
                remaining = state.forced[len(written) :]
                token = pick_forced_token(
                    logits, index, remaining, state.stop_ids, request.temperature, state.generator
                )
            # No token agrees with the forced text: end the answer (empty) rather than write another.
            return token if token is not None else -1
        if request.temperature == 0:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits.float() / request.temperature, dim=-1)
        if request.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > request.top_p
            sorted_probs[outside] = 0.0
            probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
        return int(torch.multinomial(probs, 1, generator=state.generator))

    # ------------------------------------------------------------------------------ batch membership

    def _join_batch(self, state: _RequestState, kv: KVLayers) -> None:
        self._batch.join(kv, state.kv_len)
        self._rows.append(state)
        metrics.BATCH_SIZE.set(len(self._rows))

    def _keep_rows(self, keep: list[int], *, log_released: bool = True) -> None:
        if log_released:
            for index, state in enumerate(self._rows):
                if index not in keep:
                    self._log("released", state)
        rows = [self._rows[i] for i in keep]
        self._batch.keep(keep, [s.kv_len for s in rows])
        self._rows = rows
        metrics.BATCH_SIZE.set(len(self._rows))

    def _reset_batch(self) -> None:
        self._rows = []
        self._batch.reset()
        metrics.BATCH_SIZE.set(0)

    # ------------------------------------------------------------------------- tokens → text → chunks

    def _accept_token(self, state: _RequestState, token: int) -> bool:
        """Record ``token`` for ``state``, stream what is safe to show; True when the request is done."""
        now = time.perf_counter()
        if not state.first_token_time:
            state.first_token_time = now
        if self._is_cancelled(state):
            return True
        if token in state.stop_ids or token < 0:
            self._finish(state, "stop")
            return True
        state.generated.append(token)
        state.unsent_ids.append(token)
        state.next_token = token
        text = self.tokenizer.decode(state.generated)
        if state.forcing:
            state.forced_tokens = len(state.generated)
            if len(text) < len(state.forced):
                if state.kv_len + 1 >= self.max_context_tokens:
                    self._finish(state, "length", "")
                    return True
                return False  # still writing the forced start: nothing to show yet
            state.forcing = False
            if not text.startswith(state.forced):  # decoding merged differently: the start is not there
                self._finish(state, "stop", "")
                return True
        if state.forced:
            text = text[len(state.forced) :]  # the caller's answer is what follows the forced start
        stop_at = _find_stop(text, state.stop_texts, state.emitted_chars)
        if stop_at is not None:
            self._finish(state, "stop", text[:stop_at])
            return True
        if (
            len(state.generated) - state.forced_tokens >= state.request.max_new_tokens
            or state.kv_len + 1 >= self.max_context_tokens
        ):
            self._finish(state, "length", text)
            return True
        safe = len(text) - _held_back(text, state.stop_texts)
        if safe > state.emitted_chars:
            self._emit(
                state,
                TextChunk(
                    text=text[state.emitted_chars : safe],
                    token_ids=tuple(state.unsent_ids),
                    # The figures so far: a caller that answers before the end (a first line answered
                    # early) or stops reading (a block that ended) still knows what the prompt cost.
                    timings=self._timings(state, time.perf_counter()),
                ),
            )
            state.emitted_chars = safe
            state.unsent_ids = []
        return False

    def _finish(
        self, state: _RequestState, reason: FinishReason, text: str | None = None, error: str = ""
    ) -> None:
        if state.finished:
            return
        state.finished = True
        timings = self._timings(state, time.perf_counter())
        self._log("finished", state)
        metrics.REQUESTS_FINISHED.labels(reason=reason).inc()
        metrics.GENERATED_TOKENS.inc(len(state.generated))
        if state.admit_time:
            metrics.STAGE_SECONDS.labels(stage="queue").observe(timings.queue_s)
            metrics.STAGE_SECONDS.labels(stage="prefill").observe(timings.prefill_s)
            metrics.STAGE_SECONDS.labels(stage="first_token").observe(timings.first_token_s)
            metrics.STAGE_SECONDS.labels(stage="decode").observe(timings.decode_s)
            metrics.STAGE_SECONDS.labels(stage="total").observe(timings.total_s)
            if timings.decode_tokens_per_s:
                metrics.DECODE_TOKENS_PER_SECOND.observe(timings.decode_tokens_per_s)
        rest = text[state.emitted_chars :] if text is not None and len(text) > state.emitted_chars else ""
        self._emit(
            state,
            TextChunk(
                text=rest,
                token_ids=tuple(state.unsent_ids),
                finish_reason=reason,
                timings=timings,
                error=error or None,
            ),
        )

    @staticmethod
    def _timings(state: _RequestState, now: float) -> GenerationTimings:
        """The request's figures up to ``now`` (the final chunk's, or a progress snapshot)."""
        first = state.first_token_time or now
        return GenerationTimings(
            queue_s=(state.admit_time or now) - state.submit_time,
            prefill_s=state.prefill_s,
            first_token_s=first - state.submit_time,
            decode_s=now - first,
            total_s=now - state.submit_time,
            # A prefetch reports the prompt tokens it left cached (all of them unless it was stopped early).
            prompt_tokens=state.kv_len if state.request.prefill_only else len(state.prompt_ids),
            generated_tokens=len(state.generated),
            reused_prompt_tokens=state.reused_tokens,
        )

    def _emit(self, state: _RequestState, chunk: TextChunk) -> None:
        if state.cancelled.is_set():
            return  # nobody is listening any more
        try:
            state.loop.call_soon_threadsafe(state.queue.put_nowait, chunk)
        except RuntimeError:  # the consumer's event loop is closed: treat as cancelled
            state.cancelled.set()


def _prepended(text: str, choice: str) -> str:
    """``text + choice``, a :class:`StartChoice` keeping its prior."""
    if not text:
        return choice
    return StartChoice(text + choice, choice.bias) if isinstance(choice, StartChoice) else text + choice


def _find_stop(text: str, stops: tuple[str, ...], emitted: int) -> int | None:
    """Index of the earliest stop string in ``text`` (only searching where one could newly appear)."""
    best = None
    for stop in stops:
        at = text.find(stop, max(0, emitted - len(stop) + 1))
        if at != -1 and (best is None or at < best):
            best = at
    return best


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters to hold back: a possible stop-string start or a partial UTF-8 char."""
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), held, -1):
            if text.endswith(stop[:size]):
                held = size
                break
    if text.endswith("\ufffd"):  # an incomplete multi-byte character; the next token completes it
        held = max(held, 1)
    return held
