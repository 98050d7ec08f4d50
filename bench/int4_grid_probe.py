"""Probe (issue 15): which of a model's linear weights sit on a 4-bit grid, and what int4 buys a decode step.

Not product code. Reads the cached bfloat16 safetensors of the bundled model (or ``--model DIR``) and, for
every 2-D weight but the embedding:

* the rule of ``cpu_int4.encode_if_on_grid`` (an int4 copy only where its squared error against the float
  weight is no larger than the int8 copy's): accepted or not, the int4 / int8 RMS error ratio (the
  accepted layers' and a sample of 512 rows of each other kind) and the check's time;
* ``--kernels``: on the accepted layers' own weights, one thread, ms for all of them: the decode kernels
  (``_weight_int8pack_mm`` vs ``_weight_int4pack_mm_for_cpu``, 1 and 4 rows, bfloat16 activations), and
  what a prefill would pay to get a bfloat16 weight for the AMX GEMM: today's int8 -> bfloat16 copy vs
  unpacking the 4-bit layout with torch ops (option "4-bit only": no int8 copy kept).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python bench/int4_grid_probe.py --kernels
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import safe_open

from roost.engine.backends import cpu_int4
from roost.engine.backends.cpu_int8 import quantize_weight

DEFAULT_MODEL = Path.home() / ".cache/roost/models/qwen2.5-coder-0.5b-instruct"


def rms_ratio(weight: torch.Tensor) -> float:
    rows = weight.float()
    q, scale, zero = cpu_int4._encode_rows(rows)
    int4 = cpu_int4._dequantize_rows(q, scale, zero)
    quantized, row_scale = quantize_weight(rows)
    int8 = quantized.float() * row_scale[:, None]
    return float((int4 - rows).square().sum().sqrt() / (int8 - rows).square().sum().sqrt())


def timed_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    started = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - started) / repeats * 1000


def kernels(accepted: list[tuple[torch.Tensor, cpu_int4.Int4Weight]]) -> None:
    int8 = [quantize_weight(weight) for weight, _ in accepted]
    int8 = [(q, scale.to(torch.bfloat16)) for q, scale in int8]
    for rows in (1, 4):
        x = [torch.randn(rows, weight.shape[1]).to(torch.bfloat16) for weight, _ in accepted]

        def int8_decode(x: list[torch.Tensor] = x) -> None:
            for a, (q, s) in zip(x, int8, strict=True):
                torch.ops.aten._weight_int8pack_mm(a, q, s)

        def int4_decode(x: list[torch.Tensor] = x) -> None:
            for a, (_, w) in zip(x, accepted, strict=True):
                w.matmul(a)

        old, new = timed_ms(int8_decode, 20), timed_ms(int4_decode, 20)
        print(f"decode, {rows} row(s), {len(accepted)} layers: int8pack {old:.1f} ms, int4pack {new:.1f} ms")
    largest = max(weight.numel() for weight, _ in accepted)
    scratch = torch.empty(largest, dtype=torch.bfloat16)

    def int8_copy() -> None:
        for q, _ in int8:
            scratch[: q.numel()].view_as(q).copy_(q)

    def int4_unpack() -> None:
        for weight, int4 in accepted:
            rows, columns = weight.shape
            q = cpu_int4._unpack(int4.packed, rows, columns)
            sz = int4.scale_and_zero
            groups = scratch[: weight.numel()].view(rows, columns // cpu_int4.GROUP_SIZE, cpu_int4.GROUP_SIZE)
            groups.copy_(q.view_as(groups)).sub_(8).mul_(sz[..., 0].T[..., None]).add_(
                sz[..., 1].T[..., None]
            )

    print(
        f"prefill's bfloat16 weight, {len(accepted)} layers: int8 copy {timed_ms(int8_copy, 3):.0f} ms, "
        f"4-bit unpack {timed_ms(int4_unpack, 3):.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--kernels", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    outcome: collections.Counter[tuple[str, bool]] = collections.Counter()
    ratios: dict[tuple[str, bool], list[float]] = collections.defaultdict(list)
    accepted: list[tuple[torch.Tensor, cpu_int4.Int4Weight]] = []
    check_s = 0.0
    with safe_open(str(args.model / "model.safetensors"), "pt") as checkpoint:
        for name in checkpoint.keys():  # noqa: SIM118 - safe_open is not a mapping
            weight = checkpoint.get_tensor(name)
            if weight.dim() != 2 or "embed" in name:
                continue
            started = time.perf_counter()
            int4 = cpu_int4.encode_if_on_grid(weight)
            check_s += time.perf_counter() - started
            kind = name.rsplit(".", 2)[-2]
            outcome[kind, int4 is not None] += 1
            if int4 is not None:
                accepted.append((weight, int4))
            ratios[kind, int4 is not None].append(rms_ratio(weight if int4 is not None else weight[:512]))
    for (kind, took), count in sorted(outcome.items()):
        values = ratios[kind, took]
        print(
            f"{kind:10s} int4 {'yes' if took else 'no ':3s} {count:3d} layers; int4/int8 RMS error "
            f"{min(values):.2f}-{max(values):.2f}"
        )
    print(f"rule's check: {check_s:.1f} s for all layers, one thread")
    if args.kernels and accepted:
        kernels(accepted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
