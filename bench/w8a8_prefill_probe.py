"""Probe (issue 15): int8-activation (W8A8) prefill GEMMs through fbgemm on a CPU, against the int8
weight-only path of engine/backends/cpu_int8.py. Not product code: it swaps layers of a loaded backend.

    flock /tmp/cpu0.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        .venv/bin/python bench/w8a8_prefill_probe.py {kernels|numerics|speed|30} int8 SPEC...

SPEC = layers:alpha:rr:wmax:outliers, e.g. ``all:0.5:rr:127:8``: layers ``all`` or a comma list of
qkv,o,gateup,down; alpha ``none`` or the SmoothQuant exponent (activation maxima from three stdlib files);
``rr`` = fbgemm's reduce_range (7-bit activations) or ``full``; wmax the weights' largest int (127, or 63 so
that fbgemm's int16 pair sums cannot saturate without VNNI); outliers = input channels kept in float32.
Activations always get one scale per token (rows divided by their absmax before fbgemm's per-call scale).
Modes: ``kernels`` times single GEMMs; ``numerics`` prints logit differences against int8 on two stdlib
prompts; ``speed`` prefill tok/s at 512 and 2048 tokens; a number N runs latency_bench's weights check
(prefill/decode speed and HumanEval single-line pass@1 on N tasks).
"""

from __future__ import annotations

import asyncio
import email
import gc
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import latency_bench
import torch
import torch.nn.functional as F  # noqa: N812

from roost.engine.backends import transformers_backend as tb
from roost.engine.backends.cpu_int8 import DECODE_ROWS, Int8WeightLinear
from roost.engine.types import GenerationRequest

warnings.filterwarnings("ignore")  # torch 2.13 deprecates the quantized-tensor constructors
KINDS = {"qkv": ("q_proj", "k_proj", "v_proj"), "o": ("o_proj",), "gateup": ("gate_proj", "up_proj")}
KINDS["down"] = ("down_proj",)
LIB = Path(email.__file__).parent.parent
CALIBRATION = (("argparse.py", 20000), ("json/decoder.py", 0), ("subprocess.py", 40000))


class W8A8Linear(torch.nn.Module):
    def __init__(self, layer: Int8WeightLinear, amax: torch.Tensor, spec: str) -> None:
        super().__init__()
        _kinds, alpha, rr, wmax, outliers = spec.split(":")
        weight = layer.dequantized()
        self.decode = layer
        smooth = torch.ones(weight.shape[1])
        if alpha != "none":
            a, w = amax.clamp(min=1e-5), weight.abs().amax(0).clamp(min=1e-5)
            smooth = (a ** float(alpha) / w ** (1 - float(alpha))).clamp(min=1e-5)
        self.inv_smooth, self.smoothed = 1.0 / smooth, alpha != "none"
        weight = weight * smooth[None, :]
        self.outliers: torch.Tensor | None = None
        if int(outliers):
            self.outliers = (amax * self.inv_smooth).topk(int(outliers)).indices
            self.outlier_weight = weight[:, self.outliers].contiguous()
            weight[:, self.outliers] = 0
        scale = (weight.abs().amax(1) / int(wmax)).clamp(min=1e-12).double()
        zeros = torch.zeros(weight.shape[0], dtype=torch.long)
        packed = torch.quantize_per_channel(weight, scale, zeros, 0, torch.qint8)
        self.packed = torch.ops.quantized.linear_prepack(packed, None)
        self.bias, self.reduce_range = layer.bias, rr == "rr"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        if x.shape[0] <= DECODE_ROWS:
            return self.decode(x).reshape(*shape[:-1], -1)
        if self.smoothed:
            x = x * self.inv_smooth
        extra = None
        if self.outliers is not None:
            extra = x[:, self.outliers] @ self.outlier_weight.T
            x = x.clone()
            x[:, self.outliers] = 0
        token_max = x.abs().amax(1, keepdim=True).clamp_(min=1e-6)
        out = torch.ops.quantized.linear_dynamic(x / token_max, self.packed, self.reduce_range).mul_(
            token_max
        )
        if extra is not None:
            out += extra
        if self.bias is not None:
            out += self.bias
        return out.reshape(*shape[:-1], -1)


def convert(model: Any, tokenizer: Any, spec: str) -> None:
    kinds = spec.split(":")[0]
    names = tuple(k for kind in (list(KINDS) if kinds == "all" else kinds.split(",")) for k in KINDS[kind])
    layers = {n: m for n, m in model.named_modules() if isinstance(m, Int8WeightLinear) and n.endswith(names)}
    amax: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Any:
        def record(_module: Any, inputs: Any, _out: Any) -> None:
            a = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            amax[name] = torch.maximum(amax[name], a) if name in amax else a

        return record

    hooks = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    with torch.inference_mode():
        for file, start in CALIBRATION:
            model(torch.tensor([tokenizer.encode((LIB / file).read_text()[start : start + 4000])[:512]]))
    for handle in hooks:
        handle.remove()
    for name, layer in layers.items():
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, W8A8Linear(layer, amax[name], spec))


def load(spec: str) -> Any:
    backend = tb.TransformersBackend.load(tb.TransformersOptions(cpu_weights="int8"))
    if spec != "int8":
        convert(backend.loaded.model, backend.loaded.tokenizer, spec)
    return backend


async def prefill(backend: Any, tokens: int, rounds: int = 3) -> list[tuple[int, float]]:
    text = (LIB / "email/_header_value_parser.py").read_text()
    tokenizer, timings = backend.loaded.tokenizer, []
    for round_ in range(rounds):
        start = 2000 + round_ * 25000
        prompt = tokenizer.decode(tokenizer.encode(text[start : start + tokens * 6])[:tokens])
        final = None
        async for chunk in backend.generate(
            GenerationRequest(prompt=prompt, max_new_tokens=1, temperature=0.0)
        ):
            final = chunk
        timings.append((final.timings.prompt_tokens, final.timings.prefill_s))
    return timings


def kernels() -> None:
    def median_ms(fn: Any, *args: Any) -> float:
        fn(*args)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    for rows in (512, 1024):
        for k, n in ((896, 896), (896, 128), (896, 4864), (4864, 896)):
            layer, x = Int8WeightLinear(torch.randn(n, k) * 0.02, None), torch.randn(rows, k)
            fast = W8A8Linear(layer, x.abs().amax(0), "all:none:full:63:0")
            w = layer.dequantized()
            with torch.inference_mode():
                row = {"int8": median_ms(layer, x), "fp32": median_ms(F.linear, x, w)}
                row["w8a8_per_token"] = median_ms(fast, x)
            print(f"{rows}x{k}x{n}", {key: round(v, 2) for key, v in row.items()}, flush=True)


def numerics(specs: list[str]) -> None:
    prompts = [("email/_header_value_parser.py", 30000), ("inspect.py", 50000)]
    reference = None
    for spec in ["int8", *specs]:
        backend = load(spec)
        tokenizer, model = backend.loaded.tokenizer, backend.loaded.model
        with torch.inference_mode():
            ids = [
                torch.tensor([tokenizer.encode((LIB / f).read_text()[s : s + 4000])[:512]])
                for f, s in prompts
            ]
            logits = [model(i).logits[0] for i in ids]
        reference = reference or logits
        row = {
            f"p{i}": {
                "max_diff": round((g - r).abs().max().item(), 2),
                "mean_diff": round((g - r).abs().mean().item(), 3),
                "top1_agree": round((g.argmax(-1) == r.argmax(-1)).float().mean().item(), 3),
                "nll": round(F.cross_entropy(g[:-1], tokens[0, 1:]).item(), 4),
            }
            for i, (g, r, tokens) in enumerate(zip(logits, reference, ids, strict=True))
        }
        print("NUMERICS", spec, json.dumps(row), flush=True)
        backend.scheduler.close()
        del backend, model
        gc.collect()


def main() -> None:
    mode, specs = sys.argv[1], sys.argv[2:]
    if mode == "kernels":
        return kernels()
    if mode == "numerics":
        return numerics([s for s in specs if s != "int8"])
    for spec in specs:
        if mode == "speed":
            backend = load(spec)
            for tokens in (512, 2048):
                res = asyncio.run(prefill(backend, tokens))
                rate = statistics.median(p / s for p, s in res)
                print(
                    "SPEED",
                    spec,
                    tokens,
                    [round(s, 2) for _, s in res],
                    f"median {rate:.1f} tok/s",
                    flush=True,
                )
            backend.scheduler.close()
            del backend
            gc.collect()
        else:
            original = tb.TransformersBackend.load
            tb.TransformersBackend.load = lambda *_a, _spec=spec, **_k: load(_spec)  # type: ignore[method-assign]
            try:
                result = latency_bench.weights_child("int8", int(mode))
            finally:
                tb.TransformersBackend.load = original  # type: ignore[method-assign]
            keys = ("pass_at_1", "passed", "prefill_tok_s", "decode_tok_s", "prompt_tokens", "rss_loaded_mib")
            print("PASS", spec, json.dumps({k: result[k] for k in keys}), flush=True)


if __name__ == "__main__":
    main()
