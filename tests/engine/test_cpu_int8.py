"""Weight-only int8 linear layers (cpu_weights="int8"): both kernels compute the dequantized layer."""

from __future__ import annotations

import pytest
import torch

from roost.engine.backends.cpu_int8 import DECODE_ROWS, Int8WeightLinear, quantize_linear_layers


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
