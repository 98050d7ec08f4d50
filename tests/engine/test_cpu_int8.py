"""Weight-only int8 linear layers (cpu_weights="int8"): both kernels compute the dequantized layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from roost.engine.backends.cpu_int8 import DECODE_ROWS, Int8WeightLinear, quantize_linear_layers
from roost.engine.backends.file_embedding import FileRowsEmbedding
from roost.engine.backends.transformers_backend import (
    TransformersBackend,
    TransformersOptions,
    _stored_bfloat16,
    store_embeddings_as_bfloat16,
)

from .conftest import save_tiny_model


@pytest.mark.parametrize("rows", [1, DECODE_ROWS, DECODE_ROWS + 1, 64], ids=lambda r: f"{r} rows")
def test_both_kernels_compute_the_dequantized_layer(rows: int) -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 40, bias=True)
    layer = Int8WeightLinear(linear.weight, linear.bias)
    x = torch.randn(1, rows, 96)
    expected = torch.nn.functional.linear(x, layer.dequantized(), linear.bias)
    got = layer(x)
    assert got.dtype == torch.float32 and got.shape == (1, rows, 40)
    # The decode kernel rounds activations to bfloat16 (8 bits of mantissa); the prefill path is exact.
    assert torch.allclose(got, expected, atol=0.02 * expected.abs().max().item())


def test_int8_weights_stay_close_to_the_float_weights() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(256, 64, bias=False)
    layer = Int8WeightLinear(linear.weight, None)
    error = (layer.dequantized() - linear.weight).abs()
    # Per output channel, the error is at most half a quantization step of that channel.
    assert bool((error <= layer.scale[:, None] / 2 + 1e-7).all())
    assert layer.weight_int8.dtype == torch.int8


def test_every_float32_linear_is_replaced_in_place() -> None:
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(8, 2))
    )
    assert quantize_linear_layers(model) == 2
    assert [type(m).__name__ for m in model.modules() if "Linear" in type(m).__name__] == [
        "Int8WeightLinear",
        "Int8WeightLinear",
    ]
    assert model(torch.randn(3, 8)).shape == (3, 2)


def test_a_bfloat16_checkpoint_is_quantized_from_its_own_dtype_exactly(
    tiny_mistral_dir: Path, tmp_path: Path
) -> None:
    """Loading a bfloat16 checkpoint in bfloat16 before quantizing (the low-peak path) gives the model that
    quantizing its float32 load gives: the same int8 weights, scales and logits."""
    from transformers import AutoConfig, MistralForCausalLM

    stored = MistralForCausalLM.from_pretrained(tiny_mistral_dir, dtype=torch.bfloat16)
    directory = save_tiny_model(stored, tmp_path / "bf16")
    assert _stored_bfloat16(AutoConfig.from_pretrained(directory)) is torch.bfloat16  # the staged path runs
    backend = TransformersBackend.load(TransformersOptions(model=str(directory), device="cpu"))
    try:
        staged = backend.loaded.model
        reference = MistralForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
        quantize_linear_layers(reference)
        assert store_embeddings_as_bfloat16(reference)
        # The table stays in the checkpoint, read row by row (file_embedding.py); the rest is float32.
        assert isinstance(staged.get_input_embeddings(), FileRowsEmbedding)
        assert staged.get_input_embeddings().dtype == torch.bfloat16
        assert {p.dtype for p in staged.parameters()} <= {torch.float32}
        ids = torch.tensor([[5, 17, 42, 8, 99]])
        with torch.inference_mode():
            assert torch.equal(staged(ids).logits, reference(ids).logits)
    finally:
        backend.scheduler.close()
