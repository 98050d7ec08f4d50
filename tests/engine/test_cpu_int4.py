"""4-bit decode copies of int8 layers (cpu_int4): only for weights already on a 16-level grid per group."""

from __future__ import annotations

import pytest
import torch

from roost.engine.backends import cpu_int4, cpu_int8
from roost.engine.backends.cpu_int4 import GROUP_SIZE, encode_if_on_grid
from roost.engine.backends.cpu_int8 import DECODE_ROWS, Int8WeightLinear

pytestmark = pytest.mark.skipif(not cpu_int4.int4_kernel_available(), reason="no CPU int4 kernel in torch")

ROWS, COLUMNS = 128, 96  # the kernel's layout needs 64-row blocks and 32-column groups


def _grid_weight(seed: int = 0, narrow_groups: bool = False) -> torch.Tensor:
    """A bfloat16 weight whose every 32-value group is ``d * q - m`` with ``q`` in 0..15, as a GGUF Q4_K
    tensor dequantizes (``d`` and ``m`` per group). ``narrow_groups``: every other group uses only levels
    3..11, so its step is not ``(max - min) / 15``."""
    generator = torch.Generator().manual_seed(seed)
    groups = COLUMNS // GROUP_SIZE
    step = torch.rand(ROWS, groups, 1, generator=generator) * 0.01 + 0.001
    offset = torch.rand(ROWS, groups, 1, generator=generator) * 0.05
    levels = torch.randint(0, 16, (ROWS, groups, GROUP_SIZE), generator=generator)
    levels[..., 0], levels[..., 1] = 0, 15  # most Q4_K groups use both ends of their grid
    if narrow_groups:
        narrow = torch.randint(3, 12, (ROWS, groups, GROUP_SIZE), generator=generator)
        levels[:, ::2] = narrow[:, ::2]
    return (levels * step - offset).view(ROWS, COLUMNS).to(torch.bfloat16)


def _int4_reconstruction(layer: Int8WeightLinear) -> torch.Tensor:
    q = cpu_int4._unpack(layer.weight_int4, layer.out_features, layer.in_features)
    scale_and_zero = layer.int4_scale_and_zero.float()
    return cpu_int4._dequantize_rows(q, scale_and_zero[..., 0].T, scale_and_zero[..., 1].T)


@pytest.mark.parametrize("narrow_groups", [False, True], ids=["full groups", "narrow groups"])
def test_a_weight_on_a_4_bit_grid_gets_an_int4_copy_as_exact_as_bfloat16(narrow_groups: bool) -> None:
    weight = _grid_weight(narrow_groups=narrow_groups)
    layer = Int8WeightLinear(weight, None)
    assert layer.weight_int4 is not None
    error = (_int4_reconstruction(layer) - weight.float()).abs()
    # bfloat16 has 8 bits of mantissa: the scale and zero's rounding, not a quantization error.
    assert error.max() <= weight.float().abs().max() / 2**7
    int8_error = (layer.dequantized() - weight.float()).abs()
    assert error.square().sum() < int8_error.square().sum()


def test_an_off_grid_weight_keeps_only_the_int8_kernel() -> None:
    torch.manual_seed(0)
    weight = torch.randn(ROWS, COLUMNS) * 0.02
    assert encode_if_on_grid(weight) is None
    assert Int8WeightLinear(weight, None).weight_int4 is None


def test_a_grid_with_32_levels_is_not_taken_for_16() -> None:
    """A GGUF Q5_0 tensor (32 levels a group): rounding it to 16 levels would lose a bit."""
    generator = torch.Generator().manual_seed(1)
    step = torch.rand(ROWS, COLUMNS // GROUP_SIZE, 1, generator=generator) * 0.01 + 0.001
    levels = torch.randint(-16, 16, (ROWS, COLUMNS // GROUP_SIZE, GROUP_SIZE), generator=generator)
    assert encode_if_on_grid((levels * step).view(ROWS, COLUMNS)) is None


def test_a_layer_with_a_shape_the_kernel_cannot_pack_keeps_only_int8() -> None:
    assert encode_if_on_grid(_grid_weight()[:96]) is None  # 96 rows: not whole 64-row blocks


@pytest.mark.parametrize("rows", [1, 3, DECODE_ROWS], ids=lambda r: f"{r} rows")
def test_the_decode_step_multiplies_the_int4_copy(rows: int) -> None:
    weight = _grid_weight(narrow_groups=True)
    bias = torch.linspace(-1, 1, ROWS)
    layer = Int8WeightLinear(weight, bias)
    x = torch.randn(1, rows, COLUMNS)
    got = layer(x)
    reference = torch.nn.functional.linear(x.bfloat16().float(), _int4_reconstruction(layer), bias)
    assert got.dtype == torch.float32 and got.shape == (1, rows, ROWS)
    # bfloat16 output, float32 accumulation.
    assert torch.allclose(got, reference, atol=0.01 * reference.abs().max().item())
    int8_only = torch.nn.functional.linear(x.bfloat16().float(), layer.dequantized(), bias)
    assert not torch.equal(got, int8_only)


def test_a_decode_row_gives_the_same_bits_alone_or_among_a_speculative_checks_rows() -> None:
    """Speculative decoding checks several positions in one call; its tokens must be plain decode's."""
    layer = Int8WeightLinear(_grid_weight(), None)
    assert layer.weight_int4 is not None
    torch.manual_seed(2)
    x = torch.randn(1, DECODE_ROWS, COLUMNS)
    together = layer(x)
    for row in range(DECODE_ROWS):
        assert torch.equal(layer(x[:, row : row + 1]), together[:, row : row + 1])


def test_prefills_keep_multiplying_the_int8_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_int8, "AMX_BF16", False)  # the float32 prefill: exact, so compared bit for bit
    layer = Int8WeightLinear(_grid_weight(), None)
    x = torch.randn(1, DECODE_ROWS + 1, COLUMNS)
    expected = torch.nn.functional.linear(x, layer.dequantized())
    assert torch.allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_the_packed_layout_is_read_back_as_written() -> None:
    q = torch.randint(0, 16, (ROWS, COLUMNS), dtype=torch.int32)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
    assert torch.equal(cpu_int4._unpack(packed, ROWS, COLUMNS), q)


# ------------------------------------------------- decode_weights="int4": every layer, lossy (opt-in)


def _off_grid_weight(rows: int = ROWS) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    return (torch.randn(rows, COLUMNS, generator=generator) * 0.02).to(torch.bfloat16)


def test_with_int4_decode_weights_an_off_grid_layer_gets_a_copy_within_half_a_step_of_each_group() -> None:
    weight = _off_grid_weight()
    assert Int8WeightLinear(weight, None).weight_int4 is None  # the default is unchanged
    layer = Int8WeightLinear(weight, None, decode_weights="int4")
    assert layer.weight_int4 is not None
    groups = weight.float().view(ROWS, -1, GROUP_SIZE)
    half_step = ((groups.amax(-1) - groups.amin(-1)) / 15 / 2)[..., None]
    error = (_int4_reconstruction(layer).view_as(groups) - groups).abs()
    # Half a step of rounding, plus the bfloat16 rounding of the scale and zero (8 bits of mantissa).
    assert bool((error <= half_step * 1.05 + groups.abs().amax(-1, keepdim=True) / 2**7).all())
    assert error.max() > 0  # lossy: really 16 levels, not the weight itself


@pytest.mark.parametrize("rows", [1, DECODE_ROWS], ids=lambda r: f"{r} rows")
def test_with_int4_decode_weights_the_decode_step_computes_the_dequantized_4_bit_layer(rows: int) -> None:
    weight = _off_grid_weight()
    bias = torch.linspace(-1, 1, ROWS)
    layer = Int8WeightLinear(weight, bias, decode_weights="int4")
    x = torch.randn(1, rows, COLUMNS, generator=torch.Generator().manual_seed(4))
    got = layer(x)
    reference = torch.nn.functional.linear(x.bfloat16().float(), _int4_reconstruction(layer), bias)
    assert torch.allclose(got, reference, atol=0.01 * reference.abs().max().item())
    exact = torch.nn.functional.linear(x, weight.float(), bias)
    assert torch.allclose(got, exact, atol=0.1 * exact.abs().max().item())  # close to the float layer


def test_with_int4_decode_weights_an_on_grid_layer_keeps_its_exact_encoding() -> None:
    weight = _grid_weight(narrow_groups=True)
    exact = encode_if_on_grid(weight)
    layer = Int8WeightLinear(weight, None, decode_weights="int4")
    assert exact is not None and layer.weight_int4 is not None
    assert torch.equal(layer.weight_int4, exact.packed)
    assert torch.equal(layer.int4_scale_and_zero, exact.scale_and_zero)


def test_int4_copies_packed_block_by_block_equal_the_whole_weights_packing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weight = _off_grid_weight(rows=5 * cpu_int4.PACK_ROWS).float()
    q, scale, zero = cpu_int4._encode_rows_affine(weight.clone())
    whole = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
    monkeypatch.setattr(cpu_int4, "ENCODE_BLOCK_ELEMENTS", 2 * cpu_int4.PACK_ROWS * COLUMNS)  # 3 blocks
    blocks = cpu_int4.encode_affine(weight)
    assert blocks is not None
    assert torch.equal(blocks.packed, whole)
    assert torch.equal(blocks.scale_and_zero, torch.stack([scale, zero], dim=-1).transpose(0, 1))


def test_an_unknown_decode_weights_value_is_refused() -> None:
    with pytest.raises(ValueError, match="decode_weights"):
        Int8WeightLinear(_off_grid_weight(), None, decode_weights="int2")  # type: ignore[arg-type]
