"""Weight-only int8 linear layers for running a model on a CPU (``cpu_weights="int8"``).

Each ``nn.Linear`` becomes an :class:`Int8WeightLinear`: int8 weights with one float scale per output
channel (symmetric, absmax / 127), a quarter of float32's bytes. Activations are never quantized: torch's
dynamic quantization (int8 activations with one scale per call) was measured first and lost more than half
of HumanEval single-line pass@1 on Qwen2.5-Coder-0.5B (0.567 -> 0.233, 30 tasks), because one outlier
activation sets the scale of a whole prefill chunk.

Four kernels, by the number of rows a call multiplies and the CPU (``prefill_kernel``):

* decode (a few rows): ``aten._weight_int8pack_mm``, which reads the int8 weights directly (decode on a CPU
  waits on memory, so reading a quarter of the bytes is the speed-up); the kernel takes bfloat16
  activations, accumulates in float32, and the result goes back to float32. A layer whose weight already
  sits on a 4-bit grid (cpu_int4: a GGUF Q4_K tensor) decodes through ``_weight_int4pack_mm_for_cpu``
  instead, half the bytes again, same activations and output dtypes; with ``decode_weights="int4"``
  (opt-in, lossy) every layer does;
* prefills on a CPU with AMX (Intel Sapphire Rapids and later): the int8 weights are converted to
  bfloat16 (exactly: every int8 value is a bfloat16) into a per-thread scratch and multiplied by the
  bfloat16 activations through oneDNN's AMX tiles, float32 accumulation, the per-channel scale applied
  to the output. The same rounding as the decode kernel (bfloat16 activations and output), 4-5x faster
  than either float32 path below at every prefill size (bench/amx_prefill_probe.py: a forward's linear
  layers of the bundled model, one core, 384 rows 420 vs 1,956 ms, 64 rows 193 vs 470-687 ms);
  without AMX bfloat16 matmuls are emulated and slower than float32, so those CPUs keep:
* short prefills (prefetch chunks, a keystroke's re-prefill, a speculative check): blockwise — the int8
  weights are converted to float32 a block of output rows at a time into a small scratch that stays in
  cache, and each block is multiplied at once into its columns of the output. The whole-weight conversion
  below writes the float32 copy to memory and the GEMM reads it back (~2.9 GB a forward of the bundled
  model, whatever its row count). Blockwise is 10-30 % faster a short chunk where one core does the work
  (one thread, or the other core busy), and no faster with both cores idle (there the memory traffic is
  hidden and a few-row GEMM's own inefficiency dominates); its output is bit-identical;
* long prefills: the int8 weights are converted whole to float32 into a scratch buffer shared by all
  layers (allocating a fresh float32 copy per call cost more than the copy itself, and fragments the
  heap), multiplied with float32's own GEMM, and the per-channel scale applied to the output (measured
  on a 512 x 896 x 4864 call: 83 ms against float32's 70). Past a few hundred rows one big GEMM beats
  block-sized ones (each block re-reads the activations) and the conversion is amortized.

Figures: see ``BLOCKWISE_MAX_ROWS`` and docs/benchmarks.md ("Latency and memory on a CPU").
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Literal, cast, get_args

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

from roost.engine.backends.cpu_int4 import (
    GROUP_SIZE,
    INT4PACK_MM,
    Int4Weight,
    encode_affine,
    encode_if_on_grid,
)
from roost.engine.native_memory import file_mappings, release_mapped_pages

# Up to this many rows (tokens × batch rows) a call takes the int8 kernel; above it, the float32 GEMM.
DECODE_ROWS = 16
# Up to this many rows a call converts and multiplies the weight block by block; above it, the whole
# weight at once. bench/int8_prefill_probe.py (a forward's linear layers: 24 layers of Qwen2.5-0.5B's
# shapes, weights out of cache as in the model), one core of the 2-core dev machine, ms a forward, whole
# vs blockwise (1 Mi-element blocks): 17 rows 392 vs 308, 32 rows 675 vs 556, 64 rows 800-1086 vs
# 677-1036, 128 rows 1234-1809 vs 1201-1735, 192 rows 1728 vs 1736, 256 rows 2133-2304 vs 2363-2430, 1024
# rows 8972 vs 10562 (whole wins from ~192 rows: each block re-reads the activations). The product's prefetch
# of a 920-token prompt, one core: 64-token chunks 68-72 -> 80-82 tok/s, 128-token 82-85 -> 88 tok/s; both
# threads on an idle machine: 97.1 -> 96.9 and 128.7 -> 124.2 (one round: within noise).
BLOCKWISE_MAX_ROWS = 128
# The AMX kernel's row counts are rounded up to a multiple of this (zero rows, their output dropped).
# oneDNN builds and keeps a matmul primitive and JIT kernels for every new row count, ~1.6 MB each and
# slow to build: 300 prefills of random lengths (17-1,024 rows, the bundled model's four weight shapes, one
# core) grew the process by 990 MB and took 21.4 s unpadded; padded to 64, +103 MB (16 row counts a shape,
# then flat) in 12.3 s; to 32, +160 MB in 12.3 s. A prefetch chunk (64 rows) needs no padding.
AMX_ROW_MULTIPLE = 64
# The blockwise kernel's block: 1 Mi elements, 4 MiB of float32, which stays in this machine's L3 (32 MiB;
# L2 is 1 MiB a core). Smaller blocks lose more to the GEMM's per-call packing and short N than they win
# in locality (probe, one core, 64 rows: 256 Ki elements 744-912 ms, 512 Ki 718-999, 1 Mi 677-1036).
BLOCK_ELEMENTS = 1 << 20
# A layer larger than this (an lm_head asked for many positions' logits) always goes blockwise: a whole
# float32 copy of Qwen2.5-0.5B's lm_head is 544 MB.
SCRATCH_MAX_ELEMENTS = 32 * 2**20
Kernel = Literal["int8pack", "amx_bf16", "blockwise", "whole"]
# The decode step's weights: "int8" (a 4-bit copy only where it loses nothing, cpu_int4) or "int4" (a
# 4-bit copy of every layer that the kernel takes: half the bytes a step, lossy; docs/benchmarks.md).
DecodeWeights = Literal["int8", "int4"]
DECODE_WEIGHTS: tuple[str, ...] = get_args(DecodeWeights)
# The decode kernel's overload, resolved once (``torch.ops.aten.<op>`` resolves it on every call).
_INT8PACK_MM = torch.ops.aten._weight_int8pack_mm.default
# A torch without the int4 kernel builds no int4 copies, so the decode path never calls it there.
_INT4PACK_MM = cast(Callable[..., torch.Tensor], INT4PACK_MM)
_scratch = threading.local()  # the float32 and bfloat16 scratch weights, one per thread that runs the model
# Rows are quantized in blocks of about this many elements (4 MiB of float32 temporaries): a whole-matrix
# conversion made three float32 copies of each weight at once, 1.6 GB for Qwen2.5-0.5B's untied lm_head.
QUANTIZE_BLOCK_ELEMENTS = 1 << 20


def cpu_has_amx() -> bool:
    """Whether this CPU multiplies bfloat16 on AMX tiles (``torch.cpu``'s check; private, so guarded)."""
    try:
        return bool(torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


# Decided once per process: the CPU does not change, and the decode path must not pay for the check.
AMX_BF16 = cpu_has_amx()


def prefill_kernel(rows: int, weight_elements: int) -> Kernel:
    """Which kernel multiplies ``rows`` activation rows by a weight of ``weight_elements`` int8 values."""
    if rows <= DECODE_ROWS:
        return "int8pack"
    if AMX_BF16 and weight_elements <= SCRATCH_MAX_ELEMENTS:
        return "amx_bf16"
    if rows <= BLOCKWISE_MAX_ROWS or weight_elements > SCRATCH_MAX_ELEMENTS:
        return "blockwise"
    return "whole"


def _thread_scratch(elements: int) -> torch.Tensor:
    """The first ``elements`` of this thread's float32 scratch (grown, never shrunk)."""
    buffer = getattr(_scratch, "buffer", None)
    if buffer is None or buffer.numel() < elements:
        buffer = _scratch.buffer = torch.empty(elements, dtype=torch.float32)
    return buffer[:elements]


def _thread_bf16_scratch(elements: int) -> torch.Tensor:
    """The first ``elements`` of this thread's bfloat16 scratch (grown, never shrunk; 8.7 MB for the
    bundled model's largest layer)."""
    buffer = getattr(_scratch, "bf16_buffer", None)
    if buffer is None or buffer.numel() < elements:
        buffer = _scratch.bf16_buffer = torch.empty(elements, dtype=torch.bfloat16)
    return buffer[:elements]


def quantize_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(int8 weights, float32 scale per output row)`` of a float weight matrix: symmetric, absmax / 127.

    Row blocks at a time (every step is per row, so the result is the whole-matrix conversion's, bit for
    bit), so the float32 temporaries stay a few MiB whatever the matrix's size or dtype."""
    rows, columns = weight.shape
    quantized = torch.empty((rows, columns), dtype=torch.int8)
    scale = torch.empty(rows, dtype=torch.float32)
    step = max(1, QUANTIZE_BLOCK_ELEMENTS // max(columns, 1))
    with torch.no_grad():
        for start in range(0, rows, step):
            block = weight[start : start + step].to(torch.float32, copy=True)  # never the caller's tensor
            block_scale = (block.abs().amax(dim=1) / 127.0).clamp(min=torch.finfo(torch.float32).tiny)
            quantized[start : start + step] = block.div_(block_scale[:, None]).round_().clamp_(-127, 127)
            scale[start : start + step] = block_scale
    return quantized, scale


class Int8WeightLinear(torch.nn.Module):
    """A linear layer with int8 weights (per-output-channel scale) and float32 activations."""

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None, *, decode_weights: DecodeWeights = "int8"
    ) -> None:
        super().__init__()
        quantized, scale = quantize_weight(weight.detach())
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.register_buffer("weight_int8", quantized)
        self.register_buffer("scale", scale)
        self.register_buffer("scale_bf16", scale.to(torch.bfloat16))
        # A weight already on a 4-bit grid (a GGUF Q4_K tensor), or any weight with decode_weights "int4",
        # also gets a 4-bit copy for the decode step, which reads half the bytes (cpu_int4); prefills keep
        # multiplying the int8 weights.
        int4 = _decode_copy(weight.detach(), decode_weights)
        self.register_buffer("weight_int4", None if int4 is None else int4.packed)
        self.register_buffer("int4_scale_and_zero", None if int4 is None else int4.scale_and_zero)
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().float(), requires_grad=False)

    def dequantized(self) -> torch.Tensor:
        return self.weight_int8.float() * self.scale[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if rows <= DECODE_ROWS:
            # The decode path runs 169 times a token (Qwen2.5-0.5B): its Python is kept to the kernel call
            # (the resolved overload, not the op packet's lookup), the two dtype conversions it needs and
            # an in-place bias: 35.5 -> 32 us a 128x896 call with a bias on one core, ~0.6 ms a token.
            flat = x.reshape(rows, self.in_features).to(torch.bfloat16)
            if self.weight_int4 is not None:
                out = _INT4PACK_MM(flat, self.weight_int4, GROUP_SIZE, self.int4_scale_and_zero).float()
            else:
                out = _INT8PACK_MM(flat, self.weight_int8, self.scale_bf16).float()
            if self.bias is not None:
                out.add_(self.bias)
            return out.view(*x.shape[:-1], self.out_features)
        kernel = prefill_kernel(rows, self.weight_int8.numel())
        if kernel == "amx_bf16":
            out = self._amx_bf16(x.reshape(rows, self.in_features)).reshape(*x.shape[:-1], self.out_features)
        elif kernel == "blockwise":
            out = self._blockwise(x.reshape(rows, self.in_features)).reshape(*x.shape[:-1], self.out_features)
        else:
            out = F.linear(x, self._float_weight()).mul_(self.scale)
        return out if self.bias is None else out.add_(self.bias)

    def _amx_bf16(self, flat: torch.Tensor) -> torch.Tensor:
        """``flat @ W.T * scale`` in bfloat16 on AMX, the rows padded with zeros to a multiple of
        ``AMX_ROW_MULTIPLE`` (see there) and the padding's output dropped."""
        rows = flat.shape[0]
        padded = -(-rows // AMX_ROW_MULTIPLE) * AMX_ROW_MULTIPLE
        activations = F.pad(flat.to(torch.bfloat16), (0, 0, 0, padded - rows))
        weight = _thread_bf16_scratch(self.weight_int8.numel()).view(self.out_features, self.in_features)
        return F.linear(activations, weight.copy_(self.weight_int8))[:rows].float().mul_(self.scale)

    def _blockwise(self, flat: torch.Tensor) -> torch.Tensor:
        """``flat @ W.T * scale``, the int8 weights converted a block of output rows at a time into a
        scratch that stays in cache, each block multiplied at once into its columns of the output (a
        row-major column slice is a plain BLAS output with a leading dimension: no copy)."""
        step = max(1, BLOCK_ELEMENTS // self.in_features)
        block_buffer = _thread_scratch(min(step, self.out_features) * self.in_features)
        out = torch.empty((flat.shape[0], self.out_features), dtype=torch.float32)
        for start in range(0, self.out_features, step):
            stop = min(start + step, self.out_features)
            block = block_buffer[: (stop - start) * self.in_features].view(stop - start, self.in_features)
            torch.mm(flat, block.copy_(self.weight_int8[start:stop]).T, out=out[:, start:stop])
        return out.mul_(self.scale)

    def _float_weight(self) -> torch.Tensor:
        """The int8 weights as float32 (unscaled), in the thread's scratch buffer."""
        size = self.weight_int8.numel()
        return _thread_scratch(size).view(self.out_features, self.in_features).copy_(self.weight_int8)

    def extra_repr(self) -> str:
        weights = "int8" if self.weight_int4 is None else "int8, int4 decode"
        return f"in_features={self.in_features}, out_features={self.out_features}, weights={weights}"


def _decode_copy(weight: torch.Tensor, decode_weights: DecodeWeights) -> Int4Weight | None:
    if decode_weights not in DECODE_WEIGHTS:
        raise ValueError(f"decode_weights must be one of {DECODE_WEIGHTS}, got {decode_weights!r}")
    return encode_affine(weight) if decode_weights == "int4" else encode_if_on_grid(weight)


def quantize_linear_layers(model: torch.nn.Module, decode_weights: DecodeWeights = "int8") -> int:
    """Replace every floating-point ``nn.Linear`` of ``model`` (float32, or the bfloat16 a checkpoint was
    stored in) in place; returns how many were replaced. Each float weight is released as soon as its int8
    copy exists, so the peak stays near the loaded model's: a heap weight is freed with its layer, and a
    weight that is a view of a memory-mapped checkpoint (a lazy bfloat16 load) has its pages dropped from
    the process (they stayed resident until the whole mapping went: 1.3 GB for the bundled model)."""
    replaced = 0
    mappings = file_mappings()
    # A weight tied to another parameter (an lm_head sharing the embedding table) keeps its pages.
    uses = Counter(id(p) for _name, p in model.named_parameters(remove_duplicate=False))
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear and child.weight.is_floating_point():
                setattr(
                    parent, name, Int8WeightLinear(child.weight, child.bias, decode_weights=decode_weights)
                )
                replaced += 1
                if uses[id(child.weight)] == 1:
                    release_mapped_pages([_byte_span(child.weight)], mappings)
    return replaced


def _byte_span(tensor: torch.Tensor) -> tuple[int, int]:
    return tensor.data_ptr(), tensor.numel() * tensor.element_size()
