"""Probe: the output layer's 4-bit screen on greedy CPU decode steps (engine/backends/logits_screen.py).

Not product code. Loads the product's model as the server does (bundled Qwen2.5-Coder-0.5B, int8 CPU weights,
the screen attached) and checks the screen two ways:

1. **Same argmax**: the final hidden states of every position of ``--files`` stdlib modules (``--tokens`` each,
   one prefill) go through the int8 output layer and through the screened one (16 rows a call, as the
   decode path takes them); the argmaxes are compared (any difference is printed), and the worst rank the
   int8 argmax takes among the 4-bit logits is reported (the screen recounts the best ``CANDIDATES``).
2. **Same answers, time a token**: greedy first-line answers (``max_new_tokens`` 48, stop at a newline) through
   the scheduler's real path (speculation as in the product) at ``--answers`` cursors (a code line in the
   middle of each of the largest stdlib modules, ~900-token FIM prompts), with the screen on and off
   (``scheduler.logits_screen`` set to None), interleaved, the order alternating; the answers must be the same,
   and the decode seconds a token of each variant are compared. Each prompt is prefilled once before the
   variants (screen off), so both reuse it and compute its last position alone (a cold prefill computes it
   among the prompt's rows on AMX, whose bfloat16 rounding can change the first token).

    taskset -c 1 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/logits_screen_probe.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from decode_step_probe import stdlib_prompts

from roost.engine.backends.cpu_int4 import GROUP_SIZE, INT4PACK_MM
from roost.engine.backends.logits_screen import CANDIDATES, ScreenedOutputLayer
from roost.engine.types import GenerationRequest


def same_argmax(model: Any, tokenizer: Any, files: int, tokens: int) -> None:
    head = model.get_output_embeddings()
    assert isinstance(head, ScreenedOutputLayer), type(head)
    root = Path(__import__("email").__file__).parent.parent
    paths = sorted(root.glob("*.py"), key=lambda path: -path.stat().st_size)[:files]
    ranks: list[int] = []
    differences = 0
    for path in paths:
        ids = tokenizer.encode(path.read_text(encoding="utf-8", errors="replace"))[:tokens]
        with torch.inference_mode():
            hidden = model.model(torch.tensor([ids])).last_hidden_state[0]
            for start in range(0, hidden.shape[0], 16):
                rows = hidden[start : start + 16]
                exact = head.inner(rows)
                head.screen.argmax_only = True
                try:
                    screened = head(rows)
                finally:
                    head.screen.argmax_only = False
                flat = rows.to(torch.bfloat16)
                assert INT4PACK_MM is not None
                four_bit = INT4PACK_MM(flat, head.screen_int4, GROUP_SIZE, head.screen_scale_and_zero).float()
                best = exact.argmax(dim=-1)
                ranks += (four_bit > four_bit.gather(1, best[:, None])).sum(dim=-1).tolist()
                different = best != screened.argmax(dim=-1)
                differences += int(different.sum())
                for row in different.nonzero().flatten().tolist():
                    print(f"  DIFFERENT argmax: {path.name} position {start + row}", flush=True)
        print(f"  {path.name}: {len(ids)} positions", flush=True)
    ranks.sort()
    print(
        f"same argmax: {len(ranks) - differences} of {len(ranks)} positions; the int8 argmax's rank among the "
        f"4-bit logits: max {ranks[-1]}, p99.9 {ranks[int(len(ranks) * 0.999)]}, first at "
        f"{sum(rank == 0 for rank in ranks)} (the screen recounts the best {CANDIDATES})",
        flush=True,
    )


async def answer(backend: Any, prompt: str) -> tuple[str, float, int]:
    request = GenerationRequest(prompt=prompt, max_new_tokens=48, temperature=0.0, stop_sequences=("\n",))
    parts: list[str] = []
    decode_s, tokens = 0.0, 0
    async for chunk in backend.generate(request):
        parts.append(chunk.text)
        if chunk.timings is not None:
            decode_s, tokens = chunk.timings.decode_s, chunk.timings.generated_tokens
    return "".join(parts), decode_s, tokens


def same_answers(backend: Any, count: int) -> None:
    scheduler = backend.scheduler
    tokenizer = backend.loaded.tokenizer
    screen = scheduler.logits_screen
    seconds = {"screen": 0.0, "int8": 0.0}
    per_token: dict[str, list[float]] = {"screen": [], "int8": []}
    tokens_total = {"screen": 0, "int8": 0}
    identical = 0
    for index, ids in enumerate(stdlib_prompts(tokenizer, count, 900)):
        prompt = tokenizer.decode(ids)
        order = ("screen", "int8") if index % 2 == 0 else ("int8", "screen")
        # Prefilled once first, so both variants reuse the cached prompt and recompute its last position
        # alone: a cold prefill computes that position among the prompt's rows (AMX, bfloat16), whose
        # rounding can pick another first token than the one-row decode kernel.
        scheduler.logits_screen = None
        asyncio.run(answer(backend, prompt))
        texts = {}
        for name in order:
            scheduler.logits_screen = screen if name == "screen" else None
            calls = screen.screened_calls
            text, decode_s, tokens = asyncio.run(answer(backend, prompt))
            if name == "int8":
                assert screen.screened_calls == calls, "the int8 variant went through the screen"
            texts[name] = text
            seconds[name] += decode_s
            tokens_total[name] += tokens
            if tokens > 1:
                per_token[name].append(decode_s / (tokens - 1) * 1000.0)
        scheduler.logits_screen = screen
        same = texts["screen"] == texts["int8"]
        identical += same
        print(f"  cursor {index}: {'same' if same else 'DIFFERENT'} {texts['int8']!r} / {texts['screen']!r}")
    print(
        f"answers identical at {identical} of {count} cursors; decode ms a token (p50 over cursors): int8 "
        f"{statistics.median(per_token['int8']):.1f}, screen {statistics.median(per_token['screen']):.1f}; "
        f"total decode s int8 {seconds['int8']:.2f} vs screen {seconds['screen']:.2f} "
        f"({tokens_total['int8']} / {tokens_total['screen']} tokens)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=700)
    parser.add_argument("--answers", type=int, default=20)
    args = parser.parse_args()
    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    started = time.perf_counter()
    backend = load_transformers_backend(RoostConfig())
    print(f"loaded in {time.perf_counter() - started:.1f} s; threads {torch.get_num_threads()}", flush=True)
    if backend.scheduler.logits_screen is None:
        print("no logits screen on this model/device", file=sys.stderr)
        return 1
    same_argmax(backend.scheduler.model, backend.loaded.tokenizer, args.files, args.tokens)
    same_answers(backend, args.answers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
