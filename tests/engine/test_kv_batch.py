"""The running batch's KV (DynamicKVBatch): written in place into buffers with spare positions, and every
row still decodes as it would alone in transformers' own DynamicCache (tiny random-weight Mistral, the
real model class and sdpa attention)."""

from __future__ import annotations

import inspect

import pytest
import torch

from roost.engine.kv_batch import (
    KV_SLACK_POSITIONS,
    DynamicKVBatch,
    KVLayers,
    returned_cache,
)

from .conftest import tiny_mistral_config

VOCAB = 512


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    config = tiny_mistral_config(vocab_size=VOCAB)
    return AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").eval()


def cache_kwarg(model: torch.nn.Module) -> str:
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def prompt(length: int, seed: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(3, VOCAB, (length,), generator=generator).tolist()


def prefill(model: torch.nn.Module, tokens: list[int]) -> KVLayers:
    """The prompt's KV as the prefix cache holds it (transformers' own DynamicCache)."""
    from transformers import DynamicCache

    out = model(input_ids=torch.tensor([tokens]), use_cache=True, **{cache_kwarg(model): DynamicCache()})
    return [(layer.keys, layer.values) for layer in returned_cache(out).layers]


def alone(model: torch.nn.Module, tokens: list[int], following: list[int]) -> list[torch.Tensor]:
    """The logits after each of ``following``, decoded one at a time in a plain DynamicCache (the row alone)."""
    from transformers import DynamicCache

    cache = DynamicCache()
    model(input_ids=torch.tensor([tokens]), use_cache=True, **{cache_kwarg(model): cache})
    logits = []
    for offset, token in enumerate(following):
        out = model(
            input_ids=torch.tensor([[token]]),
            position_ids=torch.tensor([[len(tokens) + offset]]),
            use_cache=True,
            **{cache_kwarg(model): cache},
        )
        logits.append(out.logits[0, -1])
    return logits


def new_batch(model: torch.nn.Module) -> DynamicKVBatch:
    return DynamicKVBatch(model, cache_kwarg(model), torch.device("cpu"))


def step(batch: DynamicKVBatch, tokens: list[int], positions: list[int]) -> torch.Tensor:
    return batch.decode(torch.tensor([[t] for t in tokens]), torch.tensor([[p] for p in positions]))


@torch.inference_mode()
def test_decode_steps_write_in_place_until_the_spare_positions_run_out(model: torch.nn.Module) -> None:
    """No step copies the cache while its buffers have room (the old layout concatenated the whole KV
    every step); the step that finds them full moves the KV into larger ones, and every step's logits
    are the row's own, bit for bit."""
    tokens = prompt(10, seed=1)
    following = prompt(KV_SLACK_POSITIONS + 3, seed=2)
    batch = new_batch(model)
    batch.join(prefill(model, tokens), len(tokens))
    reference = alone(model, tokens, following)
    addresses = []
    for offset, token in enumerate(following):
        logits = step(batch, [token], [len(tokens) + offset])
        assert torch.equal(logits[0], reference[offset]), f"step {offset}"
        addresses.append(batch.kv[0][0].data_ptr())
    assert len(set(addresses[:KV_SLACK_POSITIONS])) == 1  # the joined buffers had exactly that much room
    assert addresses[KV_SLACK_POSITIONS] != addresses[0]
    assert len(set(addresses[KV_SLACK_POSITIONS:])) == 1
    assert batch.kv[0][0].shape[2] == len(tokens) + len(following)


@torch.inference_mode()
def test_the_joined_kv_is_never_written(model: torch.nn.Module) -> None:
    """A joining row's KV may be the prefix cache's entry, shared by reference: in-place steps, rejected
    drafts and a second row joining must leave it as it was."""
    tokens = prompt(9, seed=3)
    shared = prefill(model, tokens)
    snapshot = [(k.clone(), v.clone()) for k, v in shared]
    batch = new_batch(model)
    batch.join(shared, len(tokens))
    batch.decode_positions(torch.tensor([[5, 6, 7]]), torch.arange(9, 12).unsqueeze(0))
    batch.drop_last(2)
    step(batch, [8], [10])
    batch.join(prefill(model, prompt(4, seed=4)), 4)
    step(batch, [9, 10], [11, 4])
    for (k, v), (k0, v0) in zip(shared, snapshot, strict=True):
        assert torch.equal(k, k0) and torch.equal(v, v0)


@torch.inference_mode()
def test_rows_of_different_lengths_decode_as_alone_across_growth_and_leaving(model: torch.nn.Module) -> None:
    """Two left-padded rows decode past the spare positions (their buffers grow together), then the
    shorter one leaves (the padding is trimmed) and the other goes on: each row's logits and KV stay its
    own."""
    short, long = prompt(5, seed=5), prompt(13, seed=6)
    short_next, long_next = prompt(KV_SLACK_POSITIONS + 2, seed=7), prompt(KV_SLACK_POSITIONS + 12, seed=8)
    short_alone = alone(model, short, short_next)
    long_alone = alone(model, long, long_next)
    batch = new_batch(model)
    batch.join(prefill(model, short), len(short))
    batch.join(prefill(model, long), len(long))
    for offset in range(len(short_next)):
        logits = step(
            batch, [short_next[offset], long_next[offset]], [len(short) + offset, len(long) + offset]
        )
        assert torch.allclose(logits[0], short_alone[offset], atol=1e-5), f"short row, step {offset}"
        assert torch.allclose(logits[1], long_alone[offset], atol=1e-5), f"long row, step {offset}"
    kept = len(long) + len(short_next)
    batch.keep([1], [kept])
    assert batch.size == 1 and batch.kv[0][0].shape[2] == kept  # the short row's padding went with it
    for offset in range(len(short_next), len(long_next)):
        logits = step(batch, [long_next[offset]], [len(long) + offset])
        assert torch.allclose(logits[0], long_alone[offset], atol=1e-5), f"long row alone, step {offset}"


@torch.inference_mode()
def test_rejected_draft_positions_are_overwritten_by_the_next_step(model: torch.nn.Module) -> None:
    """Speculation's rollback: a 4-position check, 2 positions dropped, then the next step — its logits
    are those of a row that only ever saw the 2 accepted positions."""
    tokens = prompt(11, seed=9)
    accepted, rejected, after = [20, 21], [22, 23], 24
    reference = alone(model, tokens, [*accepted, after])
    batch = new_batch(model)
    batch.join(prefill(model, tokens), len(tokens))
    batch.decode_positions(torch.tensor([[*accepted, *rejected]]), torch.arange(11, 15).unsqueeze(0))
    batch.drop_last(len(rejected))
    assert batch.kv[0][0].shape[2] == len(tokens) + len(accepted)
    logits = step(batch, [after], [len(tokens) + len(accepted)])
    assert torch.allclose(logits[0], reference[-1], atol=1e-5)
    assert int(logits[0].argmax()) == int(reference[-1].argmax())


@torch.inference_mode()
def test_a_paused_row_resumes_where_it_stopped(model: torch.nn.Module) -> None:
    """Preemption: a row's KV copied out (row_kv), the batch emptied, the row joining again with that KV
    goes on exactly as if it had never left."""
    tokens, following = prompt(8, seed=10), prompt(6, seed=11)
    reference = alone(model, tokens, following)
    batch = new_batch(model)
    batch.join(prefill(model, prompt(15, seed=12)), 15)  # a longer row: ours is left-padded
    batch.join(prefill(model, tokens), len(tokens))
    for offset in range(3):
        step(batch, [1, following[offset]], [15 + offset, len(tokens) + offset])
    paused = batch.row_kv(1, len(tokens) + 3)
    batch.reset()
    batch.join(paused, len(tokens) + 3)
    for offset in range(3, len(following)):
        logits = step(batch, [following[offset]], [len(tokens) + offset])
        assert torch.allclose(logits[0], reference[offset], atol=1e-5), f"step {offset}"
