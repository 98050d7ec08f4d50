"""Prompt packing cost per keystroke, with the real tokenizers.

Simulates typing at the end of a function in a large file (every keystroke adds a character to the
prefix) with a dozen context snippets, packs the prompt under a budget, and prints p50/p99 per call.
Baseline measured in the same run: one tokenization of the packed prompt (the least any packer that
checks its result with the real tokenizer must spend) and a naive packer (counts the whole rendered
prompt after every step of dropping lines). Also prints on how many keystrokes the prompt stays
byte-identical up to the cursor (what prefix-KV reuse needs).

    .venv/bin/python bench/prompt_pack_bench.py [--keystrokes 40] [--budgets 1024,2048,4096]
"""

from __future__ import annotations

import argparse
import statistics
import time

from roost.engine.prompts import (
    ContextSnippet,
    PackOptions,
    PromptInput,
    TekkenTokenCounter,
    make_format,
    pack,
)
from roost.engine.prompts.tokens import TokenCounter, default_token_counter


def module_source(name: str, functions: int) -> str:
    return "".join(
        f"def {name}_{i}(value, scale={i}):\n    '''Scale {name} {i}.'''\n    return value * scale + {i}\n\n"
        for i in range(functions)
    )


def workload() -> PromptInput:
    snippets = tuple(
        ContextSnippet(f"pkg/mod{i}.py", module_source(f"helper{i}", 5), score=1.0 - i / 20)
        for i in range(12)
    )
    prefix = (
        "import pkg\n\n" + module_source("local", 300) + "def target(x):\n    y = helper3_2(x)\n    return "
    )
    suffix = "\n\n" + module_source("after", 200)
    return PromptInput("pkg/main.py", "python", prefix, suffix, snippets, "demo")


def naive_pack(prompt_input: PromptInput, fmt, counter: TokenCounter, budget: int) -> str:  # type: ignore[no-untyped-def]
    """Drop a tenth of the prefix lines (top) or suffix lines (bottom) or the last snippet, recounting
    the whole rendered prompt after every step."""
    prefix_lines = prompt_input.prefix.split("\n")
    suffix_lines = prompt_input.suffix.split("\n")
    snippets = list(prompt_input.snippets)
    while True:
        current = prompt_input.with_parts(
            prefix="\n".join(prefix_lines), suffix="\n".join(suffix_lines), snippets=snippets
        )
        text = fmt.render(current).text
        if counter.count(text) <= budget:
            return text
        if len(prefix_lines) > 1 and counter.count(current.prefix) > budget * 0.35:
            del prefix_lines[: max(1, len(prefix_lines) // 10)]
        elif len(suffix_lines) > 1 and counter.count(current.suffix) > budget * 0.15:
            del suffix_lines[-max(1, len(suffix_lines) // 10) :]
        elif snippets:
            snippets.pop()
        elif len(prefix_lines) > 1:
            del prefix_lines[:1]
        elif len(suffix_lines) > 1:
            del suffix_lines[-1:]
        else:
            raise RuntimeError("the budget cannot hold even the cursor line")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(name: str, counter: TokenCounter, budgets: list[int], keystrokes: int) -> None:
    fmt = make_format("qwen2.5-coder")
    base = workload()
    typed = "helper3_1(y) + helper5_2(x) + local_7(y) * scale_factor(x, y)"
    for budget in budgets:
        pack_ms: list[float] = []
        # CPU time of this process: on a shared, loaded machine wall time mostly measures the neighbours.
        pack_cpu_ms: list[float] = []
        count_ms: list[float] = []
        texts: list[str] = []
        for k in range(keystrokes):
            prompt_input = base.with_parts(prefix=base.prefix + typed[: k % len(typed)])
            started, cpu_started = time.perf_counter(), time.process_time()
            packed = pack(prompt_input, fmt, counter, PackOptions(budget_tokens=budget))
            pack_ms.append((time.perf_counter() - started) * 1000)
            pack_cpu_ms.append((time.process_time() - cpu_started) * 1000)
            started = time.perf_counter()
            counter.count(packed.prompt.text)
            count_ms.append((time.perf_counter() - started) * 1000)
            assert packed.tokens <= budget
            texts.append(packed.prompt.text)
        naive_ms: list[float] = []
        for k in range(min(5, keystrokes)):
            prompt_input = base.with_parts(prefix=base.prefix + typed[:k])
            started = time.perf_counter()
            naive_pack(prompt_input, fmt, counter, budget)
            naive_ms.append((time.perf_counter() - started) * 1000)
        # Prefix-KV reuse needs the prompt up to the cursor (context + prefix) byte-identical between
        # keystrokes; the typed character itself and the suffix after it follow.
        stable = [
            later.startswith(earlier[: earlier.index("<|fim_suffix|>")])
            for earlier, later in zip(texts, texts[1:], strict=False)
        ]
        p50, p99 = statistics.median(pack_ms), percentile(pack_ms, 0.99)
        one_count = statistics.median(count_ms)
        print(
            f"{name:6} budget {budget:5}: pack p50 {p50:6.2f} ms p99 {p99:6.2f} ms (CPU p50 "
            f"{statistics.median(pack_cpu_ms):5.2f} ms) | one count of the result "
            f"{one_count:5.2f} ms (pack = {p50 / one_count:4.1f}x) | naive packer p50 "
            f"{statistics.median(naive_ms):7.2f} ms ({statistics.median(naive_ms) / p50:5.1f}x slower) | "
            f"prompt unchanged up to the cursor on {sum(stable) / len(stable):.0%} of keystrokes",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=40)
    parser.add_argument("--budgets", default="1024,2048,4096")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    run("qwen", default_token_counter(), budgets, args.keystrokes)
    run("tekken", TekkenTokenCounter.bundled(), budgets, args.keystrokes)


if __name__ == "__main__":
    main()
