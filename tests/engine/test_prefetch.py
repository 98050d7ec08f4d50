"""Prefetch (``prefill_only`` requests): a prompt's KV computed into the prefix cache while the engine is
idle, given up between two chunks when a real request arrives, never holding a running request up."""

from __future__ import annotations

import asyncio

import pytest

from roost.engine.types import GenerationRequest, RequestPriority

from .conftest import load_tiny_backend
from .test_scheduler import random_prompt, run


async def _running(backend, request: GenerationRequest) -> None:
    """Once ``request`` has been admitted, and a little after (so its prefill is under way)."""
    while not any(
        e.kind == "admitted" and e.request_id == request.request_id for e in backend.scheduler.events
    ):
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.05)


def prefetch(prompt: tuple[int, ...]) -> GenerationRequest:
    return GenerationRequest(prompt_token_ids=prompt, prefill_only=True, priority=RequestPriority.PREFETCH)


async def test_a_prefetched_prompt_is_reused_whole_and_answers_the_same(tiny_mistral_dir) -> None:
    warmed = load_tiny_backend(tiny_mistral_dir)
    cold = load_tiny_backend(tiny_mistral_dir, prefix_cache_bytes=0)
    try:
        base = random_prompt(300, 41)
        ids, text, final = await run(warmed, prefetch(base))
        assert (ids, text, final.finish_reason) == ((), "", "length")
        assert final.timings.prompt_tokens == 300 and final.timings.reused_prompt_tokens == 0
        # The same prompt again: already cached whole, nothing to compute.
        _ids, _text, again = await run(warmed, prefetch(base))
        assert again.timings.reused_prompt_tokens == 300

        request = GenerationRequest(prompt_token_ids=base + (4242, 777), max_new_tokens=10)
        warm_ids, _text, warm_final = await run(warmed, request)
        cold_ids, _text, cold_final = await run(cold, request)
        assert warm_final.timings.reused_prompt_tokens == 300
        assert cold_final.timings.reused_prompt_tokens == 0
        assert warm_ids == cold_ids
    finally:
        warmed.scheduler.close()
        cold.scheduler.close()


async def test_a_prefetch_waits_while_a_request_decodes(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir)
    try:
        running = GenerationRequest(prompt_token_ids=random_prompt(20, 42), max_new_tokens=40)
        first = asyncio.create_task(run(backend, running))
        while backend.scheduler.batch_size == 0:
            await asyncio.sleep(0.002)
        warm = prefetch(random_prompt(200, 43))
        await asyncio.gather(first, run(backend, warm))
        kinds = [
            (e.kind, e.request_id) for e in backend.scheduler.events if e.kind in ("admitted", "finished")
        ]
        # Not admitted while the running request still had tokens to decode (with a batch of 8 it would
        # otherwise have been admitted at the next step and its prefill run between two decode steps).
        assert kinds.index(("finished", running.request_id)) < kinds.index(("admitted", warm.request_id))
    finally:
        backend.scheduler.close()


async def test_a_real_request_stops_the_prefetch_and_reuses_what_it_computed(tiny_mistral_dir) -> None:
    # One token per chunk, so the prefetch of 3,000 tokens is still running when the request arrives (and
    # any cached prefix is reused, however few tokens the prefetch got through on a slow machine).
    backend = load_tiny_backend(tiny_mistral_dir, prefetch_chunk_tokens=1, min_reused_prefix_tokens=1)
    try:
        base = random_prompt(3000, 44)
        warm = prefetch(base)
        warming = asyncio.create_task(run(backend, warm))
        await _running(backend, warm)
        request = GenerationRequest(prompt_token_ids=base, max_new_tokens=3)
        _ids, _text, answered = await run(backend, request)
        _ids, _text, stopped = await warming
        assert stopped.finish_reason == "cancelled"
        cached = stopped.timings.prompt_tokens
        assert 0 < cached < 3000
        # The request started from the prefetch's KV: at least what it had cached when it stopped.
        assert answered.timings.reused_prompt_tokens >= cached
        events = [(e.kind, e.request_id) for e in backend.scheduler.events]
        # Admitted right after the prefetch gave up: it waited one chunk at most, not the whole prefill.
        finished = events.index(("finished", warm.request_id))
        assert events[finished + 1] == ("admitted", request.request_id)
    finally:
        backend.scheduler.close()


async def test_a_cancelled_prefetch_keeps_its_partial_kv(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, prefetch_chunk_tokens=1, min_reused_prefix_tokens=1)
    try:
        base = random_prompt(3000, 45)
        cancel = asyncio.Event()
        warm = GenerationRequest(
            prompt_token_ids=base, prefill_only=True, priority=RequestPriority.PREFETCH, cancel_event=cancel
        )
        warming = asyncio.create_task(run(backend, warm))
        await _running(backend, warm)
        cancel.set()
        _ids, _text, stopped = await warming
        assert stopped.finish_reason == "cancelled"
        assert 0 < stopped.timings.prompt_tokens < 3000
        _ids, _text, answered = await run(backend, GenerationRequest(prompt_token_ids=base, max_new_tokens=2))
        assert answered.timings.reused_prompt_tokens >= stopped.timings.prompt_tokens
    finally:
        backend.scheduler.close()


async def test_closing_the_engine_stops_a_running_prefetch(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, prefetch_chunk_tokens=1)
    base = random_prompt(3000, 46)
    warm = prefetch(base)
    warming = asyncio.create_task(run(backend, warm))
    await _running(backend, warm)
    await backend.scheduler.aclose()
    # The worker stopped between two chunks instead of prefilling 3,000 tokens one by one first.
    assert not backend.scheduler._worker.is_alive()
    _ids, _text, final = await asyncio.wait_for(warming, 30)
    assert final.finish_reason == "cancelled" and final.timings.prompt_tokens < 3000


async def test_a_prefetch_through_our_engine_server_fills_its_prefix_cache(tiny_mistral_dir) -> None:
    """The shared engine (``roost engine serve``, spoken to with ``server_kind="roost"``) runs a prefetch
    as the in-process engine does: the next request with that prompt start reuses its KV. Other servers'
    caches are not ours to fill (the HTTP backend drops it for them)."""
    pytest.importorskip("uvicorn", reason="roost engine serve needs the local extra")
    from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions
    from roost.engine.server import EngineServer

    backend = load_tiny_backend(tiny_mistral_dir)
    server = EngineServer(backend, model_name="tiny")
    port = await server.start(0)
    client = OpenAIHTTPBackend(
        OpenAIHTTPOptions(base_url=f"http://127.0.0.1:{port}", model="tiny", server_kind="roost")
    )
    try:
        prompt = "def total(values):\n    result = 0\n    for value in values:\n" * 12
        warmed = GenerationRequest(prompt=prompt, prefill_only=True, priority=RequestPriority.PREFETCH)
        chunks = [chunk async for chunk in client.generate(warmed)]
        assert "".join(chunk.text for chunk in chunks) == "" and chunks[-1].finish_reason == "length"
        _ids, _text, final = await run(
            backend, GenerationRequest(prompt=prompt + "        ", max_new_tokens=2)
        )
        assert final.timings.reused_prompt_tokens >= backend.count_tokens(prompt) - 2 > 50
    finally:
        await client.aclose()
        await server.close()
        backend.scheduler.close()
