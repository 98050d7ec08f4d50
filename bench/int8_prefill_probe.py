"""Probe (issue 15): kernels for an int8-weight linear layer's prefill call on a CPU, by row count.

Not product code. A forward's linear layers in Qwen2.5-Coder-0.5B's shapes (24 decoder layers, each its own
random weights quantized as the product quantizes them, so a layer's weights are out of cache when its turn
comes, as in the model) multiply ``rows`` float32 activation rows through each kernel:

* ``whole``: the int8 weight converted whole to a float32 scratch, then one float32 GEMM (the path of
  engine/backends/cpu_int8.py before the blockwise one): the float32 copy goes to memory and back;
* ``block:E``: the weight converted E elements (a block of output rows) at a time into a small scratch
  that stays in cache, each block multiplied at once into its columns of the output;
* ``int8pack``: ``aten._weight_int8pack_mm`` (reads the int8 weights, bfloat16 activations), the decode
  kernel.

Every kernel's output is asserted equal to the dequantized float reference within tolerance. Printed, per
row count: each shape's calls in ms in the best of ``--repeat`` passes (kernels interleaved), and
``forward``: the pass's total (without the lm_head unless ``--lm-head``). Two threads are only meaningful
with the other core idle (OpenMP's barriers stall behind a busy core, blockwise's many small calls most).

    flock /tmp/cpu0.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        .venv/bin/python bench/int8_prefill_probe.py --threads 1
    flock /tmp/cpu0.lock env OMP_NUM_THREADS=2 .venv/bin/python bench/int8_prefill_probe.py --threads 2
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import torch

from roost.engine.backends.cpu_int8 import Int8WeightLinear

HIDDEN, KV, INTERMEDIATE, VOCAB, LAYERS = 896, 128, 4864, 151936, 24
# (name, out_features, in_features, calls per decoder layer)
SHAPES = (
    ("q/o 896x896", HIDDEN, HIDDEN, 2),
    ("k/v 128x896", KV, HIDDEN, 2),
    ("gate/up 4864x896", INTERMEDIATE, HIDDEN, 2),
    ("down 896x4864", HIDDEN, INTERMEDIATE, 1),
)
LM_HEAD = ("lm_head 151936x896", VOCAB, HIDDEN, 0)
ROWS = (17, 32, 64, 128, 256, 1024)
BLOCK_ELEMENTS = (1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20)

Kernel = Callable[[torch.Tensor, Int8WeightLinear], torch.Tensor]
_scratch: dict[str, torch.Tensor] = {}


def scratch(elements: int) -> torch.Tensor:
    buffer = _scratch.get("buffer")
    if buffer is None or buffer.numel() < elements:
        buffer = _scratch["buffer"] = torch.empty(elements, dtype=torch.float32)
    return buffer[:elements]


def whole(x: torch.Tensor, layer: Int8WeightLinear) -> torch.Tensor:
    weight = scratch(layer.weight_int8.numel()).view(layer.out_features, layer.in_features)
    weight.copy_(layer.weight_int8)
    return torch.nn.functional.linear(x, weight).mul_(layer.scale)


def blockwise(block_elements: int) -> Kernel:
    def kernel(x: torch.Tensor, layer: Int8WeightLinear) -> torch.Tensor:
        step = max(1, block_elements // layer.in_features)
        out = torch.empty(x.shape[0], layer.out_features)
        buffer = scratch(step * layer.in_features).view(step, layer.in_features)
        for start in range(0, layer.out_features, step):
            stop = min(start + step, layer.out_features)
            block = buffer[: stop - start].copy_(layer.weight_int8[start:stop])
            torch.mm(x, block.T, out=out[:, start:stop])
        return out.mul_(layer.scale)

    return kernel


def int8pack(x: torch.Tensor, layer: Int8WeightLinear) -> torch.Tensor:
    out = torch.ops.aten._weight_int8pack_mm(x.to(torch.bfloat16), layer.weight_int8, layer.scale_bf16)
    return out.float()


def stack(shapes: tuple[tuple[str, int, int, int], ...]) -> list[tuple[str, Int8WeightLinear]]:
    """A forward's linear layers in order: 24 decoder layers' calls, each its own weights (so, as in the
    model, a layer's weights are out of cache when its turn comes: 360 MB of int8 for 24 layers)."""
    first = {name: Int8WeightLinear(torch.randn(out, inp) * 0.02, None) for name, out, inp, _ in shapes}
    calls = []
    for _layer in range(LAYERS):
        for name, _out, _inp, per_layer in shapes:
            for _ in range(per_layer):
                calls.append((name, copy.deepcopy(first[name])))
    return calls


def forward_ms(
    kernel: Kernel, calls: list[tuple[str, Int8WeightLinear]], inputs: dict[int, torch.Tensor]
) -> dict[str, float]:
    """Per shape, the time of its calls in one pass over the stack (ms)."""
    per_shape: dict[str, float] = {}
    for name, layer in calls:
        started = time.perf_counter()
        kernel(inputs[layer.in_features], layer)
        per_shape[name] = per_shape.get(name, 0.0) + (time.perf_counter() - started) * 1e3
    return per_shape


def check(kernel: Kernel, name: str, x: torch.Tensor, layer: Int8WeightLinear) -> None:
    reference = x @ layer.dequantized().T
    got = kernel(x, layer)
    # int8pack rounds activations to bfloat16 (8 bits of mantissa); the float32 paths differ by summation order.
    tolerance = (0.02 if name == "int8pack" else 1e-4) * reference.abs().max().item()
    error = (got - reference).abs().max().item()
    assert error <= tolerance, f"{name}: max error {error} > {tolerance}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the stack; the best is printed")
    parser.add_argument("--rows", type=int, nargs="*", default=list(ROWS))
    parser.add_argument("--blocks", type=int, nargs="*", default=list(BLOCK_ELEMENTS))
    parser.add_argument("--lm-head", action="store_true", help="also the lm_head, once per forward")
    parser.add_argument("--no-int8pack", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    kernels: dict[str, Kernel] = {"whole": whole}
    kernels.update({f"block:{b // 1024}K": blockwise(b) for b in args.blocks})
    if not args.no_int8pack:
        kernels["int8pack"] = int8pack
    shapes = SHAPES + ((LM_HEAD[:3] + (1,),) if args.lm_head else ())
    print(f"threads {torch.get_num_threads()}, best of {args.repeat} passes, ms per forward", flush=True)
    with torch.inference_mode():
        calls = stack(shapes)
        if args.lm_head:  # one lm_head per forward, not one per decoder layer
            calls = [c for c in calls if c[0] != LM_HEAD[0]] + [c for c in calls if c[0] == LM_HEAD[0]][:1]
        for rows in args.rows:
            inputs = {HIDDEN: torch.randn(rows, HIDDEN), INTERMEDIATE: torch.randn(rows, INTERMEDIATE)}
            for kernel_name, kernel in kernels.items():
                for layer in {name: layer for name, layer in calls}.values():
                    check(kernel, kernel_name, inputs[layer.in_features], layer)
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.repeat):  # kernels interleaved, so a busy moment hits them alike
                for kernel_name, kernel in kernels.items():
                    got = forward_ms(kernel, calls, inputs)
                    if kernel_name not in best or sum(got.values()) < sum(best[kernel_name].values()):
                        best[kernel_name] = got
            for name in best["whole"]:
                line = "  ".join(f"{k} {v[name]:7.1f}" for k, v in best.items())
                print(f"rows {rows:5d} {name:20s} {line}", flush=True)
            line = "  ".join(f"{k} {sum(v.values()):7.1f}" for k, v in best.items())
            print(f"rows {rows:5d} {'forward':20s} {line}", flush=True)


if __name__ == "__main__":
    main()
