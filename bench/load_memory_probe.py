"""Where the memory of a default-model load goes: RSS sampled every 20 ms, by load phase.

Loads the default model exactly as the server does (``TransformersBackend.load`` with the options
``roost serve`` passes for the default configuration: CPU, int8 weights) and prints, per phase, the
RSS at the phase's start and end and the peak inside it, split into anonymous memory (the heap: what
the process owns) and file-backed pages (the memory-mapped checkpoint: the kernel can drop them, but
they count in RSS and on a laptop they are real memory while resident).

    flock /tmp/cpu0.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python bench/load_memory_probe.py [--generate 1000] [--json out.json]
        ... bench/load_memory_probe.py --engine-dir /tmp/old/engine   # a baseline: git archive <rev> engine

Phases come from the loader's own progress messages and from wrapping the int8 conversion's steps
(``quantize_linear_layers``, ``store_embeddings_as_bfloat16``, ``_float32_parameters``,
``release_freed_memory``) in this process only. ``--cache-dir`` points at a model cache (default: the
one the server uses); a cache without the converted model measures the first run's conversion too.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MIB = 1 << 20


def rss_split() -> tuple[int, int]:
    """(anonymous, file-backed + shmem) resident bytes of this process, from /proc/self/status."""
    anon = file = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                anon = int(line.split()[1]) * 1024
            elif line.startswith(("RssFile:", "RssShmem:")):
                file += int(line.split()[1]) * 1024
    return anon, file


def peak_rss() -> int:
    """The kernel's high-water mark of this process's RSS (VmHWM): exact, where sampling may miss a spike."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Phase:
    name: str
    started: float
    start_rss: int
    peak_rss: int = 0
    peak_anon: int = 0
    peak_file: int = 0
    end_rss: int = 0
    seconds: float = 0.0


@dataclass
class Sampler:
    """A thread sampling RSS every ``interval`` seconds into the current phase."""

    interval: float = 0.02
    phases: list[Phase] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def phase(self, name: str) -> None:
        now = time.perf_counter()
        anon, file = rss_split()
        with self._lock:
            if self.phases:
                self._close(self.phases[-1], now, anon + file)
            self.phases.append(Phase(name, now, anon + file))
            self._sample(anon, file)

    def _close(self, phase: Phase, now: float, rss: int) -> None:
        phase.end_rss = rss
        phase.seconds = now - phase.started

    def _sample(self, anon: int, file: int) -> None:
        phase = self.phases[-1]
        if anon + file > phase.peak_rss:
            phase.peak_rss, phase.peak_anon, phase.peak_file = anon + file, anon, file

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            anon, file = rss_split()
            with self._lock:
                if self.phases:
                    self._sample(anon, file)

    def finish(self) -> None:
        self._stop.set()
        anon, file = rss_split()
        with self._lock:
            self._sample(anon, file)
            self._close(self.phases[-1], time.perf_counter(), anon + file)


def wrap(module: Any, name: str, sampler: Sampler, label: str) -> None:
    original: Callable[..., Any] = getattr(module, name)

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        sampler.phase(label)
        return original(*args, **kwargs)

    setattr(module, name, wrapped)


def generate(backend: Any, tokens: int, new_tokens: int, sampler: Sampler) -> dict[str, Any]:
    """One FIM request whose prefix is this repository's scheduler source cut to about ``tokens`` tokens;
    its answer (greedy: an A/B's answers must be equal) and prefill/decode speed."""
    import asyncio
    from pathlib import Path

    from roost.engine.types import GenerationRequest, collect_text

    source = (Path(__file__).resolve().parents[1] / "engine" / "scheduler.py").read_text(encoding="utf-8")
    prefix = source[: tokens * 4]  # about four characters a token for Python source
    prompt = f"<|fim_prefix|>{prefix}<|fim_suffix|>\n<|fim_middle|>"
    sampler.phase(f"first request ({backend.count_tokens(prompt)} prompt tokens, {new_tokens} new)")
    request = GenerationRequest(prompt=prompt, max_new_tokens=new_tokens, stop_sequences=())
    text, final = asyncio.run(collect_text(backend, request))
    sampler.phase("after the request")
    time.sleep(1.0)
    timings = final.timings
    return {
        "answer": text,
        "prompt_tokens": timings.prompt_tokens,
        "generated_tokens": timings.generated_tokens,
        "prefill_tok_s": timings.prompt_tokens / timings.prefill_s if timings.prefill_s else 0.0,
        "decode_tok_s": timings.decode_tokens_per_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache-dir", default=None, help="model cache (default: the server's)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument(
        "--engine-dir",
        default=None,
        help="load roost.engine's modules from this copy of engine/ (a baseline: `git archive <rev> engine`)",
    )
    parser.add_argument(
        "--main-thread", action="store_true", help="load on the main thread (the server loads in an executor)"
    )
    parser.add_argument(
        "--generate",
        type=int,
        default=0,
        metavar="TOKENS",
        help="after the load, one FIM request of about this many prompt tokens (the server's cold request)",
    )
    parser.add_argument("--new-tokens", type=int, default=16, help="tokens the --generate request decodes")
    args = parser.parse_args()
    if args.engine_dir:
        import roost.engine

        roost.engine.__path__.insert(0, os.path.abspath(args.engine_dir))

    sampler = Sampler()
    thread = threading.Thread(target=sampler.run, daemon=True)
    sampler.phase("python start")
    thread.start()
    started = time.perf_counter()
    sampler.phase("import torch, transformers, roost engine")
    import torch  # noqa: F401 - measured on purpose
    import transformers  # noqa: F401

    from roost.engine.backends import transformers_backend as tb

    for name, label in (
        ("quantize_linear_layers", "int8 conversion of the linear layers"),
        ("store_embeddings_as_bfloat16", "embedding table to bfloat16"),
        ("_float32_parameters", "other parameters to float32"),
        ("release_freed_memory", "gc + malloc_trim"),
        ("load_tokenizer", "tokenizer"),
    ):
        if hasattr(tb, name):
            wrap(tb, name, sampler, label)

    def progress(message: str, _fraction: float | None) -> None:
        if message.startswith("loading weights"):
            sampler.phase("from_pretrained (checkpoint read, model built)")
        elif message.startswith(("joining", "loading GGUF", "converting")):
            sampler.phase("first run: " + message.split("(")[0].strip())

    options = tb.TransformersOptions(cache_dir=args.cache_dir)  # the default configuration's options
    if args.main_thread:
        backend = tb.TransformersBackend.load(options, progress)
    else:  # as the server does: in a worker thread, whose allocations go to their own glibc arena
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            backend = pool.submit(tb.TransformersBackend.load, options, progress).result()
    load_seconds = time.perf_counter() - started
    print(f"engine modules from {os.path.dirname(tb.__file__)}")
    request: dict[str, Any] = {}
    if args.generate:
        sampler.phase("loaded (idle)")
        time.sleep(0.5)
        request = generate(backend, args.generate, args.new_tokens, sampler)
    sampler.phase("loaded (idle)")
    time.sleep(0.5)
    sampler.finish()

    print(f"{'phase':<52} {'start':>7} {'peak':>7} {'anon':>7} {'file':>7} {'end':>7} {'s':>6}  (MiB)")
    for phase in sampler.phases:
        print(
            f"{phase.name:<52} {phase.start_rss / MIB:7.0f} {phase.peak_rss / MIB:7.0f} "
            f"{phase.peak_anon / MIB:7.0f} {phase.peak_file / MIB:7.0f} {phase.end_rss / MIB:7.0f} "
            f"{phase.seconds:6.2f}"
        )
    load_phases = [p for p in sampler.phases if not p.name.startswith(("loaded", "first request", "after"))]
    load_peak = max(load_phases, key=lambda p: p.peak_rss)
    peak = max(sampler.phases, key=lambda p: p.peak_rss)
    steady = sampler.phases[-1].end_rss
    print(
        f"load peak {load_peak.peak_rss / MIB:.0f} MiB in '{load_peak.name}'; "
        f"peak {peak.peak_rss / MIB:.0f} MiB in '{peak.name}'; steady {steady / MIB:.0f} MiB; "
        f"load {load_seconds:.1f} s (imports included; the loader's own {backend.loaded.load_seconds:.1f} s); "
        f"kernel high-water mark (VmHWM) {peak_rss() / MIB:.0f} MiB"
    )
    if request:
        print(
            f"request: {request['prompt_tokens']} prompt tokens, prefill {request['prefill_tok_s']:.0f} tok/s; "
            f"{request['generated_tokens']} generated, decode {request['decode_tok_s']:.1f} tok/s; "
            f"answer {request['answer']!r}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "load_peak_mib": load_peak.peak_rss / MIB,
                    "peak_mib": peak.peak_rss / MIB,
                    "vm_hwm_mib": peak_rss() / MIB,
                    "peak_phase": peak.name,
                    "steady_mib": steady / MIB,
                    "load_seconds": load_seconds,
                    "loader_seconds": backend.loaded.load_seconds,
                    "phases": [vars(p) for p in sampler.phases],
                    "request": request,
                    "pid": os.getpid(),
                },
                out,
                indent=1,
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
