"""4-bit copies of the int8 layers' weights for the CPU decode step, where they lose nothing.

A decode step multiplies one or a few rows by every weight of the model, so it waits on memory: torch's
``_weight_int4pack_mm_for_cpu`` (32-value groups, a bfloat16 scale and zero per group) reads half the int8
kernel's bytes and runs 1.8x faster on a layer (bench/int4_grid_probe.py). Most weights are not worth
four bits: rounding them to 16 levels a group is a real quantization error. But a model shipped as a
GGUF k-quant (the bundled Qwen2.5-Coder-0.5B Q4_K_M stores 12 of its 24 ``ffn_down`` as Q4_K) has layers
whose every 32-value group already sits on an affine 16-level grid (``w = d*sc*q - dmin*m``), so a
group-32 int4 encoding reproduces them up to bfloat16 rounding.

The rule is numeric, not tied to a file format (other models load through the same code): a layer gets
its int4 copy only if its squared reconstruction error against the float weight is no larger than the
int8 copy's (absmax / 127 a row), so the decode step's weights are no less exact than the int8 ones the
prefill keeps using. On the bundled model the two sides are far apart (bench/int4_grid_probe.py): the
Q4_K layers' int4 RMS error is 0.19-0.42x the int8 one (the bfloat16 scale and zero, and the bfloat16
rounding of the stored levels), every other layer's 2.3-10.5x (Q6_K, Q5_0, Q8_0). Off-grid layers fail
on their first rows (~1.4 ms a layer); an on-grid layer's encoding and check cost ~0.25 s at load (one
core, a 896x4864 weight), ~3 s for the bundled model's 12.

The int8 weights stay: the prefill multiplies them in bfloat16 (AMX) or float32, and dequantizing the
4-bit layout for a prefill with torch ops cost 10-25 ms a layer against 2 ms for the int8 copy.

Opt-in, lossy (``cpu_decode_weights="int4"``, :func:`encode_affine`): every layer gets a group-32 int4
copy for its decode steps, the min/max of each group on 16 levels, whatever its grid; an on-grid layer
keeps its exact encoding above. About half a decode step's time, at the quantization error measured in
docs/benchmarks.md ("4-bit decode for every layer").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

GROUP_SIZE = 32
LEVELS = 16
# Rows encoded per block at load: the temporaries (up to 15 candidate steps a value) stay tens of MiB.
ENCODE_BLOCK_ELEMENTS = 1 << 18
SAMPLE_ROWS = 8
# The CPU kernel's packed layout holds 64 output rows per block (checked at load, see ``_unpack``).
PACK_ROWS = 64
_INT4PACK_PACKET = getattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu", None)
# The resolved overload (the decode path calls it 12 times a token); None on a torch without it.
INT4PACK_MM: Callable[..., torch.Tensor] | None = (
    None if _INT4PACK_PACKET is None else _INT4PACK_PACKET.default
)
_CONVERT = getattr(torch.ops.aten, "_convert_weight_to_int4pack_for_cpu", None)


@dataclass(frozen=True)
class Int4Weight:
    """A weight in the CPU int4 kernel's layout: ``w = (q - 8) * scale + zero`` per 32-value group."""

    packed: torch.Tensor  # uint8, the kernel's layout
    scale_and_zero: torch.Tensor  # bfloat16 [in_features / 32, out_features, 2]

    def matmul(self, flat_bf16: torch.Tensor) -> torch.Tensor:
        """``flat_bf16 @ W.T`` in bfloat16 (float32 accumulation inside the kernel)."""
        assert INT4PACK_MM is not None
        return INT4PACK_MM(flat_bf16, self.packed, GROUP_SIZE, self.scale_and_zero)


def int4_kernel_available() -> bool:
    return INT4PACK_MM is not None and _CONVERT is not None


def _encode_rows(block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(q, scale, zero)`` of float32 rows, ``q`` in 0..15 ([rows, columns] int32), ``scale`` and
    ``zero`` bfloat16 [rows, groups], with ``w ≈ (q - 8) * scale + zero``.

    A group on a 16-level grid need not use the grid's two ends, so its step is ``(max - min) / n`` for
    the ``n`` of 1..15 that puts its values nearest to whole steps (neither the smallest gap between
    values nor ``n = 15`` survives the bfloat16 rounding of the stored levels: a gap of 3 steps rounded
    reads as 2.9)."""
    rows, columns = block.shape
    groups = block.view(rows, columns // GROUP_SIZE, GROUP_SIZE)
    low = groups.amin(dim=-1)
    spread = groups.amax(dim=-1) - low
    scale = spread / (LEVELS - 1)
    # Most groups use both ends of their grid; only the others pay for the search over n.
    ends_miss = _miss(groups, low, scale[..., None])[..., 0]
    unsure = ends_miss > scale / 16
    if bool(unsure.any()):
        picked, picked_low, picked_spread = groups[unsure], low[unsure], spread[unsure]
        steps = picked_spread[:, None] / torch.arange(1, LEVELS, dtype=torch.float32)  # [groups, 15]
        miss = _miss(picked, picked_low, steps)
        scale[unsure] = steps.gather(-1, miss.argmin(dim=-1, keepdim=True)).squeeze(-1)
    return _on_levels(groups, low, scale)


def _encode_rows_affine(block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(q, scale, zero)`` as :func:`_encode_rows` returns them, each group's min and max on the ends of
    its 16 levels (no search for a coarser grid: an off-grid group has none)."""
    rows, columns = block.shape
    groups = block.view(rows, columns // GROUP_SIZE, GROUP_SIZE)
    low = groups.amin(dim=-1)
    return _on_levels(groups, low, (groups.amax(dim=-1) - low) / (LEVELS - 1))


def _on_levels(
    groups: torch.Tensor, low: torch.Tensor, scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(q, scale, zero)`` of ``groups`` [rows, groups, 32] put on 16 levels of ``scale`` (float32, one a
    group) from their minimum ``low``: the scale and zero rounded to bfloat16 as the kernel stores them,
    ``q`` the nearest level under those."""
    rows = groups.shape[0]
    scale = scale.clamp(min=torch.finfo(torch.bfloat16).tiny).to(torch.bfloat16)
    zero = (low + 8 * scale.float()).to(torch.bfloat16)
    scale_f, zero_f = scale.float()[..., None], zero.float()[..., None]
    q = ((groups - zero_f) / scale_f + 8).round_().clamp_(0, LEVELS - 1)
    return q.view(rows, -1).to(torch.int32), scale, zero


def _packed_as_kernel_expects(packed: torch.Tensor, q: torch.Tensor) -> bool:
    """Whether ``packed`` (``_convert_weight_to_int4pack_for_cpu`` of ``q``) has the layout ``_unpack``
    reads: it is torch's private one, and a torch whose layout differs keeps the int8 kernel."""
    return packed.dtype == torch.uint8 and torch.equal(_unpack(packed, *q.shape), q)


def _miss(groups: torch.Tensor, low: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """How far each group's farthest value is from a whole number of each candidate step above its
    minimum: ``groups`` [..., 32], ``low`` [...], ``steps`` [..., candidates] -> [..., candidates]."""
    steps = steps.clamp(min=torch.finfo(torch.float32).tiny)
    positions = (groups - low[..., None])[..., None, :] / steps[..., None]
    return (positions - positions.round()).abs().amax(dim=-1) * steps


def _dequantize_rows(q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    rows, columns = q.shape
    groups = q.view(rows, columns // GROUP_SIZE, GROUP_SIZE).float()
    return ((groups - 8) * scale.float()[..., None] + zero.float()[..., None]).view(rows, columns)


def _unpack(packed: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
    """The 0..15 values of the CPU kernel's packed layout (64-row blocks; within a block, a column's 32
    bytes hold rows 0-31 in the low nibbles and rows 32-63 in the high ones)."""
    blocks = packed.reshape(rows // PACK_ROWS, columns, PACK_ROWS // 2)
    both = torch.cat([blocks & 15, blocks >> 4], dim=-1)  # [blocks, columns, 64]
    return both.transpose(1, 2).reshape(rows, columns).to(torch.int32)


def _int8_rounding(block: torch.Tensor) -> torch.Tensor:
    """The rows as the int8 copy reconstructs them (``cpu_int8.quantize_weight``: absmax / 127 a row)."""
    row_scale = (block.abs().amax(dim=1, keepdim=True) / 127.0).clamp(min=torch.finfo(torch.float32).tiny)
    return (block / row_scale).round_().clamp_(-127, 127).mul_(row_scale)


def encode_if_on_grid(weight: torch.Tensor) -> Int4Weight | None:
    """The int4 copy of ``weight`` [out, in] if it is at least as exact as the int8 copy (squared error
    against the float weight, summed over the rows so far, checked after each block), else None."""
    rows, columns = weight.shape
    if not int4_kernel_available() or columns % GROUP_SIZE or rows % PACK_ROWS:
        return None
    q = torch.empty((rows, columns), dtype=torch.int32)
    scale = torch.empty((rows, columns // GROUP_SIZE), dtype=torch.bfloat16)
    zero = torch.empty_like(scale)
    int4_error = int8_error = 0.0
    step = max(1, ENCODE_BLOCK_ELEMENTS // columns)
    # A few rows first: an off-grid layer (most of them) is rejected on those.
    starts = [0, *range(min(SAMPLE_ROWS, rows), rows, step)]
    with torch.no_grad():
        for start, stop in zip(starts, [*starts[1:], rows], strict=True):
            block = weight[start:stop].to(torch.float32, copy=True)
            block_q, block_scale, block_zero = _encode_rows(block)
            int4_error += float((_dequantize_rows(block_q, block_scale, block_zero) - block).square().sum())
            int8_error += float((_int8_rounding(block) - block).square().sum())
            if int4_error > int8_error:
                return None
            q[start:stop] = block_q
            scale[start:stop] = block_scale
            zero[start:stop] = block_zero
        assert _CONVERT is not None
        packed = _CONVERT(q, 1)
        if not _packed_as_kernel_expects(packed, q):
            return None
    scale_and_zero = torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous()
    return Int4Weight(packed, scale_and_zero)


def encode_affine(weight: torch.Tensor) -> Int4Weight | None:
    """The int4 copy of any ``weight`` [out, in]: its exact one where it sits on a 4-bit grid
    (:func:`encode_if_on_grid`), else each group's min/max on 16 levels (lossy). None where the kernel or
    the shape does not allow it. Packed a block of rows at a time (whole 64-row blocks: the packed layout
    is row-block-major, so the blocks' layouts concatenate), so the int32 temporaries stay a few MiB even
    for a 151,936-row lm_head (544 MiB whole)."""
    rows, columns = weight.shape
    if not int4_kernel_available() or columns % GROUP_SIZE or rows % PACK_ROWS:
        return None
    exact = encode_if_on_grid(weight)
    if exact is not None:
        return exact
    assert _CONVERT is not None
    step = max(1, ENCODE_BLOCK_ELEMENTS // (columns * PACK_ROWS)) * PACK_ROWS
    packed_blocks: list[torch.Tensor] = []
    scale = torch.empty((rows, columns // GROUP_SIZE), dtype=torch.bfloat16)
    zero = torch.empty_like(scale)
    with torch.no_grad():
        for start in range(0, rows, step):
            block = weight[start : start + step].to(torch.float32, copy=True)
            block_q, scale[start : start + step], zero[start : start + step] = _encode_rows_affine(block)
            packed = _CONVERT(block_q, 1)
            if start == 0 and not _packed_as_kernel_expects(packed, block_q):
                return None
            packed_blocks.append(packed)
    scale_and_zero = torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous()
    return Int4Weight(torch.cat(packed_blocks), scale_and_zero)
