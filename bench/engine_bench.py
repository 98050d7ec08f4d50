"""In-process engine benchmarks on the offline default model (Qwen2.5-Coder-0.5B-Instruct, CPU).

Each figure is compared with a baseline measured in the same run, on the same loaded model:

1. keystroke follow-up: a ~1,000-token prompt plus one typed character, time to first token with
   prefix-KV reuse vs without (target >= 5x);
2. 8 concurrent completion requests: continuous batching vs one at a time, generated tokens/s
   (target >= 2.5x), and the batched answers equal the one-at-a-time answers (greedy);
3. cancellation: the decode step at which a cancelled request leaves the batch, and that no decode
   step runs after it (the worker goes idle);
4. preemption: an inline completion arriving while long edits fill the batch, its latency with
   preemption vs without, and that the paused edits' answers are unchanged (greedy);
5. (``--sections 5``) the static-cache decode step compiled once (``compile="static"``) vs the eager
   dynamic cache: decode tokens/s of a batch, compile time, and equal answers.

Run: .venv/bin/python bench/engine_bench.py [--dtype float32|bfloat16] [--prompt-tokens 1000] [--sections 1,2,3,4]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import sys
import time
from collections.abc import Sequence

import torch

from roost.engine.backends.transformers_backend import LoadedModel, TransformersOptions, load_model
from roost.engine.scheduler import Scheduler, SchedulerOptions
from roost.engine.types import GenerationRequest, RequestPriority, TextChunk


def source_text() -> str:
    """Real code to build prompts from (standard library sources are always present)."""
    import asyncio.base_events
    import json.decoder
    import logging

    return "\n\n".join(inspect.getsource(m) for m in (asyncio.base_events, logging, json.decoder))


def code_prompt(loaded: LoadedModel, text: str, start_token: int, tokens: int) -> str:
    ids = loaded.tokenizer.encode(text)
    return loaded.tokenizer.decode(ids[start_token : start_token + tokens])


async def run(scheduler: Scheduler, request: GenerationRequest) -> tuple[list[int], TextChunk]:
    ids: list[int] = []
    final = None
    async for chunk in scheduler.generate(request):
        ids.extend(chunk.token_ids)
        if chunk.is_final:
            final = chunk
    assert final is not None and final.timings is not None
    return ids, final


def scheduler_for(loaded: LoadedModel, **options: object) -> Scheduler:
    return Scheduler(
        loaded.model, loaded.tokenizer, SchedulerOptions(**options), extra_eos_ids=loaded.extra_eos_ids
    )


async def keystroke_follow_up(loaded: LoadedModel, prompt: str, repeats: int) -> tuple[float, float, float]:
    with_reuse = scheduler_for(loaded)
    without_reuse = scheduler_for(loaded, prefix_cache_bytes=0)
    typed = "xyzab"
    reuse_ttft, fresh_ttft, reused_share = [], [], []
    try:
        # The previous keystroke's request: its prompt KV stays in the prefix cache.
        await run(with_reuse, GenerationRequest(prompt=prompt, max_new_tokens=1))
        current = prompt
        for index in range(repeats):
            current = current + typed[index % len(typed)]
            request = GenerationRequest(prompt=current, max_new_tokens=1)
            _ids, final = await run(with_reuse, request)
            reuse_ttft.append(final.timings.first_token_s)
            reused_share.append(final.timings.reused_prompt_tokens / final.timings.prompt_tokens)
            _ids, final = await run(without_reuse, GenerationRequest(prompt=current, max_new_tokens=1))
            fresh_ttft.append(final.timings.first_token_s)
    finally:
        with_reuse.close()
        without_reuse.close()
    return statistics.median(fresh_ttft), statistics.median(reuse_ttft), statistics.median(reused_share)


async def concurrent_throughput(
    loaded: LoadedModel, prompts: Sequence[str], new_tokens: int
) -> tuple[float, float, bool, float]:
    # No stop conditions: every request generates exactly new_tokens, so both runs do the same work.
    requests = [GenerationRequest(prompt=p, max_new_tokens=new_tokens) for p in prompts]
    scheduler = scheduler_for(loaded, max_batch_size=len(prompts), prefix_cache_bytes=0)
    try:
        started = time.perf_counter()
        one_at_a_time = [await run(scheduler, r) for r in requests]
        sequential_s = time.perf_counter() - started
        started = time.perf_counter()
        together = await asyncio.gather(*(run(scheduler, r) for r in requests))
        batched_s = time.perf_counter() - started
    finally:
        scheduler.close()
    tokens = sum(len(ids) for ids, _final in together)
    same = [ids for ids, _ in together] == [ids for ids, _ in one_at_a_time]
    ttft = statistics.median(final.timings.first_token_s for _ids, final in together)
    return tokens / sequential_s, tokens / batched_s, same, ttft


async def cancellation(loaded: LoadedModel, prompt: str) -> dict[str, float]:
    scheduler = scheduler_for(loaded)
    request = GenerationRequest(prompt=prompt, max_new_tokens=400)
    companion = GenerationRequest(prompt=prompt + "\n# other", max_new_tokens=12)
    try:
        received = 0

        async def consume() -> None:
            nonlocal received
            async for chunk in scheduler.generate(request):
                received += len(chunk.token_ids)

        task = asyncio.create_task(consume())
        companion_task = asyncio.create_task(run(scheduler, companion))
        while received < 8 and not task.done():
            await asyncio.sleep(0.01)
        if task.done():
            raise RuntimeError("the long request ended before it could be cancelled; use another prompt")
        cancel_time = time.perf_counter()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        while not any(e.kind == "released" and e.request_id == request.request_id for e in scheduler.events):
            await asyncio.sleep(0.001)
        await companion_task
        steps_after_companion = scheduler.decode_steps
        await asyncio.sleep(1.0)
        idle_steps = scheduler.decode_steps - steps_after_companion
        events = {e.kind: e for e in scheduler.events if e.request_id == request.request_id}
        return {
            "tokens_before_cancel": received,
            "cancel_step": events["cancel_requested"].decode_step,
            "released_step": events["released"].decode_step,
            "release_latency_ms": (events["released"].time - cancel_time) * 1000,
            "decode_steps_while_idle": idle_steps,
        }
    finally:
        scheduler.close()


async def preemption(
    loaded: LoadedModel, edit_prompts: Sequence[str], inline_prompt: str, edit_tokens: int
) -> dict[str, object]:
    """Inline latency while edits fill a batch of len(edit_prompts), with and without preemption."""
    edits = [
        GenerationRequest(prompt=p, max_new_tokens=edit_tokens, priority=RequestPriority.EDIT)
        for p in edit_prompts
    ]
    inline = GenerationRequest(prompt=inline_prompt, max_new_tokens=16)
    results: dict[str, object] = {}
    answers: dict[bool, list[list[int]]] = {}
    for enabled in (False, True):
        scheduler = scheduler_for(loaded, max_batch_size=len(edits), prefix_cache_bytes=0, preemption=enabled)
        try:
            tasks = [asyncio.create_task(run(scheduler, e)) for e in edits]
            while scheduler.batch_size < len(edits) or scheduler.decode_steps < 4:
                await asyncio.sleep(0.005)
            started = time.perf_counter()
            _ids, final = await run(scheduler, inline)
            results[f"inline_s_{'on' if enabled else 'off'}"] = time.perf_counter() - started
            results[f"inline_ttft_s_{'on' if enabled else 'off'}"] = final.timings.first_token_s
            started = time.perf_counter()
            done = await asyncio.gather(*tasks)
            results[f"edits_rest_s_{'on' if enabled else 'off'}"] = time.perf_counter() - started
            answers[enabled] = [ids for ids, _ in done]
            results["preemptions"] = sum(e.kind == "preempted" for e in scheduler.events)
        finally:
            scheduler.close()
    results["edits_unchanged"] = answers[True] == answers[False]
    return results


async def static_decode(
    loaded: LoadedModel, prompts: Sequence[str], new_tokens: int
) -> dict[str, float | bool]:
    """Batched decode tokens/s: eager dynamic cache vs the compiled static-cache step (after warm-up)."""
    requests = [GenerationRequest(prompt=p, max_new_tokens=new_tokens) for p in prompts]
    figures: dict[str, float | bool] = {}
    answers = {}
    for name, options in (
        ("dynamic", {}),
        ("static", {"static_cache_tokens": 1024, "compile_static_decode": True}),
    ):
        scheduler = scheduler_for(loaded, max_batch_size=len(prompts), prefix_cache_bytes=0, **options)
        try:
            started = time.perf_counter()
            await asyncio.gather(*(run(scheduler, r) for r in requests))  # warm-up (compiles)
            figures[f"{name}_first_run_s"] = time.perf_counter() - started
            started = time.perf_counter()
            done = await asyncio.gather(*(run(scheduler, r) for r in requests))
            seconds = time.perf_counter() - started
            figures[f"{name}_tokens_per_s"] = sum(len(ids) for ids, _ in done) / seconds
            answers[name] = [ids for ids, _ in done]
        finally:
            scheduler.close()
    figures["same_answers"] = answers["dynamic"] == answers["static"]
    return figures


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--concurrent-prompt-tokens", type=int, default=120)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sections", default="1,2,3,4", help="which figures, e.g. 4,5 (5: static compile)")
    args = parser.parse_args()
    sections = {int(part) for part in args.sections.split(",") if part.strip()}

    loaded = load_model(TransformersOptions(dtype=args.dtype))
    print(
        f"model: {loaded.source} on {loaded.device} ({loaded.dtype}); torch threads: {torch.get_num_threads()}"
    )
    text = source_text()
    long_prompt = code_prompt(loaded, text, 0, args.prompt_tokens)

    if 1 in sections:
        keystroke_section(loaded, long_prompt, args)
    if 2 in sections:
        concurrency_section(loaded, text, args)
    if 3 in sections:
        cancellation_section(loaded, text)
    if 4 in sections:
        preemption_section(loaded, text)
    if 5 in sections:
        static_section(loaded, text, args)


def keystroke_section(loaded: LoadedModel, long_prompt: str, args: argparse.Namespace) -> None:
    fresh, reused, share = asyncio.run(keystroke_follow_up(loaded, long_prompt, args.repeats))
    print(
        f"\n1. keystroke follow-up ({len(loaded.tokenizer.encode(long_prompt))}-token prompt + 1 char, median of {args.repeats})"
    )
    print(f"   TTFT without prefix-KV reuse: {fresh * 1000:8.1f} ms")
    print(f"   TTFT with prefix-KV reuse:    {reused * 1000:8.1f} ms  ({share:.1%} of the prompt reused)")
    print(f"   speed-up: {fresh / reused:.1f}x  (target >= 5x)")


def concurrency_section(loaded: LoadedModel, text: str, args: argparse.Namespace) -> None:
    prompts = [
        code_prompt(loaded, text, 1500 + i * 400, args.concurrent_prompt_tokens)
        for i in range(args.concurrent)
    ]
    sequential, batched, same, ttft = asyncio.run(concurrent_throughput(loaded, prompts, args.new_tokens))
    print(
        f"\n2. {args.concurrent} concurrent requests (~{args.concurrent_prompt_tokens}-token prompts, {args.new_tokens} new tokens each)"
    )
    print(f"   one at a time:       {sequential:6.1f} generated tokens/s")
    print(f"   continuous batching: {batched:6.1f} generated tokens/s  (median TTFT {ttft * 1000:.0f} ms)")
    print(
        f"   speed-up: {batched / sequential:.2f}x  (target >= 2.5x); batched answers == one-at-a-time: {same}"
    )


def cancellation_section(loaded: LoadedModel, text: str) -> None:
    figures = asyncio.run(cancellation(loaded, code_prompt(loaded, text, 5000, 200)))
    print(
        "\n3. cancellation (a 400-token generation cancelled after its first tokens, one other request running)"
    )
    print(f"   tokens streamed before cancel: {figures['tokens_before_cancel']}")
    print(
        f"   cancel requested during decode step {figures['cancel_step']}, slot released at step "
        f"{figures['released_step']} ({figures['released_step'] - figures['cancel_step']} step(s) later, "
        f"{figures['release_latency_ms']:.0f} ms)"
    )
    print(
        f"   decode steps in the 1 s after the other request finished: {figures['decode_steps_while_idle']}"
    )


def preemption_section(loaded: LoadedModel, text: str) -> None:
    edits = [code_prompt(loaded, text, 7000 + i * 300, 200) for i in range(2)]
    figures = asyncio.run(preemption(loaded, edits, code_prompt(loaded, text, 8000, 150), 160))
    print(
        "\n4. preemption (2 edits of 160 tokens fill a batch of 2; an inline completion of 16 tokens arrives)"
    )
    print(
        f"   inline completion without preemption: {figures['inline_s_off']:6.2f} s "
        f"(first token after {figures['inline_ttft_s_off']:.2f} s)"
    )
    print(
        f"   inline completion with preemption:    {figures['inline_s_on']:6.2f} s "
        f"(first token after {figures['inline_ttft_s_on']:.2f} s; {figures['preemptions']} edit paused)"
    )
    print(
        f"   edits finished {figures['edits_rest_s_on']:.2f} s after it (vs {figures['edits_rest_s_off']:.2f} s); "
        f"edit answers unchanged by preemption: {figures['edits_unchanged']}"
    )


def static_section(loaded: LoadedModel, text: str, args: argparse.Namespace) -> None:
    prompts = [code_prompt(loaded, text, 1500 + i * 400, args.concurrent_prompt_tokens) for i in range(4)]
    figures = asyncio.run(static_decode(loaded, prompts, args.new_tokens))
    print(f"\n5. decode of 4 concurrent requests ({args.new_tokens} new tokens each), after a warm-up run")
    print(
        f"   eager dynamic cache:            {figures['dynamic_tokens_per_s']:6.1f} tokens/s "
        f"(first run {figures['dynamic_first_run_s']:.1f} s)"
    )
    print(
        f"   compiled static cache (1024):   {figures['static_tokens_per_s']:6.1f} tokens/s "
        f"(first run, compiling: {figures['static_first_run_s']:.1f} s)"
    )
    print(f"   same answers: {figures['same_answers']}")


if __name__ == "__main__":
    main()
