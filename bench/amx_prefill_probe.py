"""The int8 CPU weights' prefill kernels compared in one process: AMX bfloat16 against float32.

    taskset -c 1 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/amx_prefill_probe.py \\
        [--sizes 128,384,911] [--rounds 3] [--answers 20] [--kernels-only]

Loads the product's model as the server does (``load_transformers_backend(RoostConfig())``: CPU, int8
weights) and, interleaved round by round, toggles ``cpu_int8.AMX_BF16`` between the two settings:

1. **Linear layers alone** (``--kernels-only`` stops after it): a forward's worth of the model's own
   ``Int8WeightLinear`` layers applied to random activations of each size, best of ``--rounds``;
2. **Cold prefill through the scheduler**: for each prompt size a FIM prompt of a stdlib file, the prefix
   cache cleared before each request, 12 tokens decoded; the request's own prefill and decode seconds
   (its timings) and whether both settings decoded the same tokens;
3. **Answers** (``--answers N``): the first line at a line start in the middle of the N largest stdlib
   modules (bench/decode_step_probe.py's prompts, ~900 tokens), greedy through the scheduler with each
   setting, counted identical or not, and the largest difference of the prompt's last logits.

A CPU without AMX runs the same code (``AMX_BF16`` forced on there emulates bfloat16 and is slow): the
probe says which CPU it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode_step_probe import fim_prompt, stdlib_prompts  # noqa: E402

from roost.engine.backends import cpu_int8  # noqa: E402
from roost.engine.types import GenerationRequest  # noqa: E402

SETTINGS = {"float32": False, "amx_bf16": True}


@contextlib.contextmanager
def kernel(amx: bool) -> Iterator[None]:
    saved = cpu_int8.AMX_BF16
    cpu_int8.AMX_BF16 = amx
    try:
        yield
    finally:
        cpu_int8.AMX_BF16 = saved


def linear_layers(model: Any) -> list[cpu_int8.Int8WeightLinear]:
    """The decoder layers' int8 linear layers in forward order (the lm_head is asked for one row)."""
    return [
        m
        for name, m in model.named_modules()
        if isinstance(m, cpu_int8.Int8WeightLinear) and "lm_head" not in name
    ]


def time_layers(layers: list[cpu_int8.Int8WeightLinear], rows: int, rounds: int) -> dict[str, float]:
    inputs = {layer.in_features: torch.randn(rows, layer.in_features) for layer in layers}
    best = {name: float("inf") for name in SETTINGS}
    with torch.inference_mode():
        for _ in range(rounds):
            for name, amx in SETTINGS.items():
                with kernel(amx):
                    started = time.perf_counter()
                    for layer in layers:
                        layer(inputs[layer.in_features])
                    best[name] = min(best[name], time.perf_counter() - started)
    return best


async def generate(scheduler: Any, prompt: list[int], new_tokens: int) -> tuple[list[int], Any]:
    request = GenerationRequest(prompt_token_ids=tuple(prompt), max_new_tokens=new_tokens, temperature=0.0)
    tokens: list[int] = []
    final = None
    async with contextlib.aclosing(scheduler.generate(request)) as stream:
        async for chunk in stream:
            tokens.extend(chunk.token_ids)
            final = chunk
    return tokens, final.timings if final is not None else None


def last_logits(model: Any, prompt: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return (
            model(input_ids=torch.tensor([prompt]), use_cache=False, logits_to_keep=1).logits[0, -1].float()
        )


async def cold_prefills(backend: Any, sizes: list[int], rounds: int) -> None:
    scheduler, tokenizer = backend.scheduler, backend.loaded.tokenizer
    print("\n2. cold prefill through the scheduler (prefix cache cleared), 12 tokens decoded")
    for size in sizes:
        prompt = fim_prompt(tokenizer, size)
        prefill: dict[str, list[float]] = {name: [] for name in SETTINGS}
        decode: dict[str, list[float]] = {name: [] for name in SETTINGS}
        answers: dict[str, list[int]] = {}
        for _ in range(rounds):
            for name, amx in SETTINGS.items():
                scheduler.prefix_cache.clear()
                with kernel(amx):
                    tokens, timings = await generate(scheduler, prompt, 12)
                prefill[name].append(timings.prefill_s)
                decode[name].append(timings.decode_s)
                answers[name] = tokens
        f32, amx_ = statistics.median(prefill["float32"]), statistics.median(prefill["amx_bf16"])
        print(
            f"  {len(prompt):5d} tokens: prefill float32 {f32:.2f} s ({len(prompt) / f32:.0f} tok/s), "
            f"amx_bf16 {amx_:.2f} s ({len(prompt) / amx_:.0f} tok/s), {f32 / amx_:.2f}x; decode (12 tokens) "
            f"{statistics.median(decode['float32']):.2f} / {statistics.median(decode['amx_bf16']):.2f} s; "
            f"answer {'same' if answers['float32'] == answers['amx_bf16'] else 'DIFFERENT'} "
            f"{tokenizer.decode(answers['amx_bf16'])!r}",
            flush=True,
        )


async def compare_answers(backend: Any, count: int) -> None:
    scheduler, tokenizer = backend.scheduler, backend.loaded.tokenizer
    print(f"\n3. first-line answers, {count} stdlib prompts (~900 tokens), greedy")
    identical, worst = 0, 0.0
    for index, prompt in enumerate(stdlib_prompts(tokenizer, count, 900)):
        answers, logits = {}, {}
        for name, amx in SETTINGS.items():
            scheduler.prefix_cache.clear()
            with kernel(amx):
                tokens, _ = await generate(scheduler, prompt, 24)
                logits[name] = last_logits(scheduler.model, prompt)
            text = tokenizer.decode(tokens)
            answers[name] = text.split("\n", 1)[0]
        same = answers["float32"] == answers["amx_bf16"]
        identical += same
        difference = float((logits["float32"] - logits["amx_bf16"]).abs().max())
        worst = max(worst, difference)
        print(
            f"  prompt {index} ({len(prompt)} tokens): {'same' if same else 'DIFFERENT'} "
            f"max |dlogit| {difference:.3f} float32 {answers['float32']!r} amx {answers['amx_bf16']!r}",
            flush=True,
        )
    print(f"  identical first lines: {identical} of {count}; largest last-logit difference {worst:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="128,384,911", help="prompt sizes (tokens), comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--answers", type=int, default=0)
    parser.add_argument("--kernels-only", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    backend = load_transformers_backend(RoostConfig())
    print(
        f"{backend.name}; threads {torch.get_num_threads()}; this CPU has AMX: {cpu_int8.cpu_has_amx()}",
        flush=True,
    )
    layers = linear_layers(backend.scheduler.model)
    print(f"\n1. a forward's {len(layers)} linear layers, best of {args.rounds} (ms)")
    for size in sizes:
        best = time_layers(layers, size, args.rounds)
        print(
            f"  {size:5d} rows: float32 {best['float32'] * 1000:7.0f}  amx_bf16 {best['amx_bf16'] * 1000:7.0f}  "
            f"{best['float32'] / best['amx_bf16']:.2f}x",
            flush=True,
        )
    if args.kernels_only:
        return 0
    asyncio.run(cold_prefills(backend, sizes, args.rounds))
    if args.answers:
        asyncio.run(compare_answers(backend, args.answers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
