"""Probe (issue 15): what one CPU decode step costs, and a paired A/B of two engine versions' decode step.

Not product code. Loads the product's model exactly as the server does (``load_transformers_backend`` with
the default configuration: bundled Qwen2.5-Coder-0.5B, int8 CPU weights), builds a real FIM prompt of about
``--prompt-tokens`` tokens from a stdlib file, and times greedy decode steps two ways:

* ``forward``: the KV batch's ``decode`` alone (one row, one position a step, argmax fed back): the
  model forward plus the batch's own per-step work (the KV growth, the mask);
* ``scheduler``: a request through the scheduler's real path (its worker thread, speculation on as in the
  product, stop checks, detokenising, streaming): the prompt is in the prefix cache, so the prefill is one
  token, as a follow-up keystroke's; ms per generated token from the request's own timings.

``--old-engine-dir`` (a copy of an older ``engine/``: ``git archive <rev> engine | tar -x -C /tmp/old``)
adds an A/B: the old ``DynamicKVBatch`` and ``Int8WeightLinear.forward`` are swapped in for the ``old``
variant, in the same process on the same weights, the variants interleaved round by round; the generated
tokens are asserted identical, and the forward's logits are compared bit for bit (printed).
``--answers N`` only compares the variants' greedy first-line answers (one step a token) on N real
prompts (a line in the middle of each of the N largest stdlib modules). ``--profile`` prints a
torch.profiler table of ``--profile-steps`` forward steps (current code).

    taskset -c 1 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/decode_step_probe.py \\
        --old-engine-dir /tmp/old/engine --steps 32 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from roost.engine import kv_batch as current_kv_batch
from roost.engine import scheduler as scheduler_module
from roost.engine.backends import cpu_int8 as current_cpu_int8
from roost.engine.types import GenerationRequest

FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"


@dataclass
class Variant:
    name: str
    batch_class: type
    int8_forward: Callable[..., Any]
    forward_ms: list[float] = field(default_factory=list)  # per step, all rounds
    scheduler_ms: list[float] = field(default_factory=list)  # per generated token, one value a round
    # The scheduler rounds' split: its decode steps' time, the model forwards inside them, the tokens
    # they decoded and the forwards (a speculative check decodes several tokens in one).
    step_s: float = 0.0
    model_s: float = 0.0
    decoded_tokens: int = 0
    forwards: int = 0
    tokens: list[int] | None = None
    logits: list[torch.Tensor] | None = None


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fim_prompt(tokenizer: Any, tokens: int) -> list[int]:
    """A FIM prompt of about ``tokens`` tokens: the code before and after a line of a stdlib file."""
    source = Path(__import__("email").__file__).parent / "_header_value_parser.py"
    text = source.read_text(encoding="utf-8")
    cursor = text.index("def get_quoted_string(")
    prefix_ids = tokenizer.encode(text[:cursor])[-int(tokens * 0.7) :]
    suffix_ids = tokenizer.encode(text[cursor:])[: int(tokens * 0.3)]
    prompt = (
        f"{FIM_PREFIX}{tokenizer.decode(prefix_ids)}{FIM_SUFFIX}{tokenizer.decode(suffix_ids)}{FIM_MIDDLE}"
    )
    return list(tokenizer.encode(prompt))


class TimedModel:
    """The model, adding each forward's wall time to ``seconds`` (the batch calls its model, nothing else)."""

    def __init__(self, model: Any) -> None:
        self.model, self.seconds, self.calls = model, 0.0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.model(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


@contextlib.contextmanager
def timed_decode_steps(variant: Variant, scheduler: Any) -> Iterator[None]:
    """The scheduler's decode steps and the model forwards inside them, timed into ``variant``."""
    timed_model = TimedModel(scheduler.model)
    scheduler._batch.model = timed_model
    original_step = scheduler._decode_step
    step_seconds = [0.0]

    in_step = threading.Event()

    def timed_step() -> None:
        in_step.set()
        started = time.perf_counter()
        try:
            original_step()
        finally:
            step_seconds[0] += time.perf_counter() - started
            in_step.clear()

    scheduler._decode_step = timed_step
    try:
        yield
    finally:
        while in_step.is_set():  # the step that sent the final chunk is still finishing
            time.sleep(0.001)
        del scheduler._decode_step  # the class's method again
        scheduler._batch.model = scheduler.model
        variant.step_s += step_seconds[0]
        variant.model_s += timed_model.seconds
        variant.forwards += timed_model.calls


@contextlib.contextmanager
def variant_installed(variant: Variant, scheduler: Any) -> Iterator[None]:
    """The variant's KV batch and int8 forward, in the scheduler (idle) and the int8 layers' class."""
    saved_forward = current_cpu_int8.Int8WeightLinear.forward
    saved_batch_class = scheduler_module.DynamicKVBatch
    current_cpu_int8.Int8WeightLinear.forward = variant.int8_forward  # type: ignore[method-assign]
    scheduler_module.DynamicKVBatch = variant.batch_class  # type: ignore[misc]
    scheduler._batch = variant.batch_class(scheduler.model, scheduler._cache_kwarg, scheduler.device)
    try:
        yield
    finally:
        current_cpu_int8.Int8WeightLinear.forward = saved_forward  # type: ignore[method-assign]
        scheduler_module.DynamicKVBatch = saved_batch_class  # type: ignore[misc]
        scheduler._batch = saved_batch_class(scheduler.model, scheduler._cache_kwarg, scheduler.device)


def prefill(model: Any, cache_kwarg: str, prompt: list[int]) -> tuple[Any, int]:
    """The prompt's KV (all but the last token) and the last token, computed once and shared read-only."""
    from transformers import DynamicCache

    ids = torch.tensor([prompt[:-1]])
    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1, **{cache_kwarg: DynamicCache()})
    cache = current_kv_batch.returned_cache(out)
    return [(layer.keys, layer.values) for layer in cache.layers], prompt[-1]


def forward_round(
    variant: Variant, model: Any, cache_kwarg: str, kv: Any, last: int, length: int, steps: int
) -> tuple[list[int], list[torch.Tensor]]:
    """``steps`` greedy decode steps through the variant's KV batch; ms per step appended to the variant."""
    batch = variant.batch_class(model, cache_kwarg, torch.device("cpu"))
    tokens, logits_seen = [], []
    with torch.inference_mode():
        batch.join(kv, length)
        token, position = last, length
        for _ in range(steps):
            started = time.perf_counter()
            logits = batch.decode(torch.tensor([[token]]), torch.tensor([[position]]))
            token = int(torch.argmax(logits[0]))
            variant.forward_ms.append((time.perf_counter() - started) * 1000)
            tokens.append(token)
            logits_seen.append(logits[0].clone())
            position += 1
    return tokens, logits_seen


async def scheduler_round(variant: Variant, scheduler: Any, prompt: list[int], steps: int) -> list[int]:
    request = GenerationRequest(prompt_token_ids=tuple(prompt), max_new_tokens=steps, temperature=0.0)
    tokens: list[int] = []
    final = None
    with timed_decode_steps(variant, scheduler):
        async with contextlib.aclosing(scheduler.generate(request)) as stream:
            async for chunk in stream:
                tokens.extend(chunk.token_ids)
                final = chunk
    assert final is not None and final.timings is not None
    decoded = max(final.timings.generated_tokens - 1, 1)  # the first token came from the prefill
    variant.scheduler_ms.append(final.timings.decode_s * 1000 / decoded)
    variant.decoded_tokens += decoded
    return tokens


def stdlib_prompts(tokenizer: Any, count: int, tokens: int) -> list[list[int]]:
    """``count`` FIM prompts of about ``tokens`` tokens at real cursors: the start of a code line in the
    middle of each of ``count`` stdlib modules (the largest first), what follows the indentation."""
    root = Path(__import__("email").__file__).parent.parent
    files = sorted(root.glob("*.py"), key=lambda path: -path.stat().st_size)[:count]
    prompts = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        middle = len(lines) // 2
        line = next(i for i in range(middle, len(lines)) if lines[i].strip() and len(lines[i].strip()) > 20)
        offset = sum(len(x) for x in lines[:line]) + len(lines[line]) - len(lines[line].lstrip())
        prefix_ids = tokenizer.encode(text[:offset])[-int(tokens * 0.7) :]
        suffix_ids = tokenizer.encode(text[offset:])[: int(tokens * 0.3)]
        prompt = f"{FIM_PREFIX}{tokenizer.decode(prefix_ids)}{FIM_SUFFIX}{tokenizer.decode(suffix_ids)}{FIM_MIDDLE}"
        prompts.append(list(tokenizer.encode(prompt)))
    return prompts


def line_answer(
    variant: Variant,
    model: Any,
    cache_kwarg: str,
    kv: Any,
    last: int,
    length: int,
    tokenizer: Any,
    limit: int,
) -> list[int]:
    """The variant's greedy answer up to the end of its first line (or ``limit`` tokens), one step a token."""
    batch = variant.batch_class(model, cache_kwarg, torch.device("cpu"))
    tokens: list[int] = []
    with torch.inference_mode():
        batch.join(kv, length)
        token, position = last, length
        for _ in range(limit):
            logits = batch.decode(torch.tensor([[token]]), torch.tensor([[position]]))
            token = int(torch.argmax(logits[0]))
            tokens.append(token)
            position += 1
            if "\n" in tokenizer.decode(tokens) or token in tokenizer.eos_token_ids:
                break
    return tokens


def compare_answers(variants: list[Variant], backend: Any, count: int, tokens: int, limit: int) -> None:
    scheduler = backend.scheduler
    tokenizer = backend.loaded.tokenizer
    identical = 0
    for index, prompt in enumerate(stdlib_prompts(tokenizer, count, tokens)):
        kv, last = prefill(scheduler.model, scheduler._cache_kwarg, prompt)
        answers = []
        for variant in variants:
            with variant_installed(variant, scheduler):
                answer = line_answer(
                    variant,
                    scheduler.model,
                    scheduler._cache_kwarg,
                    kv,
                    last,
                    len(prompt) - 1,
                    tokenizer,
                    limit,
                )
            answers.append(answer)
        same = all(answer == answers[0] for answer in answers)
        identical += same
        text = tokenizer.decode(answers[0])
        print(
            f"  prompt {index} ({len(prompt)} tokens): {'same' if same else 'DIFFERENT'} {text!r}", flush=True
        )
    print(f"answers identical on {identical} of {count} prompts ({', '.join(v.name for v in variants)})")


def profile_forward(model: Any, cache_kwarg: str, kv: Any, last: int, length: int, steps: int) -> None:
    from torch.profiler import ProfilerActivity, profile

    batch = current_kv_batch.DynamicKVBatch(model, cache_kwarg, torch.device("cpu"))
    with torch.inference_mode():
        batch.join(kv, length)
        token, position = last, length
        for _ in range(3):  # warm-up
            token = int(torch.argmax(batch.decode(torch.tensor([[token]]), torch.tensor([[position]]))[0]))
            position += 1
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                logits = batch.decode(torch.tensor([[token]]), torch.tensor([[position]]))
                token = int(torch.argmax(logits[0]))
                position += 1
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def int4_summary(model: Any) -> str:
    """How many int8 layers also hold a 4-bit decode copy, its bytes, and the process's RSS after load."""
    layers = [m for m in model.modules() if isinstance(m, current_cpu_int8.Int8WeightLinear)]
    with_int4 = [m for m in layers if getattr(m, "weight_int4", None) is not None]
    extra = sum(m.weight_int4.nbytes + m.int4_scale_and_zero.nbytes for m in with_int4)
    status = Path("/proc/self/status").read_text(encoding="ascii")
    rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "?")
    return (
        f"int4 decode copies: {len(with_int4)} of {len(layers)} layers, {extra / 2**20:.1f} MiB; RSS {rss} kB"
    )


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return f"p50 {statistics.median(values):.1f} mean {statistics.fmean(values):.1f} min {min(values):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prompt-tokens", type=int, default=900)
    parser.add_argument("--steps", type=int, default=32, help="decode steps (tokens) per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--old-engine-dir", type=Path, default=None)
    parser.add_argument("--no-scheduler", action="store_true", help="time the forward only")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--answers",
        type=int,
        default=0,
        help="only compare the variants' first-line answers on this many prompts",
    )
    parser.add_argument("--profile-steps", type=int, default=16)
    args = parser.parse_args()

    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    backend = load_transformers_backend(RoostConfig())
    scheduler = backend.scheduler
    model, cache_kwarg = scheduler.model, scheduler._cache_kwarg
    prompt = fim_prompt(backend.loaded.tokenizer, args.prompt_tokens)
    kv, last = prefill(model, cache_kwarg, prompt)
    length = len(prompt) - 1
    print(f"{backend.name}; prompt {len(prompt)} tokens; threads {torch.get_num_threads()}", flush=True)
    print(int4_summary(model), flush=True)

    variants = [
        Variant("new", current_kv_batch.DynamicKVBatch, current_cpu_int8.Int8WeightLinear.forward),
    ]
    if args.old_engine_dir is not None:
        old_kv = load_module(args.old_engine_dir / "kv_batch.py", "old_roost_kv_batch")
        old_int8 = load_module(args.old_engine_dir / "backends" / "cpu_int8.py", "old_roost_cpu_int8")
        variants.insert(0, Variant("old", old_kv.DynamicKVBatch, old_int8.Int8WeightLinear.forward))

    if args.answers:
        compare_answers(variants, backend, args.answers, args.prompt_tokens, limit=48)
        scheduler.close()
        return 0
    if args.profile:
        profile_forward(model, cache_kwarg, kv, last, length, args.profile_steps)

    loop = asyncio.new_event_loop()
    if not args.no_scheduler:  # the prompt's KV into the prefix cache, so each round's prefill is one token
        loop.run_until_complete(scheduler_round(variants[-1], scheduler, prompt, 2))
        variants[-1].scheduler_ms.clear()
    for round_ in range(args.rounds):
        order = variants if round_ % 2 == 0 else variants[::-1]
        for variant in order:
            with variant_installed(variant, scheduler):
                first = len(variant.forward_ms)
                tokens, logits = forward_round(variant, model, cache_kwarg, kv, last, length, args.steps)
                if round_ == 0:  # the first step of a round pays the join; warm-up round not counted
                    variant.forward_ms[first:] = []
                if variant.tokens is None:
                    variant.tokens, variant.logits = tokens, logits
                assert tokens == variant.tokens, f"{variant.name}: greedy tokens changed between rounds"
                if not args.no_scheduler:
                    answer = loop.run_until_complete(scheduler_round(variant, scheduler, prompt, args.steps))
                    if round_ == 0:
                        variant.scheduler_ms.clear()
                        variant.step_s = variant.model_s = 0.0
                        variant.decoded_tokens = variant.forwards = 0
                    print(f"  round {round_} {variant.name}: {len(answer)} tokens", flush=True)

    reference = variants[0]
    for variant in variants:
        print(f"{variant.name}: forward ms/step {summary(variant.forward_ms)} (n={len(variant.forward_ms)})")
        if variant.scheduler_ms:
            tokens = max(variant.decoded_tokens, 1)
            print(
                f"{variant.name}: scheduler ms/token {summary(variant.scheduler_ms)} "
                f"(rounds={len(variant.scheduler_ms)}); {variant.decoded_tokens} tokens in {variant.forwards} "
                f"forwards; per token: model {variant.model_s * 1000 / tokens:.1f} ms, the decode step's own "
                f"Python {(variant.step_s - variant.model_s) * 1000 / tokens:.2f} ms"
            )
        # Bit-identical between engine versions unless the weights' kernels changed (the int4 decode copy).
        same_tokens = variant.tokens == reference.tokens
        assert variant.logits is not None and reference.logits is not None
        identical = all(torch.equal(a, b) for a, b in zip(variant.logits, reference.logits, strict=True))
        diffs = [float((a - b).abs().max()) for a, b in zip(variant.logits, reference.logits, strict=True)]
        worst = f"{max(diffs):.2e}, first step {diffs[0]:.2e}"
        print(
            f"{variant.name}: tokens {'identical to' if same_tokens else 'DIFFERENT from'} {reference.name}; "
            f"logits bit-identical {identical} (max diff {worst})"
        )
    scheduler.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
