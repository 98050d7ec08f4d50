"""Continuous batching, prefix-KV reuse, cancellation and priorities on a tiny random Mistral model."""

from __future__ import annotations

import asyncio
import random

import pytest
import torch

from roost.engine.scheduler import PrefixKVCache, _find_stop, _held_back
from roost.engine.types import (
    Backend,
    GenerationRequest,
    RequestPriority,
    TextChunk,
    UnsupportedRequestError,
)

from .conftest import load_tiny_backend


def random_prompt(length: int, seed: int) -> tuple[int, ...]:
    rng = random.Random(seed)
    return tuple(rng.randrange(1000, 131000) for _ in range(length))


async def run(backend, request: GenerationRequest) -> tuple[tuple[int, ...], str, TextChunk]:
    ids: list[int] = []
    parts: list[str] = []
    final = None
    async for chunk in backend.generate(request):
        ids.extend(chunk.token_ids)
        parts.append(chunk.text)
        if chunk.is_final:
            final = chunk
    assert final is not None
    return tuple(ids), "".join(parts), final


def test_backend_satisfies_the_protocol(tiny_backend) -> None:
    assert isinstance(tiny_backend, Backend)
    assert tiny_backend.count_tokens("def main():\n    pass\n") > 3


async def test_length_limit_and_timings(tiny_backend) -> None:
    ids, _text, final = await run(
        tiny_backend, GenerationRequest(prompt_token_ids=random_prompt(20, 1), max_new_tokens=7)
    )
    assert final.finish_reason == "length"
    assert len(ids) == 7
    timings = final.timings
    assert timings.prompt_tokens == 20 and timings.generated_tokens == 7
    assert 0 <= timings.queue_s <= timings.first_token_s <= timings.total_s
    assert timings.prefill_s > 0 and timings.decode_s > 0


async def test_every_chunk_carries_the_figures_so_far(tiny_backend) -> None:
    """A caller that answers before the stream ends (a first line answered early) or stops reading (a
    block that ended) still knows what the prompt cost: each chunk has the timings up to it."""
    request = GenerationRequest(prompt_token_ids=random_prompt(30, 2), max_new_tokens=6)
    chunks = [chunk async for chunk in tiny_backend.generate(request)]
    progress = [chunk.timings for chunk in chunks[:-1]]
    assert progress and all(timings is not None for timings in progress)
    assert all(timings.prompt_tokens == 30 and timings.prefill_s > 0 for timings in progress)
    counts = [timings.generated_tokens for timings in progress]
    assert counts == sorted(counts) and counts[-1] <= chunks[-1].timings.generated_tokens == 6


async def test_batched_outputs_equal_one_at_a_time(tiny_backend, tiny_mistral_dir) -> None:
    # Different prompt lengths and budgets: requests join and leave the running batch at different steps,
    # and with max_batch_size=4 the last two wait for a slot and join mid-run.
    requests = [
        GenerationRequest(prompt_token_ids=random_prompt(length, seed), max_new_tokens=budget)
        for seed, (length, budget) in enumerate([(5, 12), (37, 30), (16, 4), (60, 18), (9, 25), (23, 9)])
    ]
    alone = []
    for request in requests:
        ids, text, _final = await run(tiny_backend, request)
        alone.append((ids, text))
    tiny_backend.scheduler.prefix_cache.clear()  # batched run must not ride on the prefill of the first run
    together = await asyncio.gather(*(run(tiny_backend, r) for r in requests))
    assert [(ids, text) for ids, text, _final in together] == alone
    assert max(e.decode_step for e in tiny_backend.scheduler.events) > 0
    # Rows leave the batch right after their final chunk is sent (same worker step).
    for _ in range(100):
        if tiny_backend.scheduler.batch_size == 0:
            break
        await asyncio.sleep(0.01)
    assert tiny_backend.scheduler.batch_size == 0


async def test_sampling_with_a_seed_is_reproducible(tiny_backend) -> None:
    request = GenerationRequest(
        prompt_token_ids=random_prompt(10, 3), max_new_tokens=10, temperature=0.8, seed=42
    )
    first, _t1, _f1 = await run(tiny_backend, request)
    second, _t2, _f2 = await run(tiny_backend, request)
    greedy, _t3, _f3 = await run(
        tiny_backend, GenerationRequest(prompt_token_ids=random_prompt(10, 3), max_new_tokens=10)
    )
    assert first == second
    assert first != greedy


async def test_prefix_kv_reuse_gives_the_same_tokens(tiny_mistral_dir) -> None:
    with_reuse = load_tiny_backend(tiny_mistral_dir)
    without_reuse = load_tiny_backend(tiny_mistral_dir, prefix_cache_bytes=0)
    try:
        base = random_prompt(300, 7)
        follow_ups = [base + (4242,), base[:250] + random_prompt(20, 8), base]
        await run(with_reuse, GenerationRequest(prompt_token_ids=base, max_new_tokens=3))
        for prompt in follow_ups:
            request = GenerationRequest(prompt_token_ids=prompt, max_new_tokens=12)
            reused_ids, _text, reused_final = await run(with_reuse, request)
            fresh_ids, _text2, fresh_final = await run(without_reuse, request)
            assert reused_ids == fresh_ids
            assert fresh_final.timings.reused_prompt_tokens == 0
            # The shared prefix (at most all but the last prompt token) was not recomputed.
            shared = 250 if prompt[250:251] != base[250:251] else min(len(prompt), len(base))
            assert reused_final.timings.reused_prompt_tokens >= min(shared, len(prompt) - 1) - 1
    finally:
        with_reuse.scheduler.close()
        without_reuse.scheduler.close()


def test_prefix_cache_is_bounded_by_bytes_and_lru() -> None:
    def kv(length: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(torch.zeros(1, 2, length, 4), torch.zeros(1, 2, length, 4))]

    per_token = 2 * 2 * 4 * 4  # keys and values, 2 heads x 4 dims x 4 bytes
    cache = PrefixKVCache(max_bytes=per_token * 25)
    a, b, c = torch.arange(10), torch.arange(100, 110), torch.arange(200, 210)
    cache.store(a, kv(10))
    cache.store(b, kv(10))
    assert cache.lookup(torch.cat([a, torch.tensor([5])]))[0] == 10  # touch a: b is now least recent
    cache.store(c, kv(10))
    assert cache.bytes <= cache.max_bytes and len(cache) == 2
    assert cache.lookup(b)[0] == 0
    assert cache.lookup(a)[0] == 10 and cache.lookup(c)[0] == 10
    cache.store(torch.arange(1000), kv(1000))  # larger than the whole budget: not kept
    assert cache.lookup(torch.arange(1000))[0] <= 10


async def test_cancelling_the_consumer_frees_the_slot_within_one_step(tiny_backend) -> None:
    scheduler = tiny_backend.scheduler
    long_request = GenerationRequest(prompt_token_ids=random_prompt(30, 11), max_new_tokens=3000)
    other = GenerationRequest(prompt_token_ids=random_prompt(12, 12), max_new_tokens=40)
    expected_other, _text, _final = await run(tiny_backend, other)

    first_chunk = asyncio.Event()

    async def consume() -> None:
        async for _chunk in tiny_backend.generate(long_request):
            first_chunk.set()

    task = asyncio.create_task(consume())
    other_task = asyncio.create_task(run(tiny_backend, other))
    await asyncio.wait_for(first_chunk.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other_ids, _other_text, other_final = await asyncio.wait_for(other_task, timeout=60)
    assert other_ids == expected_other and other_final.finish_reason == "length"

    events = [e for e in scheduler.events if e.request_id == long_request.request_id]
    cancel_step = next(e.decode_step for e in events if e.kind == "cancel_requested")
    released_step = next(e.decode_step for e in events if e.kind == "released")
    assert released_step - cancel_step <= 1
    assert not any(e.kind == "finished" for e in events)  # no final chunk for a consumer that left


async def test_cancel_event_ends_the_stream_with_a_cancelled_chunk(tiny_backend) -> None:
    cancel = asyncio.Event()
    request = GenerationRequest(
        prompt_token_ids=random_prompt(8, 13), max_new_tokens=3000, cancel_event=cancel
    )
    chunks = []
    async for chunk in tiny_backend.generate(request):
        chunks.append(chunk)
        cancel.set()
    assert chunks[-1].finish_reason == "cancelled"
    assert chunks[-1].timings.generated_tokens < 3000


async def test_inline_completions_are_admitted_before_waiting_edits(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=1)
    try:
        running = GenerationRequest(
            prompt_token_ids=random_prompt(8, 20), max_new_tokens=40, priority=RequestPriority.EDIT
        )
        edit = GenerationRequest(
            prompt_token_ids=random_prompt(8, 21), max_new_tokens=5, priority=RequestPriority.EDIT
        )
        inline = GenerationRequest(prompt_token_ids=random_prompt(8, 22), max_new_tokens=5)
        first = asyncio.create_task(run(backend, running))
        while backend.scheduler.batch_size == 0:
            await asyncio.sleep(0.005)
        queued = [asyncio.create_task(run(backend, edit))]
        await asyncio.sleep(0.01)
        queued.append(asyncio.create_task(run(backend, inline)))
        await asyncio.gather(first, *queued)
        admitted = [e.request_id for e in backend.scheduler.events if e.kind == "admitted"]
        assert admitted == [running.request_id, inline.request_id, edit.request_id]
    finally:
        backend.scheduler.close()


async def test_stop_sequence_cuts_the_answer(tiny_backend) -> None:
    prompt = random_prompt(15, 30)
    _ids, full_text, _final = await run(
        tiny_backend, GenerationRequest(prompt_token_ids=prompt, max_new_tokens=30)
    )
    assert len(full_text) > 12
    stop = full_text[6:10]
    expected = full_text[: full_text.index(stop)]
    _ids, text, final = await run(
        tiny_backend, GenerationRequest(prompt_token_ids=prompt, max_new_tokens=30, stop_sequences=(stop,))
    )
    assert text == expected
    assert final.finish_reason == "stop"


async def test_bad_requests_get_clear_errors(tiny_backend) -> None:
    with pytest.raises(UnsupportedRequestError, match="context"):
        await run(tiny_backend, GenerationRequest(prompt_token_ids=(5,) * 5000))
    with pytest.raises(UnsupportedRequestError, match="suffix"):
        await run(tiny_backend, GenerationRequest(prompt="def f(", suffix=")"))
    with pytest.raises(ValueError, match="exactly one"):
        GenerationRequest()


def test_stop_helpers() -> None:
    assert _find_stop("abc<|end", ("<|endoftext|>",), 0) is None
    assert _held_back("abc<|end", ("<|endoftext|>",)) == 5
    assert _find_stop("x = 1\ny", ("\n",), 0) == 5
    assert _held_back("caf\ufffd", ()) == 1
    assert _held_back("plain", ("\n\n",)) == 0


async def test_metrics_record_stages_batch_and_tokens(tiny_backend) -> None:
    from roost.engine.metrics import ENGINE_REGISTRY

    def sample(name: str, **labels: str) -> float:
        return ENGINE_REGISTRY.get_sample_value(name, labels) or 0.0

    before_ttft = sample("roost_engine_stage_seconds_count", stage="first_token")
    before_tokens = sample("roost_engine_generated_tokens_total")
    await run(tiny_backend, GenerationRequest(prompt_token_ids=random_prompt(12, 40), max_new_tokens=5))
    assert sample("roost_engine_stage_seconds_count", stage="first_token") == before_ttft + 1
    assert sample("roost_engine_generated_tokens_total") == before_tokens + 5
    assert sample("roost_engine_decode_step_batch_size_count") > 0
    assert sample("roost_engine_queue_depth") == 0


async def test_chunked_prefill_gives_the_same_tokens(tiny_backend, tiny_mistral_dir) -> None:
    chunked = load_tiny_backend(tiny_mistral_dir, prefill_chunk_tokens=64)
    try:
        request = GenerationRequest(prompt_token_ids=random_prompt(300, 50), max_new_tokens=10)
        expected, _text, _final = await run(tiny_backend, request)
        ids, _text, _final = await run(chunked, request)
        assert ids == expected
    finally:
        chunked.scheduler.close()


async def test_a_chunked_prefill_runs_the_lm_head_on_the_last_position_only(tiny_mistral_dir) -> None:
    chunked = load_tiny_backend(tiny_mistral_dir, prefill_chunk_tokens=64)
    try:
        rows: list[int] = []
        lm_head = chunked.scheduler.model.get_output_embeddings()
        lm_head.register_forward_hook(lambda _module, args, _out: rows.append(args[0].shape[-2]))
        request = GenerationRequest(prompt_token_ids=random_prompt(300, 50), max_new_tokens=1)
        await run(chunked, request)
        assert rows == [0, 0, 0, 0, 1]  # five chunks of 64 tokens or fewer; only the last one's logits
    finally:
        chunked.scheduler.close()


async def wait_for_tokens(backend, request_id: str, count: int) -> None:
    """Until the running request ``request_id`` has generated ``count`` tokens."""
    while True:
        rows = [s for s in backend.scheduler._rows if s.request.request_id == request_id]  # noqa: SLF001
        if rows and len(rows[0].generated) >= count:
            return
        await asyncio.sleep(0.002)


@pytest.mark.parametrize("batch_size", [1, 2])
async def test_inline_completion_preempts_running_edits_and_they_resume_unchanged(
    tiny_mistral_dir, batch_size: int
) -> None:
    edits = [
        GenerationRequest(
            prompt_token_ids=random_prompt(12 + i, 40 + i), max_new_tokens=60, priority=RequestPriority.EDIT
        )
        for i in range(batch_size)
    ]
    inline = GenerationRequest(prompt_token_ids=random_prompt(9, 50), max_new_tokens=6)
    alone = load_tiny_backend(tiny_mistral_dir, max_batch_size=batch_size, preemption=False)
    try:
        expected_edits = [await run(alone, edit) for edit in edits]
        expected_inline = await run(alone, inline)
    finally:
        alone.scheduler.close()

    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=batch_size)
    try:
        edit_tasks = [asyncio.create_task(run(backend, edit)) for edit in edits]
        for edit in edits:
            await wait_for_tokens(backend, edit.request_id, 5)
        inline_result = await run(backend, inline)
        # The inline completion finished while every edit was still generating (none waits for them).
        assert not any(task.done() for task in edit_tasks)
        results = await asyncio.gather(*edit_tasks)
        events = list(backend.scheduler.events)
        preempted = [e.request_id for e in events if e.kind == "preempted"]
        resumed = [e.request_id for e in events if e.kind == "resumed"]
        # The least urgent, latest arrival was paused, once, and resumed after the inline request ended.
        assert preempted == [edits[-1].request_id] and resumed == preempted
        finished_inline = next(
            e for e in events if e.kind == "finished" and e.request_id == inline.request_id
        )
        resumed_event = next(e for e in events if e.kind == "resumed")
        assert resumed_event.time >= finished_inline.time
        # Greedy outputs are exactly what they are without preemption.
        assert inline_result[0] == expected_inline[0]
        for result, expected in zip(results, expected_edits, strict=True):
            assert result[0] == expected[0] and result[1] == expected[1]
            assert result[2].finish_reason == expected[2].finish_reason
    finally:
        backend.scheduler.close()


async def test_equal_priority_never_preempts_and_a_paused_request_can_be_cancelled(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=1)
    try:
        first = GenerationRequest(prompt_token_ids=random_prompt(10, 60), max_new_tokens=30)
        second = GenerationRequest(prompt_token_ids=random_prompt(10, 61), max_new_tokens=3)
        task = asyncio.create_task(run(backend, first))
        await wait_for_tokens(backend, first.request_id, 2)
        await run(backend, second)
        await task
        assert not [e for e in backend.scheduler.events if e.kind == "preempted"]

        edit = GenerationRequest(
            prompt_token_ids=random_prompt(10, 62), max_new_tokens=200, priority=RequestPriority.EDIT
        )
        edit_stream = backend.generate(edit)
        edit_task = asyncio.create_task(edit_stream.__anext__())
        await wait_for_tokens(backend, edit.request_id, 3)
        blocker = GenerationRequest(prompt_token_ids=random_prompt(10, 63), max_new_tokens=15)
        blocker_task = asyncio.create_task(run(backend, blocker))
        while not any(e.kind == "preempted" for e in backend.scheduler.events):
            await asyncio.sleep(0.002)
        await edit_task
        await edit_stream.aclose()  # cancel the paused edit while it waits in the queue
        await blocker_task
        while backend.scheduler.queue_depth or backend.scheduler.batch_size:
            await asyncio.sleep(0.002)
        kinds = [(e.kind, e.request_id) for e in backend.scheduler.events]
        assert ("released", edit.request_id) in kinds and ("resumed", edit.request_id) not in kinds
    finally:
        backend.scheduler.close()


async def test_a_cancelled_waiting_request_preempts_nobody(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=1)
    try:
        edit = GenerationRequest(
            prompt_token_ids=random_prompt(10, 80), max_new_tokens=25, priority=RequestPriority.EDIT
        )
        task = asyncio.create_task(run(backend, edit))
        await wait_for_tokens(backend, edit.request_id, 2)
        cancelled = asyncio.Event()
        cancelled.set()
        inline = GenerationRequest(
            prompt_token_ids=random_prompt(10, 81), max_new_tokens=5, cancel_event=cancelled
        )
        _ids, _text, final = await run(backend, inline)
        assert final.finish_reason == "cancelled"
        await task
        assert not [e for e in backend.scheduler.events if e.kind == "preempted"]
    finally:
        backend.scheduler.close()
