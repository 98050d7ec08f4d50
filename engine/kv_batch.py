"""The running batch's KV cache: how rows join, leave, are taken out (preemption) and decode one step.

Both layouts keep every row **left-padded** so that all rows write their next token at the same cache
index; each row's own position id and a 2-D attention mask make the padding invisible to the model.

* :class:`DynamicKVBatch` holds exactly the batch's rows in per-layer buffers with a few spare positions,
  handed to the model as a :class:`~transformers.DynamicCache` whose layers write each step's keys and
  values in place; its length grows by one per step and shrinks when rows leave (padding no row needs is
  trimmed). Shapes change every step, so compiling it needs ``dynamic=True``.
* :class:`StaticKVBatch` holds a fixed ``[slots, heads, max_tokens, head_dim]``
  :class:`~transformers.StaticCache`: the decode step always sees the same shapes (``[slots, 1]`` ids,
  ``[slots, max_tokens]`` mask), so it is compiled once with ``dynamic=False`` and, on CUDA,
  ``mode="reduce-overhead"`` (CUDA graphs): the path the transformers docs recommend for decoding.
  Continuous batching fits it because the static layers write every row at one shared index
  (``cumulative_length``), which is exactly the left-padded layout: a joining row is copied into a free
  slot ending at that index (everything shifts right once if it is longer than the current index), and
  when the index reaches the end, everything shifts left by the padding all rows share. Free slots decode
  garbage that nobody reads. Costs: memory for ``slots × max_tokens`` positions up front, and attention
  over ``max_tokens`` positions every step (masked), which a compiled kernel on a GPU absorbs but a CPU
  pays for; sliding-window layers are refused (their static layer rolls, which breaks the shared index).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

from roost.engine.types import EngineError

KVLayers = list[tuple[torch.Tensor, torch.Tensor]]


class KVBatch(Protocol):
    """Rows are indexed in the order they joined (minus those that left)."""

    @property
    def size(self) -> int: ...

    def join(self, kv: KVLayers, length: int) -> None:
        """Add a row whose KV (``[1, heads, length, head_dim]`` per layer) holds ``length`` tokens."""

    def keep(self, keep: list[int], lengths: list[int]) -> None:
        """Keep only rows ``keep`` (in that order); ``lengths`` are their KV lengths."""

    def row_kv(self, index: int, length: int) -> KVLayers:
        """A copy of row ``index``'s last ``length`` KV positions (its real tokens, no padding)."""

    def decode(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """One step: ``[rows, 1]`` ids at their positions → ``[rows, vocab]`` next-token logits."""

    def reset(self) -> None: ...


def input_device(model: Any) -> torch.device:
    """The device a model's input ids go to: its input embeddings'. A table read from its file
    (``FileRowsEmbedding``) has no weight tensor and says its device itself."""
    embeddings = model.get_input_embeddings()
    weight = getattr(embeddings, "weight", None)
    return weight.device if isinstance(weight, torch.Tensor) else torch.device(embeddings.device)


def returned_cache(output: Any) -> Any:
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def cache_from(kv: KVLayers) -> Any:
    """A DynamicCache over existing tensors, without the copy its constructor's ``update`` would make."""
    from transformers import DynamicCache

    cache = DynamicCache(ddp_cache_data=[(None, None)] * len(kv))
    for layer, (keys, values) in zip(cache.layers, kv, strict=True):
        layer.lazy_initialization(keys, values)
        layer.keys, layer.values = keys, values
    return cache


# Whether the verification forward packs grouped-query heads (see packed_gqa_attention); a switch for
# bench/speculative_bench.py, which measures both.
PACK_GQA_IN_VERIFICATION = True
_packing = threading.local()  # set on the thread running a verification forward
_installed_sdpa: list[Callable[..., Any]] = []  # transformers' own sdpa function, once wrapped


def _sdpa_packing_query_groups(original: Callable[..., Any]) -> Callable[..., Any]:
    """transformers' sdpa attention, except in a verification forward (several query positions over a
    cache, grouped-query heads, a mask): there the query heads that share a key/value head are packed
    along the query axis, as transformers itself does for one query position, instead of copying every
    key/value head ``num_key_value_groups`` times (``repeat_kv``). For Qwen2.5-0.5B (14 query heads, 2
    key/value heads) that copy is 7× the KV per layer per forward: over a 1,000-token prompt it made a
    5-position forward cost 2.3 ms of attention per layer instead of 0.9 (single core); the packed path
    computes the same sums in another order (float differences of 1e-7).

    Not in a one-position decode step of a lone row (no mask), though it would be faster there (the
    ``enable_gqa`` kernel runs the 14 query heads one query row at a time: 260 vs 170 us a layer over a
    903-token prompt, one core): the int8 kernel rounds activations to bfloat16, which turns those 1e-7
    differences into logit differences of ~0.1, and one first-line answer of 12 real prompts changed
    (bench/decode_step_probe.py --answers, session 11)."""

    def attention(
        module: Any,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: Any,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, None]:
        groups = int(getattr(module, "num_key_value_groups", 1))
        batch, heads, positions, dim = query.shape
        if (
            not getattr(_packing, "active", False)
            or groups == 1
            or positions == 1
            or attention_mask is None
            or attention_mask.shape[1] != 1
            or kwargs.get("position_bias") is not None
            or kwargs.get("dropout", 0.0)
        ):
            return original(module, query, key, value, attention_mask, **kwargs)
        # Head h = k * groups + g attends with key/value head k: rows (g, position) of packed head k.
        packed = query.reshape(batch, heads // groups, groups * positions, dim)
        output = F.scaled_dot_product_attention(
            packed, key, value, attn_mask=attention_mask.repeat(1, 1, groups, 1), scale=kwargs.get("scaling")
        )
        return output.reshape(batch, heads, positions, dim).transpose(1, 2).contiguous(), None

    return attention


@contextmanager
def packed_gqa_attention() -> Iterator[None]:
    """Within this block, on this thread, sdpa attention packs grouped-query heads (see above). The wrapper
    is installed once, for the process; other threads and other forwards run transformers' own code."""
    if not PACK_GQA_IN_VERIFICATION:
        yield
        return
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    if not _installed_sdpa:
        _installed_sdpa.append(ALL_ATTENTION_FUNCTIONS["sdpa"])
        ALL_ATTENTION_FUNCTIONS["sdpa"] = _sdpa_packing_query_groups(_installed_sdpa[0])
    _packing.active = True
    try:
        yield
    finally:
        _packing.active = False


def left_pad(tensor: torch.Tensor, count: int) -> torch.Tensor:
    """Pad ``count`` zero positions in front of the sequence axis of a ``[B, H, T, D]`` KV tensor."""
    return F.pad(tensor, (0, 0, count, 0)) if count else tensor


# Spare positions a row's KV buffers get each time they are (re)allocated: the decode steps write into
# them in place, and only the step that finds them full copies the KV into larger buffers. A one-line
# answer (about a dozen tokens, a few more with a speculative draft) never reallocates; the cost is
# 64 x 24 KiB = 1.5 MiB a row for Qwen2.5-0.5B in float32.
KV_SLACK_POSITIONS = 64


def kv_buffer(rows: int, like: torch.Tensor, length: int) -> torch.Tensor:
    """An uninitialised ``[rows, heads, length + slack, head_dim]`` buffer in ``like``'s dtype and device."""
    return like.new_empty((rows, like.shape[1], length + KV_SLACK_POSITIONS, like.shape[3]))


@functools.cache
def _in_place_layer_class() -> type:
    """transformers' ``DynamicLayer`` writing each step's keys and values in place into a buffer with spare
    positions (defined at the first use: transformers is imported lazily)."""
    from transformers.cache_utils import DynamicLayer

    class InPlaceLayer(DynamicLayer):
        """``keys``/``values`` are views of the first ``length`` positions of ``key_buffer``/``value_buffer``
        (from the layer's ``update`` on).

        ``DynamicLayer.update`` concatenates the whole cache with the new positions every step (a fresh
        copy of every layer's KV a token: ~5 ms of a 900-token row's step on one core); this one copies
        only the new positions, and the whole KV only when the buffer is full."""

        def __init__(self, key_buffer: torch.Tensor, value_buffer: torch.Tensor, length: int) -> None:
            super().__init__()
            self.key_buffer, self.value_buffer, self.length = key_buffer, value_buffer, length
            self.device = key_buffer.device
            self.is_initialized = True
            # ``keys``/``values`` stay None until ``update`` makes the views the attention reads (the model
            # asks a layer only its length before): a view costs ~7 us on this machine, and building the
            # 24 layers with theirs took 386 us a step, without 50.
            self.keys = self.values = None

        def get_seq_length(self) -> int:
            return self.length

        def _expose(self) -> None:
            self.keys = self.key_buffer[:, :, : self.length]
            self.values = self.value_buffer[:, :, : self.length]

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            count = key_states.shape[2]
            end = self.length + count
            if end > self.key_buffer.shape[2]:  # full: a larger buffer, with spare positions again
                rows = self.key_buffer.shape[0]
                old_keys, old_values = self.key_buffer, self.value_buffer
                self.key_buffer = kv_buffer(rows, old_keys, end)
                self.value_buffer = kv_buffer(rows, old_values, end)
                self.key_buffer[:, :, : self.length] = old_keys[:, :, : self.length]
                self.value_buffer[:, :, : self.length] = old_values[:, :, : self.length]
            self.key_buffer[:, :, self.length : end] = key_states
            self.value_buffer[:, :, self.length : end] = value_states
            self.length = end
            self._expose()
            return self.keys, self.values

    return InPlaceLayer


class DynamicKVBatch:
    """The batch as left-padded per-layer KV buffers that grow by one position per step, written in place.

    ``buffers`` holds, per layer, ``[rows, heads, capacity, head_dim]`` keys and values whose first
    ``length`` positions are the batch's KV (``kv``); the rest is spare room for the next steps. The
    batch owns its buffers: a joining row's KV (which the prefix cache may share) is copied in, never
    written to."""

    def __init__(self, model: Callable[..., Any], cache_kwarg: str, device: torch.device) -> None:
        self.model, self.cache_kwarg, self.device = model, cache_kwarg, device
        self.buffers: KVLayers = []
        self.length = 0
        self.mask: torch.Tensor | None = None

    @property
    def size(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    @property
    def kv(self) -> KVLayers:
        """The batch's KV per layer: views of the buffers' filled positions."""
        return [(k[:, :, : self.length], v[:, :, : self.length]) for k, v in self.buffers]

    def join(self, kv: KVLayers, length: int) -> None:
        if self.mask is None:
            self.buffers = [(self._copied([k], [0]), self._copied([v], [0])) for k, v in kv]
            self.length = length
            self.mask = torch.ones((1, length), dtype=torch.long, device=self.device)
            return
        current = self.mask.shape[1]
        target = max(current, length)
        pad_batch, pad_new = target - current, target - length
        old = self.kv
        self.length = target
        self.buffers = [
            (self._copied([bk, k], [pad_batch, pad_new]), self._copied([bv, v], [pad_batch, pad_new]))
            for (bk, bv), (k, v) in zip(old, kv, strict=True)
        ]
        new_mask = torch.cat([torch.zeros(pad_new, dtype=torch.long), torch.ones(length, dtype=torch.long)])
        self.mask = torch.cat([F.pad(self.mask, (pad_batch, 0)), new_mask.to(self.device).unsqueeze(0)])

    @staticmethod
    def _copied(parts: list[torch.Tensor], pads: list[int]) -> torch.Tensor:
        """``parts`` (``[rows, heads, T, head_dim]`` each) stacked along the rows, each left-padded by its
        ``pads`` zero positions to one length, in a fresh buffer with spare positions after it."""
        length = parts[0].shape[2] + pads[0]
        buffer = kv_buffer(sum(p.shape[0] for p in parts), parts[0], length)
        row = 0
        for part, pad in zip(parts, pads, strict=True):
            rows = slice(row, row + part.shape[0])
            # Padding is masked, but a masked position's value still meets a zero weight: it must not be NaN.
            buffer[rows, :, :pad] = 0
            buffer[rows, :, pad:length] = part
            row += part.shape[0]
        return buffer

    def keep(self, keep: list[int], lengths: list[int]) -> None:
        if not keep:
            self.reset()
            return
        assert self.mask is not None
        # Left padding that no remaining row needs is dropped so the batch does not grow without bound.
        trim = self.mask.shape[1] - max(lengths)
        if trim == 0 and keep == list(range(self.size)):
            return  # every row stays as it is
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.buffers = [
            (self._copied([k[index, :, trim:]], [0]), self._copied([v[index, :, trim:]], [0]))
            for k, v in self.kv
        ]
        self.length -= trim
        self.mask = self.mask[index, trim:]

    def row_kv(self, index: int, length: int) -> KVLayers:
        # A copy, not a view: a view would keep the whole batch's buffers alive while paused.
        return [
            (k[index : index + 1, :, -length:].clone(), v[index : index + 1, :, -length:].clone())
            for k, v in self.kv
        ]

    def decode(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        return self._forward(input_ids, position_ids)[:, -1, :]

    def decode_positions(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """Several positions per row in one forward (speculative decoding's check of a draft):
        ``[rows, m]`` ids at their positions → ``[rows, m, vocab]`` logits, one per position. Every row
        grows by ``m`` positions; :meth:`drop_last` takes back those that turn out to be wrong."""
        with packed_gqa_attention():
            return self._forward(input_ids, position_ids)

    def _forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """``[rows, m]`` ids appended to every row's KV in one forward; the logits of those ``m`` positions."""
        from transformers import DynamicCache

        assert self.mask is not None
        count = input_ids.shape[1]
        mask = torch.cat([self.mask, self.mask.new_ones((self.size, count))], dim=1)
        layer_class = _in_place_layer_class()
        cache = DynamicCache(ddp_cache_data=[(None, None)] * len(self.buffers))
        cache.layers = [layer_class(k, v, self.length) for k, v in self.buffers]
        out = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=position_ids,
            use_cache=True,
            logits_to_keep=count,
            **{self.cache_kwarg: cache},
        )
        # A layer that found its buffers full replaced them.
        self.buffers = [(layer.key_buffer, layer.value_buffer) for layer in returned_cache(out).layers]
        self.length += count
        self.mask = mask
        return out.logits

    def drop_last(self, count: int) -> None:
        """Forget the last ``count`` positions of every row (rejected draft tokens): the next step
        writes over them."""
        if count <= 0:
            return
        assert self.mask is not None and count < self.mask.shape[1]
        self.length -= count
        self.mask = self.mask[:, :-count]

    def reset(self) -> None:
        self.buffers, self.length, self.mask = [], 0, None


class StaticKVBatch:
    """The batch in a fixed-shape StaticCache of ``slots`` rows × ``max_tokens`` positions (see module doc).

    ``compile``: ``torch.compile`` the decode step (``dynamic=False``; ``reduce-overhead`` on CUDA). The
    prefill stays eager: its shapes change with every prompt.
    """

    def __init__(
        self,
        model: Any,
        cache_kwarg: str,
        device: torch.device,
        *,
        slots: int,
        max_tokens: int,
        compile: bool = True,
    ) -> None:
        from transformers import StaticCache

        self.model, self.cache_kwarg, self.device = model, cache_kwarg, device
        self.slots, self.max_tokens = slots, max_tokens
        self.cache = StaticCache(config=model.config, max_cache_len=max_tokens)
        if any(getattr(layer, "is_sliding", False) for layer in self.cache.layers):
            raise EngineError(
                "the static KV cache does not support sliding-window attention layers; use compile=True "
                "(dynamic shapes) for this model"
            )
        self.mask = torch.zeros((slots, max_tokens), dtype=torch.long, device=device)
        self.index = 0  # where every row writes its next token (== each layer's cumulative_length)
        self.row_slots: list[int] = []  # slot of each row, in row order
        self.shifts = {"right": 0, "left": 0}  # layout moves, for tests and benchmarks
        self._forward: Callable[..., Any] = model.forward
        if compile:
            mode = "reduce-overhead" if device.type == "cuda" else None
            self._forward = torch.compile(model.forward, dynamic=False, mode=mode)

    @property
    def size(self) -> int:
        return len(self.row_slots)

    # -- layout ---------------------------------------------------------------------------------------

    def _layers(self) -> list[Any]:
        return list(self.cache.layers)

    def _ensure_allocated(self, kv: KVLayers) -> None:
        for layer, (keys, values) in zip(self._layers(), kv, strict=True):
            if not layer.is_initialized:
                shape_k = (self.slots, keys.shape[1], 1, keys.shape[3])
                shape_v = (self.slots, values.shape[1], 1, values.shape[3])
                layer.lazy_initialization(keys.new_zeros(shape_k), values.new_zeros(shape_v))

    def _set_index(self, index: int) -> None:
        self.index = index
        for layer in self._layers():
            layer.cumulative_length.fill_(index)

    def _shift(self, count: int) -> None:
        """Move every row ``count`` positions right (positive) or left (negative), in place."""
        for layer in self._layers():
            layer.keys.copy_(layer.keys.roll(count, dims=2))
            layer.values.copy_(layer.values.roll(count, dims=2))
        self.mask.copy_(self.mask.roll(count, dims=1))
        self.shifts["right" if count > 0 else "left"] += 1
        # What rolled around the end is stale: never attended to.
        if count > 0:
            self.mask[:, :count] = 0
        else:
            self.mask[:, self.max_tokens + count :] = 0
        self._set_index(self.index + count)

    def _compact(self) -> None:
        """Make room for one more position by dropping the left padding every row has."""
        used = self.mask[self.row_slots] if self.row_slots else self.mask[:0]
        if used.shape[0] == 0:
            self.mask.zero_()
            self._set_index(0)
            return
        first_real = used.argmax(dim=1)  # index of each row's first real token (mask is 0…0 1…1)
        shift = int(first_real.min())
        if shift == 0:
            raise EngineError(f"a request outgrew the static KV cache ({self.max_tokens} positions)")
        self._shift(-shift)

    def join(self, kv: KVLayers, length: int) -> None:
        if length >= self.max_tokens:
            raise EngineError(
                f"a {length}-token row does not fit the static KV cache ({self.max_tokens} positions)"
            )
        self._ensure_allocated(kv)
        if length > self.index:
            self._shift(length - self.index)
        free = sorted(set(range(self.slots)) - set(self.row_slots))
        if not free:
            raise EngineError("the static KV batch is full")
        slot = free[0]
        start = self.index - length
        for layer, (keys, values) in zip(self._layers(), kv, strict=True):
            layer.keys[slot, :, start : self.index] = keys[0]
            layer.values[slot, :, start : self.index] = values[0]
        self.mask[slot] = 0
        self.mask[slot, start : self.index] = 1
        self.row_slots.append(slot)

    def keep(self, keep: list[int], lengths: list[int]) -> None:
        kept = [self.row_slots[i] for i in keep]
        for slot in set(self.row_slots) - set(kept):
            self.mask[slot] = 0
        self.row_slots = kept
        if not kept:
            self.reset()

    def row_kv(self, index: int, length: int) -> KVLayers:
        slot = self.row_slots[index]
        window = slice(self.index - length, self.index)
        return [
            (layer.keys[slot : slot + 1, :, window].clone(), layer.values[slot : slot + 1, :, window].clone())
            for layer in self._layers()
        ]

    def reset(self) -> None:
        self.row_slots = []
        self.mask.zero_()
        if self._layers()[0].is_initialized:
            self._set_index(0)
        else:
            self.index = 0

    # -- the step -------------------------------------------------------------------------------------

    def decode(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        if self.index >= self.max_tokens:
            self._compact()
        slots = torch.tensor(self.row_slots, dtype=torch.long, device=self.device)
        ids = torch.zeros((self.slots, 1), dtype=torch.long, device=self.device)
        positions = torch.zeros((self.slots, 1), dtype=torch.long, device=self.device)
        ids[slots], positions[slots] = input_ids, position_ids
        # Every slot attends to its new token: a free slot must not be all-masked (NaN softmax).
        step_mask = self.mask.clone()
        step_mask[:, self.index] = 1
        out = self._forward(
            input_ids=ids,
            attention_mask=step_mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **{self.cache_kwarg: self.cache},
        )
        # CUDA graphs reuse their output buffers on the next replay: take what we need now.
        logits = out.logits[slots, -1, :].clone()
        self.mask[slots, self.index] = 1
        self.index += 1
        return logits
