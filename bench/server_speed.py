"""Probe: tokens/s of one FIM request on a model server (OpenAI-compatible, through Roost's HTTP backend)
against the in-process engine (the product's default: int8 CPU weights), for the same prompt.

Not product code. The prompt is the bundled model's FIM prompt (Qwen2.5-Coder, prefix first, as a model
server gets it) of a fixed cursor in a stdlib module; greedy, ``--max-tokens`` at most. Each run reports the
first token's wait (prefill of the whole prompt), the decode rate after it and the answer's start, so both
sides can be checked to generate the same text. Pin both to the same single core::

    taskset -c 1 .venv/bin/python bench/server_speed.py --endpoint http://127.0.0.1:8089 --runs 3
    taskset -c 1 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/server_speed.py --runs 3

A streamed chunk of the server is counted as one token (llama.cpp sends one a token); the in-process
engine's counts are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sysconfig
import time
from pathlib import Path

from roost.engine.prompts import PromptInput, make_format
from roost.engine.types import Backend, GenerationRequest

CURSOR_LINE = "def _splitext"  # genericpath.py: a cursor inside a function of a real module


def fim_request(max_tokens: int, prefix_chars: int) -> GenerationRequest:
    source = (Path(sysconfig.get_paths()["stdlib"]) / "genericpath.py").read_text(encoding="utf-8")
    cut = source.index(CURSOR_LINE)
    cut = source.index("\n", cut) + 1 + len("    ")
    prompt_input = PromptInput(
        "genericpath.py", "python", source[max(0, cut - prefix_chars) : cut], source[cut:][:600]
    )
    request = make_format("qwen2.5-coder").render(prompt_input).to_request(max_new_tokens=max_tokens)
    return GenerationRequest(
        prompt=request.prompt,
        max_new_tokens=max_tokens,
        temperature=0.0,
        stop_token_strings=request.stop_token_strings,
    )


def load_backend(endpoint: str | None, model: str) -> Backend:
    if endpoint:
        from roost.engine.backends.openai_http import (
            OpenAIHTTPBackend,
            OpenAIHTTPOptions,
            base_url_from_endpoint,
        )

        options = OpenAIHTTPOptions(
            base_url=base_url_from_endpoint(endpoint), model=model, read_timeout_s=300.0
        )
        return OpenAIHTTPBackend(options)
    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    return load_transformers_backend(RoostConfig())


async def one_run(backend: Backend, request: GenerationRequest) -> tuple[float, float, int, str]:
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    tokens = 0
    async for chunk in backend.generate(request):
        if chunk.text:
            first = first or time.perf_counter()
            pieces.append(chunk.text)
        if chunk.is_final and chunk.timings is not None:
            tokens = chunk.timings.generated_tokens
    ended = time.perf_counter()
    first = first or ended
    return first - started, (tokens - 1) / max(ended - first, 1e-9), tokens, "".join(pieces)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", help="an OpenAI-compatible server; without it: the in-process engine")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--prefix-chars", type=int, default=1500)
    args = parser.parse_args()
    backend = load_backend(args.endpoint, args.model)
    request = fim_request(args.max_tokens, args.prefix_chars)
    print(f"backend {backend.name}; prompt {len(request.prompt or '')} chars; max_tokens {args.max_tokens}")
    await one_run(backend, request)  # warm-up: the first request pays one-off costs (allocations)
    firsts, rates = [], []
    for run in range(args.runs):
        # A different first character each run, so no prompt cache serves the prefill.
        fresh = GenerationRequest(
            prompt=f"#{run}\n" + (request.prompt or ""),
            max_new_tokens=request.max_new_tokens,
            temperature=0.0,
            stop_token_strings=request.stop_token_strings,
        )
        first, rate, tokens, text = await one_run(backend, fresh)
        firsts.append(first)
        rates.append(rate)
        print(
            f"run {run}: first token {first:.2f} s, decode {rate:.1f} tok/s over {tokens} tokens: {text[:60]!r}"
        )
    print(
        f"median: first token {statistics.median(firsts):.2f} s, decode {statistics.median(rates):.1f} tok/s"
    )
    await backend.aclose()


if __name__ == "__main__":
    asyncio.run(main())
