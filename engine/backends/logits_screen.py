"""The output layer of a greedy CPU decode step, screened in 4 bits and finished in int8.

A decode step's largest single read is the output layer: 151,936 x 896 int8 weights for Qwen2.5-Coder-0.5B,
136 MB, 23-24 ms of a ~90 ms step on one core. Greedy decoding only needs the argmax of its logits. A
group-32 4-bit copy of the layer (:func:`~roost.engine.backends.cpu_int4.encode_affine`, half the bytes,
9.7 ms) ranks the vocabulary nearly as the int8 weights do: over 3,500 positions of five stdlib files the
int8 argmax was never below 5th place in the 4-bit ranking (bench/logits_screen_probe.py). So the step takes
the 4-bit logits, recomputes the :data:`CANDIDATES` best of each row exactly with the int8 weights (the same
kernel on those rows alone: the same values, bit for bit), and the argmax among them is the int8 argmax.
The other logits stay 4-bit approximations, which is why the screen is used only where nothing but the
argmax is read: the scheduler turns it on for a step (:attr:`LogitsScreen.argmax_only`) when every row
decodes greedily and none is held to a forced start or start choices (those compare the logits of chosen
tokens), and for the last position of such a request's prompt; sampling and batches with such rows get the
int8 layer as before.

A row held to a forced start or to start choices reads the logits of its allowed tokens only (a few
hundred to a few thousand of the vocabulary): for such a step the scheduler names them
(:attr:`LogitsScreen.exact_rows`), and the layer computes those exactly with the int8 kernel (the same
values, bit for bit) and leaves every other logit at -inf, which no pick among the allowed ones reads.
"""

from __future__ import annotations

import torch

from roost.engine.backends.cpu_int4 import (
    GROUP_SIZE,
    INT4PACK_MM,
    PACK_ROWS,
    encode_affine,
    int4_kernel_available,
)
from roost.engine.backends.cpu_int8 import DECODE_ROWS, DecodeWeights, Int8WeightLinear

# Rows of each decode row's logits recomputed exactly: 16x the worst rank the int8 argmax took among
# the 4-bit logits in the probe (4th after the best), for ~0.1 ms a step.
CANDIDATES = 64
# Rows encoded at a time at load (a multiple of the int4 layout's 64-row blocks): 29 MiB of float32.
ENCODE_ROWS = 8192
# Above this share of the vocabulary the allowed tokens are computed by the whole int8 layer (gathering
# their rows would save little).
EXACT_ROWS_MAX_SHARE = 0.25
# The model attribute the scheduler looks the screen up by (absent: no screen).
MODEL_ATTRIBUTE = "roost_logits_screen"

_INT8PACK_MM = torch.ops.aten._weight_int8pack_mm.default


class LogitsScreen:
    """The switches the scheduler sets around a step whose logits are only argmax'ed, or read only at a
    few tokens."""

    def __init__(self) -> None:
        self.argmax_only = False
        # The only token ids whose logits the step reads (a constrained pick), or None: all of them.
        self.exact_rows: torch.Tensor | None = None
        self.screened_calls = 0  # decode calls that took the 4-bit screen (tests, the probe)
        self.exact_rows_calls = 0  # calls that computed the named rows alone (tests, the probe)


class ScreenedOutputLayer(torch.nn.Module):
    """``inner`` (the int8 output layer), with a 4-bit copy that screens the vocabulary on argmax-only
    decode steps."""

    def __init__(self, inner: Int8WeightLinear, screen: LogitsScreen) -> None:
        super().__init__()
        if inner.weight_int4 is not None and inner.int4_scale_and_zero is not None:
            # The layer's own 4-bit decode copy (decode_weights "int4") becomes the screen: its argmax is
            # then the int8 layer's rather than the 4-bit one's, for the same bytes.
            packed, scale_and_zero = inner.weight_int4, inner.int4_scale_and_zero
            inner.weight_int4 = inner.int4_scale_and_zero = None
        else:
            packed, scale_and_zero = _encode_4bit(inner)
        self.inner = inner
        self.screen = screen
        self.in_features, self.out_features = inner.in_features, inner.out_features
        self.register_buffer("screen_int4", packed)
        self.register_buffer("screen_scale_and_zero", scale_and_zero)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if rows > DECODE_ROWS:
            return self.inner(x)
        exact_rows = self.screen.exact_rows
        if exact_rows is not None:
            exact_rows = exact_rows[(exact_rows >= 0) & (exact_rows < self.out_features)]
            if exact_rows.numel() <= EXACT_ROWS_MAX_SHARE * self.out_features:
                self.screen.exact_rows_calls += 1
                flat = x.reshape(rows, self.in_features).to(torch.bfloat16)
                logits = torch.full((rows, self.out_features), float("-inf"))
                logits.index_copy_(1, exact_rows, self._exact(flat, exact_rows))
                return logits.view(*x.shape[:-1], self.out_features)
        if not self.screen.argmax_only or self.out_features <= CANDIDATES:
            return self.inner(x)
        assert INT4PACK_MM is not None
        self.screen.screened_calls += 1
        flat = x.reshape(rows, self.in_features).to(torch.bfloat16)
        logits = INT4PACK_MM(flat, self.screen_int4, GROUP_SIZE, self.screen_scale_and_zero).float()
        candidates = logits.topk(CANDIDATES, dim=-1).indices.unique()
        logits.index_copy_(1, candidates, self._exact(flat, candidates))
        return logits.view(*x.shape[:-1], self.out_features)

    def _exact(self, flat: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """The int8 layer's logits of the token ``ids`` alone (its decode kernel on those weight rows: the
        same values as the whole layer's, bit for bit), for the bfloat16 rows ``flat``."""
        inner = self.inner
        exact = _INT8PACK_MM(
            flat, inner.weight_int8.index_select(0, ids), inner.scale_bf16.index_select(0, ids)
        ).float()
        if inner.bias is not None:
            exact.add_(inner.bias.index_select(0, ids))
        return exact


def _encode_4bit(layer: Int8WeightLinear) -> tuple[torch.Tensor, torch.Tensor]:
    """The layer's weights in the CPU int4 kernel's layout, encoded from its int8 weights a block of rows at
    a time (the whole float32 weight of a 151,936-row layer would be 544 MiB): the packed layout is
    row-block-major, so the blocks' layouts concatenate, and so do their scales and zeros along the rows."""
    packed: list[torch.Tensor] = []
    scales_and_zeros: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, layer.out_features, ENCODE_ROWS):
            rows = slice(start, start + ENCODE_ROWS)
            block = layer.weight_int8[rows].float().mul_(layer.scale[rows, None])
            encoded = encode_affine(block)
            if encoded is None:
                raise ValueError("the output layer cannot be encoded in 4 bits")
            packed.append(encoded.packed)
            scales_and_zeros.append(encoded.scale_and_zero)
    return torch.cat(packed), torch.cat(scales_and_zeros, dim=1)


def attach_logits_screen(
    model: torch.nn.Module, decode_weights: DecodeWeights = "int8"
) -> LogitsScreen | None:
    """Put a :class:`ScreenedOutputLayer` in place of ``model``'s int8 output layer (a transformers model's
    ``get_output_embeddings``) and return its screen, also set as ``model.roost_logits_screen``; None where
    the output layer is not an int8 layer, the CPU int4 kernel is missing, or the layer already decodes
    from an exact 4-bit copy (on a 4-bit grid, with ``decode_weights`` "int8"). With ``decode_weights``
    "int4" the layer's lossy 4-bit copy becomes the screen."""
    get = getattr(model, "get_output_embeddings", None)
    head = get() if get is not None else None
    if not isinstance(head, Int8WeightLinear) or not int4_kernel_available():
        return None
    if head.weight_int4 is not None and decode_weights == "int8":
        return None
    # The int4 layout holds whole 64-row blocks of 32-value groups (CodeLlama's 32,016 rows are not).
    if head.out_features % PACK_ROWS or head.in_features % GROUP_SIZE:
        return None
    screen = LogitsScreen()
    model.set_output_embeddings(ScreenedOutputLayer(head, screen))
    setattr(model, MODEL_ATTRIBUTE, screen)
    return screen
