"""GPU benchmark: a model with the exact published configuration of Mistral-Small-24B-Instruct-2501 and
random bf16 weights (weights do not change speed), on one CUDA GPU.

Figures (each with the GPU name), all measured in one run:

1. device copy bandwidth (a large device-to-device copy) and the batch-1 decode bound it implies:
   weight bytes / bandwidth seconds per token;
2. batch-1 decode tokens/s through Roost's scheduler (eager), as a fraction of that bound (target >= 75 %);
3. time to first token for a 2,000-token prompt;
4. throughput with 16 concurrent requests (continuous batching) vs batch 1;
5. torch.compile effect: (a) Roost's scheduler with ``compile="static"`` (its decode step in a
   fixed-shape static cache, compiled once with CUDA graphs) vs the eager scheduler, batch-1 decode and
   16-concurrent throughput; (b) batch-1 decode with a static cache + compiled forward (CUDA graphs,
   ``mode="reduce-overhead"``) via ``model.generate(cache_implementation="static")`` vs eager generate;
6. FP8 effect: the same model with transformers' fine-grained FP8 linear layers (Hopper/Ada), batch-1 decode
   and 16-concurrent throughput.

Needs ~60 GB of GPU memory for bf16 (an 80 GB H100 fits it). Not run in CI; it cannot run on a CPU machine.
Run: python bench/gpu_bench.py [--skip-compile] [--skip-fp8] [--layers N (fewer layers for a quick check)]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time

import torch

from roost.engine.scheduler import Scheduler, SchedulerOptions
from roost.engine.tokenizer import MistralCommonTokenizer
from roost.engine.types import GenerationRequest, TextChunk

# The published config.json of mistralai/Mistral-Small-24B-Instruct-2501.
MISTRAL_SMALL_24B_2501 = {
    "architectures": ["MistralForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 5120,
    "initializer_range": 0.02,
    "intermediate_size": 32768,
    "max_position_embeddings": 32768,
    "model_type": "mistral",
    "num_attention_heads": 32,
    "num_hidden_layers": 40,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "rope_theta": 100000000.0,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 131072,
}


# "cuda" for real runs; --dry-run-cpu switches to "cpu" with a tiny config to check the script's code paths.
DEVICE = "cuda"
TINY_OVERRIDES = {
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
}


def sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def say(message: str) -> None:
    print(message, flush=True)


def mistral_config(layers: int | None):
    from transformers import MistralConfig

    settings = dict(MISTRAL_SMALL_24B_2501)
    if layers:
        settings["num_hidden_layers"] = layers
    return MistralConfig(**settings)


def random_bf16_model(config) -> torch.nn.Module:
    from transformers import MistralForCausalLM

    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = MistralForCausalLM._from_config(config, dtype=torch.bfloat16, attn_implementation="sdpa")
    return model.eval()


def random_fp8_model(config) -> torch.nn.Module:
    """The FP8 model as transformers builds it for a pre-quantized FP8 checkpoint, filled with random
    FP8 weights and unit scales (no 47 GB checkpoint needs to exist on disk)."""
    from transformers import FineGrainedFP8Config, MistralForCausalLM
    from transformers.integrations.finegrained_fp8 import replace_with_fp8_linear

    quantization = FineGrainedFP8Config()
    with torch.device("meta"):
        model = MistralForCausalLM._from_config(config, dtype=torch.bfloat16, attn_implementation="sdpa")
    model = replace_with_fp8_linear(model, ["lm_head"], quantization_config=quantization, pre_quantized=True)
    model = model.to_empty(device=DEVICE)
    generator = torch.Generator(device=DEVICE).manual_seed(0)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if tensor.dtype == torch.float8_e4m3fn:
                noise = (
                    torch.randn(tensor.shape, device=DEVICE, dtype=torch.bfloat16, generator=generator) * 8
                )
                tensor.copy_(noise.to(torch.float8_e4m3fn))
            elif "scale" in name:
                tensor.fill_(1.0 / 400)  # random fp8 weights of magnitude ~8 scaled to ~0.02
            elif "norm" in name:
                tensor.fill_(1.0)
            elif tensor.is_floating_point():
                tensor.normal_(0.0, 0.02, generator=generator)
    model.model.rotary_emb.__init__(config, device=DEVICE)  # recompute the (meta) rotary buffers
    return model.eval()


def weight_bytes(model: torch.nn.Module) -> int:
    # The embedding table is read one row per token, so it does not count towards the per-token read.
    embedding = model.get_input_embeddings().weight
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for n, b in model.named_buffers() if "scale" in n)
    return total - embedding.numel() * embedding.element_size()


def copy_bandwidth(gigabytes: float = 4.0) -> float:
    """Bytes/s of a device-to-device copy (each byte read once and written once)."""
    elements = int(gigabytes * 2**30 / 2)
    source = torch.empty(elements, dtype=torch.bfloat16, device=DEVICE)
    target = torch.empty_like(source)
    for _ in range(3):
        target.copy_(source)
    sync()
    runs = []
    for _ in range(10):
        start = time.perf_counter()
        target.copy_(source)
        sync()
        runs.append(time.perf_counter() - start)
    del source, target
    return 2 * elements * 2 / statistics.median(runs)


async def run(scheduler: Scheduler, request: GenerationRequest) -> TextChunk:
    async for chunk in scheduler.generate(request):
        if chunk.is_final:
            return chunk
    raise RuntimeError("stream ended without a final chunk")


def random_ids(length: int, seed: int) -> tuple[int, ...]:
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randint(1000, 131000, (length,), generator=generator).tolist())


async def scheduler_figures(
    model: torch.nn.Module, tokenizer: MistralCommonTokenizer, label: str, **options: object
) -> dict[str, float]:
    scheduler = Scheduler(
        model,
        tokenizer,
        SchedulerOptions(max_batch_size=16, prefix_cache_bytes=0, **options),  # type: ignore[arg-type]
    )
    try:
        await run(
            scheduler, GenerationRequest(prompt_token_ids=random_ids(64, 0), max_new_tokens=8)
        )  # warm-up
        single = await run(
            scheduler, GenerationRequest(prompt_token_ids=random_ids(128, 1), max_new_tokens=256)
        )
        ttfts = []
        for seed in range(3):
            final = await run(
                scheduler, GenerationRequest(prompt_token_ids=random_ids(2000, 10 + seed), max_new_tokens=1)
            )
            ttfts.append(final.timings.first_token_s)
        requests = [
            GenerationRequest(prompt_token_ids=random_ids(200, 100 + i), max_new_tokens=128)
            for i in range(16)
        ]
        started = time.perf_counter()
        finals = await asyncio.gather(*(run(scheduler, r) for r in requests))
        elapsed = time.perf_counter() - started
    finally:
        scheduler.close()
    figures = {
        "decode_tok_s": single.timings.decode_tokens_per_s,
        "ttft_2000_s": statistics.median(ttfts),
        "throughput_16_tok_s": sum(f.timings.generated_tokens for f in finals) / elapsed,
    }
    say(f"   [{label}] batch-1 decode through the scheduler: {figures['decode_tok_s']:.1f} tok/s")
    say(f"   [{label}] TTFT, 2,000-token prompt: {figures['ttft_2000_s'] * 1000:.0f} ms")
    say(
        f"   [{label}] 16 concurrent requests (200-token prompts, 128 new tokens): {figures['throughput_16_tok_s']:.0f} tok/s"
    )
    return figures


def generate_decode_rate(model: torch.nn.Module, static: bool, new_tokens: int = 256) -> float:
    input_ids = torch.tensor([random_ids(128, 2)], device=DEVICE)
    kwargs = {"cache_implementation": "static"} if static else {}
    for _ in range(2):  # warm-up (and, compiled, the graph captures)
        model.generate(input_ids, max_new_tokens=16, min_new_tokens=16, do_sample=False, **kwargs)
    sync()
    start = time.perf_counter()
    model.generate(input_ids, max_new_tokens=1, min_new_tokens=1, do_sample=False, **kwargs)
    sync()
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    model.generate(input_ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, **kwargs)
    sync()
    return (new_tokens - 1) / (time.perf_counter() - start - prefill)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--layers", type=int, default=None, help="fewer layers for a quick check (default: all 40)"
    )
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-fp8", action="store_true")
    parser.add_argument(
        "--dry-run-cpu",
        action="store_true",
        help="tiny config on CPU: checks the script, measures nothing useful",
    )
    args = parser.parse_args()
    if args.dry_run_cpu:
        return dry_run_cpu()
    if not torch.cuda.is_available():
        say("gpu_bench needs a CUDA GPU; none is visible (this benchmark is not for CPU machines).")
        return 2

    gpu = torch.cuda.get_device_name()
    say(
        f"GPU: {gpu} (compute capability {'.'.join(map(str, torch.cuda.get_device_capability()))}), torch {torch.__version__}"
    )
    bandwidth = copy_bandwidth()
    say(f"1. device copy bandwidth: {bandwidth / 1e9:.0f} GB/s")

    config = mistral_config(args.layers)
    tokenizer = MistralCommonTokenizer.bundled_tekken()
    model = random_bf16_model(config)
    weights = weight_bytes(model)
    bound = bandwidth / weights
    say(f"   bf16 weights read per token: {weights / 1e9:.1f} GB -> batch-1 decode bound {bound:.1f} tok/s")

    say("2-4. bf16, eager, Roost scheduler")
    bf16 = asyncio.run(scheduler_figures(model, tokenizer, "bf16"))
    say(f"   batch-1 decode = {bf16['decode_tok_s'] / bound:.0%} of the bandwidth bound (target >= 75%)")
    say(f"   16 concurrent vs batch 1: {bf16['throughput_16_tok_s'] / bf16['decode_tok_s']:.1f}x")

    if not args.skip_compile:
        say("5a. Roost scheduler with compile='static' (static cache of 16 x 4096, decode step compiled)")
        static = asyncio.run(scheduler_figures(model, tokenizer, "bf16 static", static_cache_tokens=4096))
        say(
            f"   vs eager scheduler: batch-1 decode {static['decode_tok_s'] / bf16['decode_tok_s']:.2f}x "
            f"({static['decode_tok_s'] / bound:.0%} of bound), 16-concurrent "
            f"{static['throughput_16_tok_s'] / bf16['throughput_16_tok_s']:.2f}x"
        )
        torch._dynamo.reset()
        say("5b. torch.compile (static cache, reduce-overhead) vs eager, batch-1 model.generate")
        eager = generate_decode_rate(model, static=False)
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
        compiled = generate_decode_rate(model, static=True)
        say(
            f"   eager: {eager:.1f} tok/s ({eager / bound:.0%} of bound); compiled: {compiled:.1f} tok/s "
            f"({compiled / bound:.0%} of bound); speed-up {compiled / eager:.2f}x"
        )

    del model
    gc.collect()
    torch.cuda.empty_cache()

    if not args.skip_fp8:
        major, minor = torch.cuda.get_device_capability()
        if (major, minor) < (8, 9):
            say(f"6. FP8 skipped: needs compute capability >= 8.9, this GPU is {major}.{minor}")
        else:
            say("6. FP8 (fine-grained FP8 linear layers), Roost scheduler")
            fp8_model = random_fp8_model(config)
            fp8_weights = weight_bytes(fp8_model)
            say(
                f"   fp8 weights read per token: {fp8_weights / 1e9:.1f} GB -> bound {bandwidth / fp8_weights:.1f} tok/s"
            )
            fp8 = asyncio.run(scheduler_figures(fp8_model, tokenizer, "fp8"))
            say(
                f"   fp8 vs bf16: decode {fp8['decode_tok_s'] / bf16['decode_tok_s']:.2f}x, "
                f"TTFT {bf16['ttft_2000_s'] / fp8['ttft_2000_s']:.2f}x faster, "
                f"16-concurrent {fp8['throughput_16_tok_s'] / bf16['throughput_16_tok_s']:.2f}x"
            )
    say(f"(all figures on {gpu})")
    return 0


def dry_run_cpu() -> int:
    global DEVICE
    DEVICE = "cpu"
    config = mistral_config(None)
    for key, value in TINY_OVERRIDES.items():
        setattr(config, key, value)
    say(f"dry run on CPU, tiny config; copy bandwidth {copy_bandwidth(0.25) / 1e9:.1f} GB/s")
    model = random_bf16_model(config)
    say(f"weights read per token: {weight_bytes(model) / 1e6:.1f} MB")
    asyncio.run(scheduler_figures(model, MistralCommonTokenizer.bundled_tekken(), "dry run"))
    asyncio.run(
        scheduler_figures(
            model, MistralCommonTokenizer.bundled_tekken(), "dry run, static", static_cache_tokens=2304
        )
    )
    say(f"eager generate: {generate_decode_rate(model, static=False, new_tokens=16):.1f} tok/s")
    say(f"static-cache generate: {generate_decode_rate(model, static=True, new_tokens=16):.1f} tok/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
