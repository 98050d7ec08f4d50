"""Speculative decoding on the bundled model as the product loads it (int8 weights on a CPU): the same
greedy answers as plain decoding, several tokens per forward where the answer copies the prompt."""

from __future__ import annotations

import dataclasses

import pytest

from roost.engine.backends.transformers_backend import TransformersBackend
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS, GenerationRequest

from .test_scheduler import run

pytestmark = pytest.mark.model

VECTOR = (
    "<|fim_prefix|>class Vector:\n    def __init__(self, x, y, z):\n        self.x = x\n        self.y = y\n"
    "        self.z = z\n\n    def __add__(self, other):\n"
    "        return Vector(self.x + other.x, self.y + other.y, self.z + other.z)\n\n"
    "    def __sub__(self, other):\n        return Vector(<|fim_suffix|>\n<|fim_middle|>"
)
POINT = (
    "<|fim_prefix|>class Point:\n    def __init__(self, x, y):\n        self.x = x\n        <|fim_suffix|>\n"
    "<|fim_middle|>"
)
ADD = (
    '<|fim_prefix|>def add(a, b):\n    """Add two numbers."""\n    return <|fim_suffix|>\n\n\n'
    'def sub(a, b):\n    """Subtract b from a."""\n    return a - b\n<|fim_middle|>'
)


async def answer(backend: TransformersBackend, request: GenerationRequest, speculative_tokens: int):
    scheduler = backend.scheduler
    scheduler.options = dataclasses.replace(scheduler.options, speculative_tokens=speculative_tokens)
    return await run(backend, request)


@pytest.mark.parametrize(
    ("prompt", "stops"),
    [(VECTOR, ()), (VECTOR, ("\n",)), (POINT, ("\n",)), (ADD, ())],
    ids=["vector", "vector-line", "point-line", "add"],
)
async def test_speculative_answers_equal_plain_greedy(
    int8_backend, prompt: str, stops: tuple[str, ...]
) -> None:
    request = GenerationRequest(
        prompt=prompt, max_new_tokens=24, stop_sequences=stops, stop_token_strings=QWEN_STOP_TOKEN_STRINGS
    )
    int8_backend.scheduler.prefix_cache.clear()
    plain = await answer(int8_backend, request, 0)
    int8_backend.scheduler.prefix_cache.clear()
    steps = int8_backend.scheduler.speculative_steps
    speculative = await answer(int8_backend, request, 8)
    assert speculative[:2] == plain[:2]
    assert speculative[2].finish_reason == plain[2].finish_reason
    # The prompt KV cached by the speculative run serves a follow-up exactly (its KV was never touched).
    reused = await answer(int8_backend, request, 8)
    assert reused[2].timings.reused_prompt_tokens > 0
    assert reused[:2] == plain[:2]
    if prompt is VECTOR:
        assert int8_backend.scheduler.speculative_steps > steps
        assert speculative[2].timings.generated_tokens > 1


async def test_copied_answer_takes_fewer_forwards(int8_backend) -> None:
    request = GenerationRequest(prompt=VECTOR, max_new_tokens=24, stop_token_strings=QWEN_STOP_TOKEN_STRINGS)
    scheduler = int8_backend.scheduler
    accepted, steps = scheduler.accepted_draft_tokens, scheduler.decode_steps
    ids, text, final = await answer(int8_backend, request, 8)
    assert "other.x" in text or "other.y" in text  # the answer copies the __add__ line's pattern
    assert scheduler.accepted_draft_tokens - accepted >= 3
    assert scheduler.decode_steps - steps < final.timings.generated_tokens - 1
