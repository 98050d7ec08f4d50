"""The engine's own speed and what a prompt would cost (``Scheduler.estimate_prefill``): measured on its
requests or by a calibration at start, and the prefix cache's share of a prompt counted as the prefill
would reuse it."""

from __future__ import annotations

import pytest
import torch

from roost.engine.backends.redacting import RedactingBackend
from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.scheduler import PrefixKVCache
from roost.engine.speed import PrefillEstimate, SpeedMeter
from roost.engine.types import GenerationRequest

from .conftest import load_tiny_backend
from .test_scheduler import run

CODE = "def scale(values, factor):\n    return [v * factor for v in values]\n"


def test_the_estimate_adds_the_uncached_prefill_to_the_decode() -> None:
    estimate = PrefillEstimate(
        prompt_tokens=1000,
        cached_tokens=200,
        seconds_per_prompt_token=1 / 256,
        seconds_per_decoded_token=1 / 16,
    )
    assert estimate.uncached_tokens == 800
    assert estimate.prefill_s == pytest.approx(3.125)
    assert estimate.answer_s(12) == pytest.approx(3.875)
    # 2 s less 12 decoded tokens (0.75 s) leaves 1.25 s: 320 prompt tokens.
    assert estimate.affordable_prompt_tokens(2.0, 12) == 320
    assert estimate.affordable_prompt_tokens(0.5, 12) == 0


def test_the_meter_smooths_and_ignores_prefills_too_small_to_tell_the_rate() -> None:
    meter = SpeedMeter()
    meter.add_prefill(500, 2.5)
    assert meter.rates() is None, "no decode measured yet"
    meter.add_decode(4, 0.4)
    assert meter.rates() == pytest.approx((0.005, 0.1))
    meter.add_prefill(4, 10.0)  # a few tokens time the forward's fixed cost, not the rate
    assert meter.rates() == pytest.approx((0.005, 0.1))
    meter.add_prefill(500, 5.0)
    assert 0.005 < meter.rates()[0] < 0.01


def test_shared_length_leaves_the_lru_order_alone() -> None:
    cache = PrefixKVCache(max_bytes=10**9)
    kv = [(torch.zeros(1, 1, 4, 2), torch.zeros(1, 1, 4, 2))]
    cache.store(torch.tensor([1, 2, 3, 4]), kv)
    cache.store(torch.tensor([9, 8, 7, 6]), kv)
    assert cache.shared_length(torch.tensor([1, 2, 3, 5, 6])) == 3
    assert cache.shared_length(torch.tensor([5])) == 0
    # The first entry is still the oldest: a small cache evicts it first.
    cache.max_bytes = cache.bytes - 1
    cache.store(torch.tensor([9, 8, 7, 6, 5]), [(torch.zeros(1, 1, 4, 2), torch.zeros(1, 1, 4, 2))])
    assert cache.shared_length(torch.tensor([1, 2, 3, 4])) == 0


async def test_a_loaded_engine_knows_its_speed_before_the_first_request(tiny_mistral_dir) -> None:
    backend = TransformersBackend.load(  # a model load calibrates (transformers_backend.scheduler_options)
        TransformersOptions(model=str(tiny_mistral_dir), dtype="float32", device="cpu")
    )
    try:
        request = GenerationRequest(prompt=CODE * 4, max_new_tokens=4)
        # Asked at once: the estimate waits for the calibration still running on the worker thread.
        estimate = backend.estimate_prefill(request)
        assert estimate is not None, "the calibration gave no speed"
        assert estimate.cached_tokens == 0 and estimate.prompt_tokens == backend.count_tokens(CODE * 4)
        assert estimate.seconds_per_prompt_token > 0 and estimate.seconds_per_decoded_token > 0
        # Served once, the same prompt is cached but for the token that must run to give the next logits.
        await run(backend, request)
        again = backend.estimate_prefill(request)
        assert again is not None and again.cached_tokens == again.prompt_tokens - 1
        longer = GenerationRequest(prompt=CODE * 4 + "\nx = scale([1], 2)\n", max_new_tokens=4)
        extended = backend.estimate_prefill(longer)
        assert extended is not None and extended.cached_tokens >= again.cached_tokens
        assert extended.uncached_tokens < extended.prompt_tokens
    finally:
        backend.scheduler.close()


async def test_a_bare_scheduler_learns_its_speed_from_its_requests(tiny_mistral_dir) -> None:
    backend = load_tiny_backend(tiny_mistral_dir, calibration_tokens=0)  # no calibration
    try:
        request = GenerationRequest(prompt=CODE * 4, max_new_tokens=6)
        assert backend.estimate_prefill(request) is None, "nothing measured yet: the caller cannot tell"
        await run(backend, request)
        assert backend.estimate_prefill(GenerationRequest(prompt=CODE * 5, max_new_tokens=1)) is not None
        chat = GenerationRequest(messages=({"role": "user", "content": "hi"},), max_new_tokens=1)
        assert backend.estimate_prefill(chat) is None, "a chat prompt is tokenised elsewhere"
    finally:
        backend.scheduler.close()


async def test_the_redacting_backend_estimates_the_request_the_engine_would_get(tiny_mistral_dir) -> None:
    inner = load_tiny_backend(tiny_mistral_dir, calibration_tokens=64)
    redacting = RedactingBackend(inner)
    try:
        secret_line = 'API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"\n'
        request = GenerationRequest(prompt=CODE * 3 + secret_line + CODE, max_new_tokens=3)
        await run(redacting, request)  # the engine caches the redacted prompt
        through_redaction = redacting.estimate_prefill(request)
        direct = inner.estimate_prefill(request)
        assert through_redaction is not None and direct is not None
        assert through_redaction.cached_tokens == through_redaction.prompt_tokens - 1
        assert direct.cached_tokens < through_redaction.cached_tokens, "the raw prompt differs at the secret"
    finally:
        inner.scheduler.close()
