"""Prompt-lookup speculative decoding: the draft finder, the acceptance rule, and the scheduler on a tiny
random Mistral model (greedy tokens, stops, KV rollback unchanged by speculation)."""

from __future__ import annotations

import asyncio
import inspect
import random
from pathlib import Path

import pytest
import torch

from roost.engine.speculative import PromptLookup, accepted_tokens
from roost.engine.types import GenerationRequest

from .conftest import load_tiny_backend, save_tiny_model, tiny_mistral_config
from .test_scheduler import random_prompt, run, wait_for_tokens

# ------------------------------------------------------------------------------------- draft finder


def test_draft_copies_what_followed_the_latest_earlier_occurrence() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 9, 2, 3, 7, 8, 2, 3], min_ngram=1)
    # The suffix (2, 3) occurred twice before; the latest occurrence was followed by 7, 8, 2, 3.
    assert lookup.draft(3) == [7, 8, 2]
    assert lookup.draft(10) == [7, 8, 2, 3]
    assert lookup.draft(0) == []


def test_longer_ngram_wins_over_a_more_recent_shorter_one() -> None:
    # (5, 6) was followed by 7 at the start; a lone 6 was followed by 1 more recently.
    lookup = PromptLookup([5, 6, 7, 8, 6, 1, 5, 6], max_ngram=3, min_ngram=1)
    assert lookup.draft(2) == [7, 8]
    assert PromptLookup([8, 6, 1, 5, 6], min_ngram=1).draft(2) == [1, 5]


def test_no_draft_below_the_minimum_ngram() -> None:
    tokens = [1, 2, 3, 4, 2]
    assert PromptLookup(tokens, min_ngram=1).draft(2) == [3, 4]
    assert PromptLookup(tokens, min_ngram=2).draft(2) == []
    assert PromptLookup([], min_ngram=1).draft(4) == []
    assert PromptLookup([7], min_ngram=1).draft(4) == []


def test_extend_keeps_the_index_equal_to_a_fresh_one() -> None:
    rng = random.Random(3)
    tokens = [rng.randrange(6) for _ in range(300)]
    grown = PromptLookup(tokens[:50], min_ngram=1)
    for end in range(51, len(tokens) + 1):
        grown.extend(tokens[end - 1 : end])
        fresh = PromptLookup(tokens[:end], min_ngram=1)
        assert grown.draft(5) == fresh.draft(5) == naive_draft(tokens[:end], 5, 3, 1)


def naive_draft(tokens: list[int], size: int, max_ngram: int, min_ngram: int) -> list[int]:
    """The definition, searched backwards: the longest suffix n-gram's latest earlier occurrence."""
    for n in range(min(max_ngram, len(tokens)), min_ngram - 1, -1):
        suffix = tokens[len(tokens) - n :]
        for start in range(len(tokens) - n - 1, -1, -1):
            if tokens[start : start + n] == suffix:
                return tokens[start + n : start + n + size]
    return []


def test_bad_ngram_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        PromptLookup([], max_ngram=2, min_ngram=3)


# ------------------------------------------------------------------------------------- acceptance


def test_acceptance_keeps_the_agreed_prefix_and_the_models_next_token() -> None:
    assert accepted_tokens([5, 6, 7], [5, 6, 7, 8]) == [5, 6, 7, 8]  # all agreed: one bonus token
    assert accepted_tokens([5, 6, 7], [5, 9, 7, 8]) == [5, 9]  # the model's token replaces the first miss
    assert accepted_tokens([5, 6, 7], [4, 6, 7, 8]) == [4]  # nothing agreed: plain decoding's one token
    assert accepted_tokens([], [3]) == [3]
    with pytest.raises(ValueError):
        accepted_tokens([1, 2], [1, 2])


# ------------------------------------------------------------------------------- in the scheduler

# Tokens that the copying model below tends to emit after one another, in this order (and round).
CYCLE = tuple(range(1000, 1007))


@pytest.fixture(scope="module")
def copying_mistral_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Mistral whose output head favours the cycle's next token after each cycle token.

    A purely random model never repeats itself, so prompt lookup would find no draft it accepts; this one
    answers mostly with cycle tokens, in and out of order, so its drafts (copied from its prompt and its
    own answer) are sometimes accepted, several tokens at a time, and often rejected.
    """
    from transformers import MistralForCausalLM

    torch.manual_seed(0)
    model = MistralForCausalLM(tiny_mistral_config())
    with torch.no_grad():
        embeddings = model.model.embed_tokens.weight
        for token, successor in zip(CYCLE, CYCLE[1:] + CYCLE[:1], strict=True):
            model.lm_head.weight[successor] = embeddings[token] * 10
    return save_tiny_model(model, tmp_path_factory.mktemp("copying-mistral"))


def cycle_prompt(seed: int) -> tuple[int, ...]:
    """Random tokens around two pieces of the cycle, so drafts exist from the first step."""
    start = seed % 5
    return random_prompt(20, seed) + CYCLE[:3] + random_prompt(5, seed + 10) + CYCLE[start : start + 2]


async def test_speculative_tokens_equal_plain_greedy(copying_mistral_dir) -> None:
    speculative = load_tiny_backend(copying_mistral_dir, speculative_tokens=6, prefix_cache_bytes=0)
    plain = load_tiny_backend(copying_mistral_dir, speculative_tokens=0, prefix_cache_bytes=0)
    try:
        prompts = [cycle_prompt(seed) for seed in range(4)] + [random_prompt(30, 11)]
        for prompt in prompts:
            request = GenerationRequest(prompt_token_ids=prompt, max_new_tokens=40)
            fast_ids, fast_text, fast_final = await run(speculative, request)
            slow_ids, slow_text, slow_final = await run(plain, request)
            assert (fast_ids, fast_text) == (slow_ids, slow_text)
            assert fast_final.finish_reason == slow_final.finish_reason == "length"
            assert fast_final.timings.generated_tokens == 40
        scheduler = speculative.scheduler
        # Drafts were checked, some accepted (several tokens per forward), some rejected (KV rolled back).
        assert scheduler.speculative_steps > 0
        assert 0 < scheduler.accepted_draft_tokens < scheduler.draft_tokens
        assert scheduler.decode_steps < 5 * 39
        assert plain.scheduler.speculative_steps == 0 and plain.scheduler.decode_steps == 5 * 39
    finally:
        speculative.scheduler.close()
        plain.scheduler.close()


async def test_stops_and_budgets_cut_where_plain_decoding_cuts(copying_mistral_dir) -> None:
    speculative = load_tiny_backend(copying_mistral_dir, speculative_tokens=8)
    plain = load_tiny_backend(copying_mistral_dir, speculative_tokens=0)
    try:
        prompt = cycle_prompt(5)
        _ids, full_text, _final = await run(
            plain, GenerationRequest(prompt_token_ids=prompt, max_new_tokens=40)
        )
        stop = full_text[len(full_text) // 2 : len(full_text) // 2 + 3]
        requests = [
            GenerationRequest(prompt_token_ids=prompt, max_new_tokens=40, stop_sequences=(stop,)),
            *(GenerationRequest(prompt_token_ids=prompt, max_new_tokens=budget) for budget in (1, 2, 7, 13)),
        ]
        for request in requests:
            fast = await run(speculative, request)
            slow = await run(plain, request)
            assert fast[:2] == slow[:2]
            assert fast[2].finish_reason == slow[2].finish_reason
            assert fast[2].timings.generated_tokens == slow[2].timings.generated_tokens
        assert speculative.scheduler.accepted_draft_tokens > 0
    finally:
        speculative.scheduler.close()
        plain.scheduler.close()


async def test_rolled_back_kv_serves_later_requests_exactly(copying_mistral_dir) -> None:
    """After speculative steps dropped rejected positions, the row's KV is consistent: a request that
    joins it mid-answer (batched decoding from then on) and a follow-up reusing the prefix cache give the
    tokens a fresh engine without speculation gives."""
    speculative = load_tiny_backend(copying_mistral_dir, speculative_tokens=6, max_batch_size=4)
    plain = load_tiny_backend(copying_mistral_dir, speculative_tokens=0, prefix_cache_bytes=0)
    try:
        first = GenerationRequest(prompt_token_ids=cycle_prompt(7), max_new_tokens=60, request_id="first")
        joiner = GenerationRequest(prompt_token_ids=cycle_prompt(8), max_new_tokens=20)
        follow_up = GenerationRequest(prompt_token_ids=cycle_prompt(7) + (4242,), max_new_tokens=30)

        async def join_later() -> tuple[tuple[int, ...], str, object]:
            await wait_for_tokens(speculative, "first", 12)
            return await run(speculative, joiner)

        together = await asyncio.gather(run(speculative, first), join_later())
        steps_alone = speculative.scheduler.speculative_steps
        assert steps_alone > 0 and speculative.scheduler.accepted_draft_tokens > 0
        reused = await run(speculative, follow_up)
        assert reused[2].timings.reused_prompt_tokens > 0
        for request, result in zip((first, joiner, follow_up), (*together, reused), strict=True):
            expected = await run(plain, request)
            assert result[:2] == expected[:2]
    finally:
        speculative.scheduler.close()
        plain.scheduler.close()


async def test_sampling_decodes_without_speculation(copying_mistral_dir) -> None:
    speculative = load_tiny_backend(copying_mistral_dir, speculative_tokens=6)
    plain = load_tiny_backend(copying_mistral_dir, speculative_tokens=0)
    try:
        sampled = GenerationRequest(
            prompt_token_ids=cycle_prompt(1), max_new_tokens=12, temperature=0.8, seed=3
        )
        assert (await run(speculative, sampled))[:2] == (await run(plain, sampled))[:2]
        assert speculative.scheduler.speculative_steps == 0
    finally:
        speculative.scheduler.close()
        plain.scheduler.close()


def test_verification_forward_equals_one_position_at_a_time(copying_mistral_dir, monkeypatch) -> None:
    """decode_positions over m positions gives the logits of m single-position steps, and the grouped
    query heads are packed rather than the key/value heads copied (repeat_kv never runs)."""
    from transformers import AutoModelForCausalLM
    from transformers.integrations import sdpa_attention

    from roost.engine.kv_batch import DynamicKVBatch, returned_cache

    model = AutoModelForCausalLM.from_pretrained(copying_mistral_dir, attn_implementation="sdpa").eval()
    cache_kwarg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    prompt = torch.tensor([cycle_prompt(3)])
    following = [1003, 1004, 77, 1005, 1006]
    with torch.inference_mode():
        prefill = returned_cache(model(input_ids=prompt, use_cache=True))
        kv = [(layer.keys, layer.values) for layer in prefill.layers]
        length = prompt.shape[1]
        stepwise = DynamicKVBatch(model, cache_kwarg, torch.device("cpu"))
        stepwise.join(kv, length)
        expected = [
            stepwise.decode(torch.tensor([[token]]), torch.tensor([[length + offset]]))[0]
            for offset, token in enumerate(following)
        ]

        def no_copies(*_args: object) -> None:
            raise AssertionError("repeat_kv ran in a verification forward")

        monkeypatch.setattr(sdpa_attention, "repeat_kv", no_copies)
        batch = DynamicKVBatch(model, cache_kwarg, torch.device("cpu"))
        batch.join(kv, length)
        positions = torch.arange(length, length + len(following)).unsqueeze(0)
        logits = batch.decode_positions(torch.tensor([following]), positions)[0]
        assert batch.kv[0][0].shape[2] == length + len(following)
        batch.drop_last(2)
        assert (
            batch.kv[0][0].shape[2] == length + 3
            and batch.mask is not None
            and batch.mask.shape[1] == length + 3
        )
    assert torch.allclose(logits, torch.stack(expected), atol=1e-4)
    assert [int(row.argmax()) for row in logits] == [int(row.argmax()) for row in expected]
