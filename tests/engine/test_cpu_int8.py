"""Weight-only int8 linear layers (cpu_weights="int8"): every kernel computes the dequantized layer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from roost.engine.backends import cpu_int8
from roost.engine.backends.cpu_int8 import (
    BLOCKWISE_MAX_ROWS,
    DECODE_ROWS,
    Int8WeightLinear,
    prefill_kernel,
    quantize_linear_layers,
)
from roost.engine.backends.file_embedding import FileRowsEmbedding
from roost.engine.backends.transformers_backend import (
    TransformersBackend,
    TransformersOptions,
    _stored_bfloat16,
    store_embeddings_as_bfloat16,
)

from .conftest import save_tiny_model


def _layer_and_reference(rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A 96 -> 40 int8 layer (with bias) applied to ``rows`` random rows, and the float32 GEMM of the same
    dequantized weights: what every kernel must compute."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 40, bias=True)
    layer = Int8WeightLinear(linear.weight, linear.bias)
    x = torch.randn(1, rows, 96)
    return layer(x), torch.nn.functional.linear(x, layer.dequantized(), linear.bias)


@pytest.fixture
def float32_prefill(monkeypatch: pytest.MonkeyPatch) -> None:
    """The float32 prefill kernels, whatever this CPU (on one with AMX the product takes ``amx_bf16``)."""
    monkeypatch.setattr(cpu_int8, "AMX_BF16", False)


@pytest.mark.parametrize("amx", [False, True], ids=["float32 prefill", "amx_bf16 prefill"])
@pytest.mark.parametrize("rows", [1, DECODE_ROWS, DECODE_ROWS + 1, 64], ids=lambda r: f"{r} rows")
def test_every_kernel_computes_the_dequantized_layer(
    rows: int, amx: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any CPU runs the AMX kernel's code (without AMX, bfloat16 is emulated: slow, same answer)."""
    monkeypatch.setattr(cpu_int8, "AMX_BF16", amx)
    got, expected = _layer_and_reference(rows)
    assert got.dtype == torch.float32 and got.shape == (1, rows, 40)
    # The decode and AMX kernels round activations and output to bfloat16 (8 bits of mantissa); the
    # float32 prefill paths are exact (next test).
    assert torch.allclose(got, expected, atol=0.02 * expected.abs().max().item())


@pytest.mark.parametrize(
    "rows",
    [DECODE_ROWS + 1, BLOCKWISE_MAX_ROWS, BLOCKWISE_MAX_ROWS + 1],
    ids=lambda r: f"{r} rows",
)
@pytest.mark.usefixtures("float32_prefill")
def test_the_float32_prefill_kernels_compute_the_dequantized_layer_in_float32(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blockwise (around its row limit) and whole-weight conversion both give float32 GEMM's answer; blocks
    of 7 output rows make 6 blocks of the 40, the last one partial."""
    monkeypatch.setattr(cpu_int8, "BLOCK_ELEMENTS", 7 * 96)
    got, expected = _layer_and_reference(rows)
    assert got.shape == (1, rows, 40)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures("float32_prefill")
def test_the_kernel_is_chosen_by_row_count_and_an_oversized_layer_always_goes_blockwise() -> None:
    small, oversized = 4864 * 896, cpu_int8.SCRATCH_MAX_ELEMENTS + 1
    assert prefill_kernel(DECODE_ROWS, small) == "int8pack"
    assert prefill_kernel(DECODE_ROWS + 1, small) == "blockwise"
    assert prefill_kernel(BLOCKWISE_MAX_ROWS, small) == "blockwise"
    assert prefill_kernel(BLOCKWISE_MAX_ROWS + 1, small) == "whole"
    assert prefill_kernel(4096, oversized) == "blockwise"


def _scratch_elements_after(layer: Int8WeightLinear, x: torch.Tensor) -> int:
    """The float32 scratch a fresh thread holds after one call (the scratch is per thread)."""
    sizes: list[int] = []

    def call() -> None:
        layer(x)
        sizes.append(cpu_int8._scratch.buffer.numel())

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    return sizes[0]


def test_with_amx_every_prefill_of_a_layer_that_fits_the_scratch_is_bfloat16(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_int8, "AMX_BF16", True)
    small, oversized = 4864 * 896, cpu_int8.SCRATCH_MAX_ELEMENTS + 1
    assert prefill_kernel(DECODE_ROWS, small) == "int8pack"  # decode and speculative checks: unchanged
    assert prefill_kernel(DECODE_ROWS + 1, small) == "amx_bf16"
    assert prefill_kernel(4096, small) == "amx_bf16"
    assert prefill_kernel(4096, oversized) == "blockwise"  # a whole bfloat16 lm_head would be 272 MB


def test_the_amx_kernel_converts_into_a_bfloat16_scratch_and_no_float32_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_int8, "AMX_BF16", True)
    layer = Int8WeightLinear(torch.randn(200, 96), None)
    scratch: dict[str, object] = {}

    def call() -> None:
        layer(torch.randn(BLOCKWISE_MAX_ROWS + 1, 96))
        scratch.update(vars(cpu_int8._scratch))

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert "buffer" not in scratch  # the float32 scratch (a 4x larger copy) was never made
    bf16 = scratch["bf16_buffer"]
    assert isinstance(bf16, torch.Tensor) and bf16.dtype == torch.bfloat16 and bf16.numel() == 200 * 96


def test_the_amx_kernel_multiplies_row_counts_rounded_up_to_its_multiple(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """oneDNN keeps a primitive and JIT kernels for every row count it sees (~1.6 MB each): prefills of every
    length would grow the server by ~1 GB, so the kernel only ever multiplies multiples of 64 rows."""
    monkeypatch.setattr(cpu_int8, "AMX_BF16", True)
    seen: list[int] = []
    real_linear = torch.nn.functional.linear

    def recording_linear(x: torch.Tensor, weight: torch.Tensor, *args: object) -> torch.Tensor:
        seen.append(x.shape[0])
        return real_linear(x, weight, *args)

    monkeypatch.setattr(cpu_int8.F, "linear", recording_linear)
    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 40, bias=True)
    layer = Int8WeightLinear(linear.weight, linear.bias)
    for rows in (DECODE_ROWS + 1, 64, 65, 130):
        x = torch.randn(1, rows, 96)
        got = layer(x)
        expected = real_linear(x, layer.dequantized(), linear.bias)
        assert got.shape == (1, rows, 40)  # the padding's rows are dropped
        assert torch.allclose(got, expected, atol=0.02 * expected.abs().max().item())
    assert seen == [64, 64, 128, 192]


@pytest.mark.usefixtures("float32_prefill")
def test_a_blockwise_call_never_holds_the_whole_weight_as_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the blockwise kernel: the converted weight is one block at a time (it stays in cache);
    the whole-weight kernel converts all of it (a 896-row prefill still takes that path)."""
    monkeypatch.setattr(cpu_int8, "BLOCK_ELEMENTS", 8 * 96)
    layer = Int8WeightLinear(torch.randn(200, 96), None)
    assert _scratch_elements_after(layer, torch.randn(DECODE_ROWS + 1, 96)) == 8 * 96
    assert _scratch_elements_after(layer, torch.randn(BLOCKWISE_MAX_ROWS + 1, 96)) == 200 * 96
    # A layer over the scratch limit (an lm_head asked for every position) is blockwise at any row count.
    monkeypatch.setattr(cpu_int8, "SCRATCH_MAX_ELEMENTS", 100 * 96)
    assert _scratch_elements_after(layer, torch.randn(BLOCKWISE_MAX_ROWS + 1, 96)) == 8 * 96


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
