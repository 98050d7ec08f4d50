"""The real offline model (Qwen2.5-Coder-0.5B-Instruct) end to end on CPU: few, short, greedy."""

from __future__ import annotations

import pytest

from roost.engine.models.default import ensure_default_model
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS, GenerationRequest, collect_text

pytestmark = pytest.mark.model

# Built by hand here on purpose: these tests are about the engine's stop handling, not the prompt formatter.
FIM_PROMPT = (
    '<|fim_prefix|>def add(a, b):\n    """Add two numbers."""\n    return <|fim_suffix|>\n\n\n'
    'def sub(a, b):\n    """Subtract b from a."""\n    return a - b\n<|fim_middle|>'
)


def test_default_model_cache_is_a_verified_safetensors_directory(qwen_backend) -> None:
    directory = ensure_default_model()
    assert (directory / "model.safetensors").is_file() and (directory / "config.json").is_file()
    assert "Apache License" in (directory / "NOTICE").read_text()
    assert (
        '"sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"'
        in (directory / "roost-model.json").read_text()
    )


async def test_fim_answer_stops_at_the_stop_token(qwen_backend) -> None:
    unconstrained, free_final = await collect_text(
        qwen_backend, GenerationRequest(prompt=FIM_PROMPT, max_new_tokens=12)
    )
    # The instruct model does not stop after the middle by itself: it emits <|endoftext|> and goes on.
    assert free_final.finish_reason == "length" and "<|endoftext|>" in unconstrained

    text, final = await collect_text(
        qwen_backend,
        GenerationRequest(prompt=FIM_PROMPT, max_new_tokens=12, stop_token_strings=QWEN_STOP_TOKEN_STRINGS),
    )
    assert final.finish_reason == "stop"
    assert text and "<|" not in text
    assert unconstrained.startswith(text + "<|endoftext|>")
    assert final.timings.generated_tokens < 12 and final.timings.first_token_s > 0


async def test_single_line_completion_stops_at_the_newline(qwen_backend) -> None:
    prompt = "<|fim_prefix|>class Point:\n    def __init__(self, x, y):\n        self.x = x\n        <|fim_suffix|>\n<|fim_middle|>"
    full, _ = await collect_text(qwen_backend, GenerationRequest(prompt=prompt, max_new_tokens=10))
    line, final = await collect_text(
        qwen_backend,
        GenerationRequest(
            prompt=prompt,
            max_new_tokens=10,
            stop_sequences=("\n",),
            stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
        ),
    )
    assert final.finish_reason == "stop"
    assert line and "\n" not in line and full.startswith(line + "\n")
    # The follow-up request shared the whole prompt with the first one: its KV came from the prefix cache.
    assert final.timings.reused_prompt_tokens == final.timings.prompt_tokens - 1
