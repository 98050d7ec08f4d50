"""Prompt-lookup speculative decoding (SchedulerOptions.speculative_tokens): speed and identical answers.

    flock /tmp/cpu0.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python bench/speculative_bench.py [--files 10] [--tasks 10] [--tokens 0,4,8] [--json OUT]

The bundled model, loaded once in this process as the server loads it (quality_bench.load_backend: int8
weights on a CPU), answers single-line completions greedily (the family's FIM stops and the newline, 24 max
tokens), each prompt with every ``--tokens`` setting in turn (0 = off, the baseline of the same run):

* ``email``: a plain FIM prompt per cursor of bench/latency_bench.py (a copy of the stdlib ``email``
  package, the cursor on a new indented line in the middle of the largest files), prefix 70 % / suffix
  30 % of ``--budget`` tokens (1,024: the product's CPU budget);
* ``humaneval``: HumanEval-infilling single-line tasks, quality_bench.raw_fim_request.

Each prompt is prefilled once (its cold answer, speculation off), then every setting answers it again from
the cached prompt KV, so the settings compare the decoding alone, on the same prompt KV. Per setting:
tokens per decode forward, decode tokens/s (first token to last), the time to the whole answer from the
cached prompt (p50), the cold answer time estimated as the cold prefill plus that setting's decode, and
whether every answer equals the baseline's token for token. Ratios are against the off setting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import latency_bench
import quality_bench
from product_server import model_cache_dir

from roost.engine import kv_batch
from roost.engine.types import GenerationRequest

MAX_TOKENS = 24


@dataclass
class Answer:
    token_ids: tuple[int, ...]
    text: str
    total_s: float
    prefill_s: float
    decode_s: float
    generated: int
    forwards: int  # decode forwards (the first token comes from the prefill)


@dataclass
class Prompt:
    source: str
    name: str
    request: GenerationRequest
    cold: Answer | None = None
    answers: dict[str, Answer] = field(default_factory=dict)


def email_prompts(tokenizer: Any, count: int, budget: int) -> list[Prompt]:
    with tempfile.TemporaryDirectory() as scratch:
        workspace = latency_bench.copy_package("email", Path(scratch))
        picked = latency_bench.cursors(workspace, count)
    prompts = []
    for cursor in picked:
        request = latency_bench.raw_fim_request(tokenizer, cursor, budget, MAX_TOKENS)
        prompts.append(Prompt("email", cursor.path, request))
    return prompts


def humaneval_prompts(count: int) -> list[Prompt]:
    return [
        Prompt("humaneval", task.task_id, quality_bench.raw_fim_request(task, MAX_TOKENS))
        for task in quality_bench.load_tasks("single", count)
    ]


def parse_setting(setting: str) -> tuple[int, bool]:
    """ "4": four draft tokens; "4r": the same with transformers' repeat_kv attention in the check."""
    return int(setting.rstrip("r")), not setting.endswith("r")


async def answer(backend: Any, request: GenerationRequest, setting: str) -> Answer:
    scheduler = backend.scheduler
    speculative_tokens, kv_batch.PACK_GQA_IN_VERIFICATION = parse_setting(setting)
    scheduler.options = dataclasses.replace(scheduler.options, speculative_tokens=speculative_tokens)
    steps_before = scheduler.decode_steps
    ids: list[int] = []
    parts: list[str] = []
    final = None
    async with contextlib.aclosing(backend.generate(request)) as stream:
        async for chunk in stream:
            ids.extend(chunk.token_ids)
            parts.append(chunk.text)
            final = chunk
    assert final is not None and final.timings is not None, final
    timings = final.timings
    return Answer(
        tuple(ids),
        "".join(parts),
        timings.total_s,
        timings.prefill_s,
        timings.decode_s,
        timings.generated_tokens,
        scheduler.decode_steps - steps_before,
    )


async def run(args: argparse.Namespace, settings: list[str]) -> tuple[list[Prompt], str]:
    backend = await asyncio.to_thread(quality_bench.load_backend)
    print(f"loaded {backend.name}; defaults {backend.scheduler.options}", flush=True)
    prompts = email_prompts(backend.loaded.tokenizer, args.files, args.budget) + humaneval_prompts(args.tasks)
    try:
        await answer(backend, GenerationRequest(prompt="def f():", max_new_tokens=4), "0")  # warm-up
        for number, prompt in enumerate(prompts):
            backend.scheduler.prefix_cache.clear()
            prompt.cold = await answer(backend, prompt.request, "0")
            # Alternate the order so that a drift of the machine's speed favours no setting.
            order = settings if number % 2 == 0 else settings[::-1]
            for setting in order:
                prompt.answers[setting] = await answer(backend, prompt.request, setting)
            line = "  ".join(
                f"k={s}: {prompt.answers[s].total_s * 1000:5.0f} ms "
                f"{prompt.answers[s].generated}/{prompt.answers[s].forwards}f"
                for s in settings
            )
            print(
                f"{prompt.source} {prompt.name}: cold prefill {prompt.cold.prefill_s:.1f} s  {line}  "
                f"{prompt.answers[settings[0]].text!r}",
                flush=True,
            )
        return prompts, backend.loaded.dtype
    finally:
        await backend.aclose()


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize(prompts: list[Prompt], settings: list[str]) -> dict[str, Any]:
    baseline = settings[0]
    report: dict[str, Any] = {}
    for source in ("email", "humaneval", "all"):
        picked = [p for p in prompts if source in ("all", p.source)]
        if not picked:
            continue
        rows = {}
        for setting in settings:
            answers = [p.answers[setting] for p in picked]
            decoded = sum(a.generated - 1 for a in answers)
            rows[setting] = {
                "tokens_per_forward": decoded / max(sum(a.forwards for a in answers), 1),
                "decode_tok_s": decoded / max(sum(a.decode_s for a in answers), 1e-9),
                "answer_cached_p50_ms": p50([a.total_s * 1000 for a in answers]),
                "answer_cold_p50_ms": p50(
                    [
                        (p.cold.prefill_s + a.total_s - a.prefill_s) * 1000
                        for p, a in zip(picked, answers, strict=True)
                        if p.cold
                    ]
                ),
                "identical": sum(
                    p.answers[setting].token_ids == p.answers[baseline].token_ids for p in picked
                ),
                "prompts": len(picked),
            }
        report[source] = rows
        base = rows[baseline]
        print(
            f"\n{source} ({len(picked)} prompts), single-line, {MAX_TOKENS} max tokens; ratios vs k={baseline}:"
        )
        for setting, row in rows.items():
            print(
                f"  k={setting:>3}: {row['tokens_per_forward']:.2f} tok/forward  "
                f"decode {row['decode_tok_s']:5.1f} tok/s (x{row['decode_tok_s'] / base['decode_tok_s']:.2f})  "
                f"answer from cached prompt p50 {row['answer_cached_p50_ms']:5.0f} ms "
                f"(x{row['answer_cached_p50_ms'] / base['answer_cached_p50_ms']:.2f})  "
                f"cold answer p50 {row['answer_cold_p50_ms']:6.0f} ms "
                f"(x{row['answer_cold_p50_ms'] / base['answer_cold_p50_ms']:.2f})  "
                f"identical {row['identical']}/{row['prompts']}"
            )
    for prompt in prompts:
        for setting in settings[1:]:
            if prompt.answers[setting].token_ids != prompt.answers[baseline].token_ids:
                print(
                    f"  differs at k={setting}: {prompt.source} {prompt.name}: "
                    f"{prompt.answers[baseline].text!r} vs {prompt.answers[setting].text!r}"
                )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10, help="email cursors")
    parser.add_argument("--tasks", type=int, default=10, help="HumanEval single-line tasks")
    parser.add_argument("--budget", type=int, default=1024, help="email prompt tokens (prefix + suffix)")
    parser.add_argument(
        "--tokens",
        default="0,4",
        help="speculative_tokens settings, the first the baseline; a trailing r: transformers' repeat_kv attention",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("ROOST_CACHE_DIR", model_cache_dir())
    settings = args.tokens.split(",")
    started = time.perf_counter()
    prompts, dtype = asyncio.run(run(args, settings))
    report = summarize(prompts, settings)
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(f"\n{dtype} weights, {threads} thread(s); {time.perf_counter() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"settings": settings, "report": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
