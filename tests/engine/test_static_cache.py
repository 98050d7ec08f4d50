"""The static-cache decode layout (fixed shapes, compiled once) against the dynamic one, on a tiny Mistral."""

from __future__ import annotations

import asyncio
import time

import pytest

from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.types import GenerationRequest, RequestPriority, UnsupportedRequestError

from .conftest import load_tiny_backend
from .test_scheduler import random_prompt, run, wait_for_tokens

# Prompts of different lengths joining at different times: rows shift right when a longer prompt
# joins, and with 48 static positions the write index reaches the end and compacts many times.
REQUESTS = [(20, 1, 25), (6, 2, 25), (30, 3, 12), (11, 4, 20)]


def requests() -> list[GenerationRequest]:
    return [
        GenerationRequest(prompt_token_ids=random_prompt(length, seed), max_new_tokens=new)
        for length, seed, new in REQUESTS
    ]


async def alone_outputs(tiny_mistral_dir) -> list[tuple[int, ...]]:
    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=1)
    try:
        return [(await run(backend, request))[0] for request in requests()]
    finally:
        backend.scheduler.close()


async def staggered(backend, batch: list[GenerationRequest]) -> list[tuple[int, ...]]:
    tasks = []
    for request in batch:
        tasks.append(asyncio.create_task(run(backend, request)))
        await asyncio.sleep(0.02)
    return [result[0] for result in await asyncio.gather(*tasks)]


async def test_static_layout_equals_dynamic_one_at_a_time(tiny_mistral_dir) -> None:
    expected = await alone_outputs(tiny_mistral_dir)
    backend = load_tiny_backend(
        tiny_mistral_dir, max_batch_size=3, static_cache_tokens=48, compile_static_decode=False
    )
    try:
        assert await staggered(backend, requests()) == expected
        shifts = backend.scheduler._batch.shifts  # noqa: SLF001
        assert shifts["right"] >= 1 and shifts["left"] >= 1  # both layout moves were exercised
        assert backend.scheduler.max_context_tokens == 47
        with pytest.raises(UnsupportedRequestError, match="context holds 47"):
            await run(backend, GenerationRequest(prompt_token_ids=random_prompt(60, 9), max_new_tokens=2))
        # A prompt of 40 tokens fits, but generating stops at the static capacity.
        _ids, _text, final = await run(
            backend, GenerationRequest(prompt_token_ids=random_prompt(40, 8), max_new_tokens=30)
        )
        assert final.finish_reason in ("length", "stop") and final.timings.generated_tokens <= 7
    finally:
        backend.scheduler.close()


async def test_preemption_works_in_the_static_layout(tiny_mistral_dir) -> None:
    edit = GenerationRequest(
        prompt_token_ids=random_prompt(14, 70), max_new_tokens=40, priority=RequestPriority.EDIT
    )
    inline = GenerationRequest(prompt_token_ids=random_prompt(25, 71), max_new_tokens=5)
    alone = load_tiny_backend(tiny_mistral_dir, max_batch_size=1)
    try:
        expected = [(await run(alone, r))[0] for r in (edit, inline)]
    finally:
        alone.scheduler.close()
    backend = load_tiny_backend(
        tiny_mistral_dir, max_batch_size=1, static_cache_tokens=64, compile_static_decode=False
    )
    try:
        task = asyncio.create_task(run(backend, edit))
        await wait_for_tokens(backend, edit.request_id, 4)
        inline_ids = (await run(backend, inline))[0]
        edit_ids = (await task)[0]
        assert [edit_ids, inline_ids] == expected
        assert [e.kind for e in backend.scheduler.events if e.request_id == edit.request_id].count(
            "resumed"
        ) == 1
    finally:
        backend.scheduler.close()


@pytest.mark.slow  # about 35 s on 2 CPU cores, nearly all of it inductor compiling the decode step
async def test_compiled_static_decode_equals_eager(tiny_mistral_dir) -> None:
    """torch.compile (inductor, C++ on this CPU) of the fixed-shape decode step: same greedy tokens."""
    expected = await alone_outputs(tiny_mistral_dir)
    started = time.perf_counter()
    backend = TransformersBackend.load(
        TransformersOptions(model=str(tiny_mistral_dir), device="cpu", compile="static")
    )
    try:
        scheduler = backend.scheduler
        assert scheduler.options.static_cache_tokens and scheduler.options.compile_static_decode
        assert await staggered(backend, requests()) == expected
        # Joins, leaves and index changes must not recompile: one graph for every step.
        import torch._dynamo

        frames = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        assert frames >= 1
        assert await staggered(backend, requests()[:2]) == expected[:2]
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == frames
    finally:
        await backend.aclose()
    print(f"compiled static decode test: {time.perf_counter() - started:.1f} s")
